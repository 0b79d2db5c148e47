import { sql, type Kysely, type Transaction } from 'kysely';
import { ProblemError, isSearchable, liveFields, type FieldError, type ObjectDef } from '@tessera/metadata';
import type { SqlFragment } from '@tessera/expr';
import type { SystemDatabase } from '../db/schema';
import type { AccessPolicy, ObjectAction } from '../access/policy';
import { fragmentToSql } from './sql-fragment';
import type { Statement } from './statement';

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

const VERBS: Record<ObjectAction, string> = { create: 'create', read: 'read', update: 'change', delete: 'delete', import: 'import', export: 'export' };

/**
 * The record repository's side of the access policy: what a caller may do with an
 * object, which of its records they reach, which fields they see and change. One per
 * repository; the per-object answers are computed once.
 */
export class RecordAccess {
  private readonly masked = new Map<string, ObjectDef>();
  private readonly hidden = new Map<string, string[]>();

  constructor(readonly policy: AccessPolicy) {}

  assertCan(object: ObjectDef, action: ObjectAction): void {
    if (!this.policy.can(object, action)) {
      throw new ProblemError('forbidden', `You may not ${VERBS[action]} ${object.key} records`, [
        { field: object.key, code: 'forbidden', message: `your roles do not allow ${action} on ${object.key}` },
      ]);
    }
  }

  scope(object: ObjectDef, mode: 'read' | 'write'): SqlFragment | null {
    return this.policy.recordScope(object, mode);
  }

  /** The object as this caller sees it: filters and sorts are checked against it, so a hidden field is an unknown one. */
  readable(object: ObjectDef): ObjectDef {
    let view = this.masked.get(object.key);
    if (!view) {
      view = { ...object, fields: object.fields.filter((f) => f.deleted || this.policy.canReadField(object, f)) };
      this.masked.set(object.key, view);
    }
    return view;
  }

  hiddenKeys(object: ObjectDef): string[] {
    let keys = this.hidden.get(object.key);
    if (!keys) {
      keys = liveFields(object).filter((f) => !this.policy.canReadField(object, f)).map((f) => f.key);
      this.hidden.set(object.key, keys);
    }
    return keys;
  }

  /** A hidden field is absent, not blank. */
  mask<T extends Record<string, unknown>>(object: ObjectDef, record: T): T {
    for (const key of this.hiddenKeys(object)) delete record[key];
    return record;
  }

  /** Every field of `input` the caller may not write is refused, each named, before anything runs. */
  assertWritable(object: ObjectDef, input: unknown, fieldKeys: Iterable<string> = keysOf(input)): void {
    const errors: FieldError[] = [];
    for (const key of fieldKeys) {
      const field = liveFields(object).find((f) => f.key === key);
      if (field && !this.policy.canWriteField(object, field)) {
        errors.push({ field: key, code: 'read_only', message: `you may not change ${key}` });
      }
    }
    if (errors.length > 0) throw new ProblemError('forbidden', `You may not change ${errors.map((e) => e.field).join(', ')}`, errors);
  }

  /** Every field of `input` the caller may not read is refused (a duplicate check must not probe hidden values). */
  assertReadable(object: ObjectDef, input: unknown): void {
    const hidden = new Set(this.hiddenKeys(object));
    const errors: FieldError[] = keysOf(input)
      .filter((k) => hidden.has(k))
      .map((k) => ({ field: k, code: 'unknown_field', message: `${k} is not a field of ${object.key}` }));
    if (errors.length > 0) throw new ProblemError('unprocessable', 'Invalid record', errors);
  }

  /**
   * Text search for a caller who cannot read some searchable field: `search_text` holds
   * every searchable value, so it would match on hidden ones; search the visible fields
   * one by one instead (no trigram index, but nothing hidden can match). null when the
   * caller sees every searchable field.
   */
  appendVisibleSearch(st: Statement, object: ObjectDef, pattern: string): boolean {
    const searchable = object.fields.filter(isSearchable);
    const hidden = new Set(this.hiddenKeys(object));
    if (!searchable.some((f) => hidden.has(f.key))) return false;
    const visible = searchable.filter((f) => !hidden.has(f.key));
    if (visible.length === 0) {
      st.sql(' AND FALSE');
      return true;
    }
    st.sql(' AND (');
    visible.forEach((f, i) => {
      if (i > 0) st.sql(' OR ');
      st.sql('lower(data->>').value(f.id).sql(') LIKE ').value(pattern);
    });
    st.sql(')');
    return true;
  }

  /**
   * A record the caller may not read is absent (404, as if it did not exist: a 403 would
   * confirm the id); one they may read but not change is a 403.
   */
  async assertInScope(db: Db, workspaceId: string, object: ObjectDef, id: string, mode: 'read' | 'write', deleted: boolean): Promise<void> {
    const read = this.scope(object, 'read');
    const write = mode === 'write' ? this.scope(object, 'write') : null;
    if (!read && !write) return;
    const row = await sql<{ r: boolean; w: boolean }>`
      SELECT ${read ? fragmentToSql(read) : sql`TRUE`} AS r, ${write ? fragmentToSql(write) : sql`TRUE`} AS w
      FROM records
      WHERE workspace_id = ${workspaceId} AND object_id = ${object.id!} AND id = ${id}
        AND deleted_at IS ${deleted ? sql`NOT NULL` : sql`NULL`}`.execute(db);
    const found = row.rows[0];
    if (!found || !found.r) throw new ProblemError('not_found', `No ${object.key} record with id ${id}`);
    if (!found.w) {
      throw new ProblemError('forbidden', `You may read this ${object.key} record but not change it`, [
        { field: 'id', code: 'read_only_record', message: `${id} is outside the records you may change` },
      ]);
    }
  }
}

function keysOf(input: unknown): string[] {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? Object.keys(input) : [];
}
