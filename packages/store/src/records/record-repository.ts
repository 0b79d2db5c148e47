import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import {
  ProblemError,

  findObject,
  isSearchable,
  liveFields,
  toApiRecord,
  validateRecordInput,
  type FieldDef,
  type ObjectDef,
  type PublishedApp,
} from '@tessera/metadata';
import { compileFilterToSql, fieldSqlExpression, type EvalEnv, type Expr } from '@tessera/expr';
import type { SystemDatabase } from '../db/schema';
import { isoString, sqlState, type Actor } from '../common/actor';
import { fragmentToSql } from './sql-fragment';
import { afterCursorSql, decodeCursor, encodeCursor, orderBySql, parseSort } from './sort';

export interface ApiRecord {
  id: string;
  version: number;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
  owner_id: string | null;
  [fieldKey: string]: unknown;
}

export interface ListQuery {
  filter?: Expr;
  /** `field,-field` */
  sort?: string;
  /** 1..200, default 50 */
  limit?: number;
  cursor?: string;
  /** text search over the object's searchable fields (substring, Chinese included) */
  q?: string;
}

export interface ListResult {
  items: ApiRecord[];
  nextCursor: string | null;
}

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

interface RecordRow {
  id: string;
  version: number;
  data: Record<string, unknown>;
  owner_id: string | null;
  created_at: Date | string;
  created_by: string | null;
  updated_at: Date | string;
  updated_by: string | null;
}

export const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 50;

/**
 * Reads and writes the records of one published app version. Values arrive and leave
 * keyed by field key and are stored by field id. Every statement is scoped by
 * workspace and object; every write is one transaction with its history row.
 */
export class RecordRepository {
  constructor(
    private readonly db: Kysely<SystemDatabase>,
    readonly app: PublishedApp,
  ) {}

  async create(actor: Actor, objectKey: string, input: unknown): Promise<ApiRecord> {
    const object = this.object(objectKey);
    const values = validateRecordInput(object, input, 'create');
    return this.db.transaction().execute(async (trx) => {
      await this.checkReferences(trx, actor.workspaceId, object, values);
      await this.checkUnique(trx, actor.workspaceId, object, values, null);
      const id = uuidv7();
      const row = await this.guardUnique(actor.workspaceId, object, values, () =>
        trx
          .insertInto('records')
          .values({
            workspace_id: actor.workspaceId,
            object_id: object.id!,
            id,
            data: JSON.stringify(values),
            search_text: searchText(object, values),
            owner_id: actor.userId,
            created_by: actor.userId,
            updated_by: actor.userId,
          })
          .returning(RETURNED)
          .executeTakeFirstOrThrow(),
      );
      await this.history(trx, actor, object, id, 1, 'create', diff({}, values));
      return this.toApi(object, row);
    });
  }

  async get(workspaceId: string, objectKey: string, id: string): Promise<ApiRecord> {
    const object = this.object(objectKey);
    const row = await this.findRow(this.db, workspaceId, object, id, false);
    return this.toApi(object, row);
  }

  /** Optimistic update: applies only if the record is still at `expectedVersion`. */
  async update(actor: Actor, objectKey: string, id: string, patch: unknown, expectedVersion: number): Promise<ApiRecord> {
    const object = this.object(objectKey);
    const changes = validateRecordInput(object, patch, 'update');
    return this.db.transaction().execute(async (trx) => {
      const current = await this.findRow(trx, actor.workspaceId, object, id, true);
      if (current.version !== expectedVersion) throw staleVersion(id, expectedVersion, current.version);
      const next = merge(current.data, changes);
      await this.checkReferences(trx, actor.workspaceId, object, changes);
      await this.checkUnique(trx, actor.workspaceId, object, changes, id);
      const row = await this.guardUnique(actor.workspaceId, object, changes, () =>
        trx
          .updateTable('records')
          .set({
            data: JSON.stringify(next),
            search_text: searchText(object, next),
            version: current.version + 1,
            updated_at: new Date(),
            updated_by: actor.userId,
          })
          .where('workspace_id', '=', actor.workspaceId)
          .where('id', '=', id)
          .where('version', '=', expectedVersion)
          .returning(RETURNED)
          .executeTakeFirstOrThrow(),
      );
      await this.history(trx, actor, object, id, row.version, 'update', diff(current.data, next));
      return this.toApi(object, row);
    });
  }

  /** Soft delete: the record leaves every list and read, and `restore` brings it back whole. */
  async delete(actor: Actor, objectKey: string, id: string): Promise<void> {
    const object = this.object(objectKey);
    await this.db.transaction().execute(async (trx) => {
      const current = await this.findRow(trx, actor.workspaceId, object, id, true);
      await trx
        .updateTable('records')
        .set({ deleted_at: new Date(), version: current.version + 1, updated_at: new Date(), updated_by: actor.userId })
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', id)
        .execute();
      await this.history(trx, actor, object, id, current.version + 1, 'delete', {});
    });
  }

  async restore(actor: Actor, objectKey: string, id: string): Promise<ApiRecord> {
    const object = this.object(objectKey);
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('records')
        .select(['id', 'version', 'data', 'deleted_at'])
        .where('workspace_id', '=', actor.workspaceId)
        .where('object_id', '=', object.id!)
        .where('id', '=', checkedUuid(id))
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw recordNotFound(object, id);
      if (current.deleted_at == null) {
        throw new ProblemError('conflict', 'The record is not deleted', [{ field: 'id', code: 'not_deleted', message: `${id} is not deleted` }]);
      }
      // A restored record must not break a unique field another record took meanwhile.
      await this.checkUnique(trx, actor.workspaceId, object, current.data, id);
      const row = await this.guardUnique(actor.workspaceId, object, current.data, () =>
        trx
          .updateTable('records')
          .set({ deleted_at: null, version: current.version + 1, updated_at: new Date(), updated_by: actor.userId })
          .where('workspace_id', '=', actor.workspaceId)
          .where('id', '=', id)
          .returning(RETURNED)
          .executeTakeFirstOrThrow(),
      );
      await this.history(trx, actor, object, id, row.version, 'restore', {});
      return this.toApi(object, row);
    });
  }

  async list(workspaceId: string, objectKey: string, query: ListQuery, env: EvalEnv): Promise<ListResult> {
    const object = this.object(objectKey);
    const limit = pageSize(query.limit);
    const keys = parseSort(object, query.sort);
    const conditions = this.conditions(workspaceId, object, query, env);
    if (query.cursor) conditions.push(afterCursorSql(keys, decodeCursor(keys, query.cursor)));
    const cursorColumns = sql.join(keys.map((k, i) => sql.raw(`(${k.expression})::text AS s${i}`)));
    const result = await sql<RecordRow & Record<string, unknown>>`
      SELECT id, version, data, owner_id, created_at, created_by, updated_at, updated_by, ${cursorColumns}
      FROM records
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY ${orderBySql(keys)}
      LIMIT ${limit + 1}`
      .execute(this.db)
      .catch((e: unknown) => {
        // A cursor is opaque but client-held: a tampered value fails its cast (SQLSTATE class 22).
        if (query.cursor && sqlState(e)?.startsWith('22')) {
          throw new ProblemError('bad_request', 'Invalid cursor', [{ field: 'cursor', code: 'invalid', message: 'the cursor holds a value of the wrong type' }]);
        }
        throw e;
      });
    const rows = result.rows;
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    const nextCursor = hasMore && last ? encodeCursor(keys, keys.map((_, i) => (last[`s${i}`] ?? null) as unknown)) : null;
    return { items: page.map((r) => this.toApi(object, r)), nextCursor };
  }

  async count(workspaceId: string, objectKey: string, query: Pick<ListQuery, 'filter' | 'q'>, env: EvalEnv): Promise<number> {
    const object = this.object(objectKey);
    const conditions = this.conditions(workspaceId, object, query, env);
    const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM records WHERE ${sql.join(conditions, sql` AND `)}`.execute(this.db);
    return result.rows[0]?.n ?? 0;
  }

  /** The published object for a key; soft-deleted objects are gone from the API. */
  object(objectKey: string): ObjectDef {
    const object = findObject(this.app.document, objectKey);
    if (!object || !object.id) throw new ProblemError('not_found', `Object "${objectKey}" not found in app "${this.app.appKey}"`);
    return object;
  }

  private conditions(workspaceId: string, object: ObjectDef, query: Pick<ListQuery, 'filter' | 'q'>, env: EvalEnv): RawBuilder<unknown>[] {
    const conditions: RawBuilder<unknown>[] = [
      sql`workspace_id = ${workspaceId}`,
      sql`object_id = ${object.id!}`,
      sql`deleted_at IS NULL`,
    ];
    if (query.filter !== undefined && query.filter !== null) {
      conditions.push(sql`(${fragmentToSql(compileFilterToSql(query.filter, { object }, env))})`);
    }
    const q = query.q?.trim();
    if (q) conditions.push(sql`search_text ILIKE ${'%' + escapeLike(q.toLowerCase()) + '%'}`);
    return conditions;
  }

  private async findRow(db: Db, workspaceId: string, object: ObjectDef, id: string, lock: boolean): Promise<RecordRow> {
    let query = db
      .selectFrom('records')
      .select(RETURNED)
      .where('workspace_id', '=', workspaceId)
      .where('object_id', '=', object.id!)
      .where('id', '=', checkedUuid(id))
      .where('deleted_at', 'is', null);
    if (lock) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) throw recordNotFound(object, id);
    return row;
  }

  /** Relations and user fields must point at something that exists in this workspace. */
  private async checkReferences(db: Db, workspaceId: string, object: ObjectDef, values: Record<string, unknown>): Promise<void> {
    for (const field of liveFields(object)) {
      const value = values[field.id!];
      if (typeof value !== 'string') continue;
      if (field.type === 'relation') {
        const target = findObject(this.app.document, field.target ?? '');
        const found = target?.id
          ? await db
              .selectFrom('records')
              .select('id')
              .where('workspace_id', '=', workspaceId)
              .where('object_id', '=', target.id)
              .where('id', '=', value)
              .where('deleted_at', 'is', null)
              .executeTakeFirst()
          : undefined;
        if (!found) throw badReference(field, `no ${field.target} record with id ${value}`);
      } else if (field.type === 'user') {
        const found = await db.selectFrom('users').select('id').where('workspace_id', '=', workspaceId).where('id', '=', value).executeTakeFirst();
        if (!found) throw badReference(field, `no user with id ${value}`);
      }
    }
  }

  /** Names the record that already holds a unique value, which the bare index error cannot. */
  private async checkUnique(db: Db, workspaceId: string, object: ObjectDef, values: Record<string, unknown>, selfId: string | null): Promise<void> {
    for (const field of liveFields(object)) {
      if (!field.unique) continue;
      const value = values[field.id!];
      if (value === undefined || value === null) continue;
      const existing = await this.holderOf(db, workspaceId, object, field, value, selfId);
      if (existing) throw duplicate(field, existing);
    }
  }

  private async holderOf(db: Db, workspaceId: string, object: ObjectDef, field: FieldDef, value: unknown, selfId: string | null): Promise<string | null> {
    // Compare through the same expression as the unique index, so both agree on "equal".
    const probe = JSON.stringify({ [field.id!]: value });
    const result = await sql<{ id: string }>`
      SELECT id FROM records
      WHERE workspace_id = ${workspaceId} AND object_id = ${object.id!} AND deleted_at IS NULL
        AND ${sql.raw(fieldSqlExpression(field))} = (SELECT ${sql.raw(fieldSqlExpression(field))} FROM (SELECT ${probe}::jsonb AS data) AS probe)
        ${selfId ? sql`AND id <> ${selfId}` : sql``}
      LIMIT 1`.execute(db);
    return result.rows[0]?.id ?? null;
  }

  /** A concurrent writer can win the race after our check; the unique index then decides. */
  private async guardUnique<T>(workspaceId: string, object: ObjectDef, values: Record<string, unknown>, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (sqlState(e) !== '23505') throw e;
      const field = liveFields(object).find((f) => f.unique && values[f.id!] !== undefined && values[f.id!] !== null);
      if (!field) throw e;
      const existing = await this.holderOf(this.db, workspaceId, object, field, values[field.id!], null);
      throw duplicate(field, existing);
    }
  }

  private async history(
    trx: Transaction<SystemDatabase>,
    actor: Actor,
    object: ObjectDef,
    recordId: string,
    version: number,
    action: 'create' | 'update' | 'delete' | 'restore',
    changes: Record<string, { before?: unknown; after?: unknown }>,
  ): Promise<void> {
    await trx
      .insertInto('record_history')
      .values({
        workspace_id: actor.workspaceId,
        id: uuidv7(),
        record_id: recordId,
        object_id: object.id!,
        version,
        action,
        changes: JSON.stringify(changes),
        actor_id: actor.userId,
        source: actor.source,
      })
      .execute();
  }

  private toApi(object: ObjectDef, row: RecordRow): ApiRecord {
    return {
      ...toApiRecord(object, row.data),
      id: row.id,
      version: row.version,
      created_at: isoString(row.created_at) ?? '',
      updated_at: isoString(row.updated_at) ?? '',
      created_by: row.created_by,
      updated_by: row.updated_by,
      owner_id: row.owner_id,
    };
  }
}

const RETURNED = ['id', 'version', 'data', 'owner_id', 'created_at', 'created_by', 'updated_at', 'updated_by'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkedUuid(id: string): string {
  if (!UUID.test(id)) throw new ProblemError('not_found', `Record ${JSON.stringify(id)} not found`, [{ field: 'id', code: 'invalid', message: 'record ids are UUIDs' }]);
  return id;
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ProblemError('bad_request', 'Invalid limit', [{ field: 'limit', code: 'range', message: `limit must be an integer from 1 to ${MAX_PAGE_SIZE}` }]);
  }
  return limit;
}

/** null in a patch clears the field: the key leaves the stored document. */
function merge(data: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...data };
  for (const [id, value] of Object.entries(changes)) {
    if (value === null) delete next[id];
    else next[id] = value;
  }
  return next;
}

function diff(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { before?: unknown; after?: unknown }> {
  const changes: Record<string, { before?: unknown; after?: unknown }> = {};
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[id]) === JSON.stringify(after[id])) continue;
    changes[id] = { before: before[id] ?? null, after: after[id] ?? null };
  }
  return changes;
}

/** Lower-cased so ILIKE's case folding is the only folding; each field's value on its own line. */
function searchText(object: ObjectDef, values: Record<string, unknown>): string {
  return object.fields
    .filter(isSearchable)
    .map((f) => values[f.id!])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .join('\n')
    .toLowerCase();
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

function staleVersion(id: string, expected: number, current: number): ProblemError {
  return new ProblemError(
    'conflict',
    `Record ${id} was changed by someone else: you edited version ${expected}, it is now at version ${current}`,
    [{ field: 'version', code: 'stale', message: `expected version ${expected}, current is ${current}` }],
    { currentVersion: current },
  );
}

function recordNotFound(object: ObjectDef, id: string): ProblemError {
  return new ProblemError('not_found', `No ${object.key} record with id ${id}`);
}

function badReference(field: FieldDef, message: string): ProblemError {
  return new ProblemError('unprocessable', 'Invalid record', [{ field: field.key, code: 'reference', message }]);
}

function duplicate(field: FieldDef, existingId: string | null): ProblemError {
  return new ProblemError(
    'conflict',
    existingId ? `Another record already has this ${field.key}: ${existingId}` : `Another record already has this ${field.key}`,
    [{ field: field.key, code: 'duplicate', message: existingId ? `already used by record ${existingId}` : 'already used' }],
    existingId ? { existingId } : {},
  );
}

