import { sql, type Kysely, type Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import {
  ProblemError,
  findObject,
  isSearchable,
  liveFields,
  toApiRecord,
  type FieldDef,
  type FieldError,
  type ObjectDef,
  type PublishedApp,
} from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import type { SystemDatabase } from '../db/schema';
import { isoString, sqlState, type Actor } from '../common/actor';
import type { ApiRecord } from './record-repository';

export type MergeChoice = 'survivor' | 'merged';

/** Field key -> whose value the survivor keeps. */
export type MergeChoices = Record<string, MergeChoice>;

interface LockedRow {
  id: string;
  version: number;
  data: Record<string, unknown>;
  deleted_at: Date | string | null;
}

type Trx = Transaction<SystemDatabase>;
type Changes = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Merges `mergedId` into `survivorId`, in one transaction: the survivor takes the chosen
 * values (a field left unchosen keeps the survivor's value, or the merged record's when
 * the survivor has none), every relation in the app that pointed at the merged record
 * points at the survivor, and the merged record is soft-deleted. Nothing is removed
 * from record_history: both records keep their past, and the new rows say who absorbed
 * whom under the `$merge` key (no field id can start with `$`).
 *
 * The merged record is deleted before the survivor is written, so a unique value moving
 * from one to the other never collides with itself.
 *
 * The writes go to the table directly: the rule engine's hooks (formulas, rollups,
 * automations) do not run for a merge yet.
 */
export async function mergeRecords(
  db: Kysely<SystemDatabase>,
  app: PublishedApp,
  actor: Actor,
  objectKey: string,
  survivorId: string,
  mergedId: string,
  choices: MergeChoices,
): Promise<ApiRecord> {
  const object = findObject(app.document, objectKey);
  if (!object?.id) throw new ProblemError('not_found', `Object "${objectKey}" not found in app "${app.appKey}"`);
  const picks = checkChoices(object, choices);
  checkIds(object, survivorId, mergedId);
  // relation values hold ids as PostgreSQL prints them
  survivorId = survivorId.toLowerCase();
  mergedId = mergedId.toLowerCase();
  return db.transaction().execute(async (trx) => {
    const { survivor, merged } = await lockPair(trx, actor.workspaceId, object, survivorId, mergedId);
    await softDeleteMerged(trx, actor, object, merged, survivorId);
    const next = repoint(object, objectKey, mergedValues(object, survivor.data, merged.data, picks), mergedId, survivorId);
    const row = await writeSurvivor(trx, actor, object, survivor, next, mergedId);
    await repointRelations(trx, actor, app, objectKey, mergedId, survivorId);
    return apiRecord(object, row);
  });
}

function checkChoices(object: ObjectDef, choices: unknown): Map<string, MergeChoice> {
  if (typeof choices !== 'object' || choices === null || Array.isArray(choices)) {
    throw new ProblemError('unprocessable', 'Invalid merge choices', [{ field: 'choices', code: 'type', message: 'choices map field keys to "survivor" or "merged"' }]);
  }
  const fields = new Map(liveFields(object).map((f) => [f.key, f]));
  const errors: FieldError[] = [];
  const picks = new Map<string, MergeChoice>();
  for (const [key, choice] of Object.entries(choices as Record<string, unknown>)) {
    const field = fields.get(key);
    if (!field) errors.push({ field: `choices/${key}`, code: 'unknown_field', message: `${key} is not a field of ${object.key}` });
    else if (choice !== 'survivor' && choice !== 'merged') errors.push({ field: `choices/${key}`, code: 'enum', message: 'choose "survivor" or "merged"' });
    else if (isDerived(field) && choice === 'merged') errors.push({ field: `choices/${key}`, code: 'computed', message: `${key} is computed from other values; it cannot be chosen` });
    else picks.set(key, choice);
  }
  if (errors.length > 0) throw new ProblemError('unprocessable', 'Invalid merge choices', errors);
  return picks;
}

/** Formulas and rollups are recomputed, never carried over; an autonumber may be kept from either. */
function isDerived(field: FieldDef): boolean {
  return field.type === 'formula' || field.type === 'rollup';
}

function checkIds(object: ObjectDef, survivorId: string, mergedId: string): void {
  for (const [field, id] of [['id', survivorId], ['mergeId', mergedId]] as const) {
    if (!UUID.test(id)) throw new ProblemError('not_found', `No ${object.key} record with id ${JSON.stringify(id)}`, [{ field, code: 'invalid', message: 'record ids are UUIDs' }]);
  }
  if (survivorId.toLowerCase() === mergedId.toLowerCase()) {
    throw new ProblemError('not_found', 'A record cannot be merged into itself', [{ field: 'mergeId', code: 'same_record', message: 'mergeId must name another record' }]);
  }
}

/** Both rows locked in id order, so two merges of the same pair cannot deadlock. */
async function lockPair(trx: Trx, workspaceId: string, object: ObjectDef, survivorId: string, mergedId: string): Promise<{ survivor: LockedRow; merged: LockedRow }> {
  const rows = await trx
    .selectFrom('records')
    .select(['id', 'version', 'data', 'deleted_at'])
    .where('workspace_id', '=', workspaceId)
    .where('object_id', '=', object.id!)
    .where('id', 'in', [survivorId, mergedId])
    .orderBy('id')
    .forUpdate()
    .execute();
  const find = (id: string, field: string): LockedRow => {
    const row = rows.find((r) => r.id.toLowerCase() === id.toLowerCase());
    if (!row || row.deleted_at != null) {
      throw new ProblemError('not_found', `No ${object.key} record with id ${id}`, [{ field, code: 'not_found', message: `${id} does not exist or is deleted` }]);
    }
    return row as LockedRow;
  };
  return { survivor: find(survivorId, 'id'), merged: find(mergedId, 'mergeId') };
}

function mergedValues(object: ObjectDef, survivor: Changes, merged: Changes, picks: Map<string, MergeChoice>): Changes {
  const next: Changes = { ...survivor };
  for (const field of liveFields(object)) {
    const id = field.id!;
    const choice = picks.get(field.key) ?? (survivor[id] === undefined && !isDerived(field) ? 'merged' : 'survivor');
    if (choice === 'survivor') continue;
    if (merged[id] === undefined) delete next[id];
    else next[id] = merged[id];
  }
  return next;
}

/** A relation of the object to itself that named the merged record now names the survivor. */
function repoint(object: ObjectDef, objectKey: string, data: Changes, mergedId: string, survivorId: string): Changes {
  const next = { ...data };
  for (const field of object.fields) {
    if (field.type === 'relation' && field.target === objectKey && field.id && next[field.id] === mergedId) next[field.id] = survivorId;
  }
  return next;
}

async function softDeleteMerged(trx: Trx, actor: Actor, object: ObjectDef, merged: LockedRow, survivorId: string): Promise<void> {
  await trx
    .updateTable('records')
    .set({ deleted_at: new Date(), version: merged.version + 1, updated_at: new Date(), updated_by: actor.userId })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', merged.id)
    .execute();
  await history(trx, actor, object.id!, merged.id, merged.version + 1, 'delete', { $merge: { merged_into: survivorId } });
}

async function writeSurvivor(trx: Trx, actor: Actor, object: ObjectDef, survivor: LockedRow, next: Changes, mergedId: string) {
  const row = await trx
    .updateTable('records')
    .set({
      data: JSON.stringify(next),
      search_text: searchText(object, next),
      version: survivor.version + 1,
      updated_at: new Date(),
      updated_by: actor.userId,
    })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', survivor.id)
    .returning(['id', 'version', 'data', 'owner_id', 'created_at', 'created_by', 'updated_at', 'updated_by'])
    .executeTakeFirstOrThrow()
    .catch((e: unknown) => {
      if (sqlState(e) !== '23505') throw e;
      throw new ProblemError('conflict', 'The merged values collide with another record on a unique field', [
        { field: 'choices', code: 'duplicate', message: 'a chosen unique value is already used by a third record' },
      ]);
    });
  await history(trx, actor, object.id!, survivor.id, row.version, 'update', { ...diff(survivor.data, next), $merge: { absorbed: mergedId } });
  return row;
}

/**
 * Every relation field of every object (deleted ones too: their values are kept and may
 * be restored) that targets this object stops naming the merged record. One UPDATE per
 * field; each re-pointed record gets a new version and a history row.
 */
async function repointRelations(trx: Trx, actor: Actor, app: PublishedApp, objectKey: string, mergedId: string, survivorId: string): Promise<void> {
  for (const source of app.document.objects) {
    if (!source.id) continue;
    for (const field of source.fields) {
      if (field.type !== 'relation' || field.target !== objectKey || !field.id) continue;
      const result = await sql<{ id: string; version: number }>`
        UPDATE records
        SET data = jsonb_set(data, ARRAY[${field.id}]::text[], to_jsonb(${survivorId}::text)),
            version = version + 1, updated_at = now(), updated_by = ${actor.userId}
        WHERE workspace_id = ${actor.workspaceId} AND object_id = ${source.id}
          AND ${sql.raw(fieldSqlExpression(field))} = ${mergedId} AND id <> ${survivorId}
        RETURNING id, version`.execute(trx);
      for (const row of result.rows) {
        await history(trx, actor, source.id, row.id, row.version, 'update', {
          [field.id]: { before: mergedId, after: survivorId },
          $merge: { merged: mergedId, into: survivorId },
        });
      }
    }
  }
}

async function history(
  trx: Trx,
  actor: Actor,
  objectId: string,
  recordId: string,
  version: number,
  action: 'update' | 'delete',
  changes: Changes,
): Promise<void> {
  await trx
    .insertInto('record_history')
    .values({
      workspace_id: actor.workspaceId,
      id: uuidv7(),
      record_id: recordId,
      object_id: objectId,
      version,
      action,
      changes: JSON.stringify(changes),
      actor_id: actor.userId,
      source: actor.source,
    })
    .execute();
}

function diff(before: Changes, after: Changes): Record<string, { before: unknown; after: unknown }> {
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[id]) === JSON.stringify(after[id])) continue;
    changes[id] = { before: before[id] ?? null, after: after[id] ?? null };
  }
  return changes;
}

/** As the record repository keeps it: searchable values lower-cased, one per line. */
function searchText(object: ObjectDef, values: Changes): string {
  return object.fields
    .filter(isSearchable)
    .map((f) => values[f.id!])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .join('\n')
    .toLowerCase();
}

function apiRecord(
  object: ObjectDef,
  row: { id: string; version: number; data: unknown; owner_id: string | null; created_at: Date | string; created_by: string | null; updated_at: Date | string; updated_by: string | null },
): ApiRecord {
  return {
    ...toApiRecord(object, row.data as Changes),
    id: row.id,
    version: row.version,
    created_at: isoString(row.created_at) ?? '',
    updated_at: isoString(row.updated_at) ?? '',
    created_by: row.created_by,
    updated_by: row.updated_by,
    owner_id: row.owner_id,
  };
}
