import { sql, type Transaction } from 'kysely';
import { ProblemError, liveFields, type FieldDef, type FieldError, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import type { SystemDatabase } from '../db/schema';

export type MergeChoice = 'survivor' | 'merged';

/** Field key -> whose value the survivor keeps. */
export type MergeChoices = Record<string, MergeChoice>;

export interface LockedRow {
  id: string;
  version: number;
  data: Record<string, unknown>;
  deleted_at: Date | string | null;
}

type Trx = Transaction<SystemDatabase>;
type Changes = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkChoices(object: ObjectDef, choices: unknown): Map<string, MergeChoice> {
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

export function checkIds(object: ObjectDef, survivorId: string, mergedId: string): void {
  for (const [field, id] of [['id', survivorId], ['mergeId', mergedId]] as const) {
    if (!UUID.test(id)) throw new ProblemError('not_found', `No ${object.key} record with id ${JSON.stringify(id)}`, [{ field, code: 'invalid', message: 'record ids are UUIDs' }]);
  }
  if (survivorId.toLowerCase() === mergedId.toLowerCase()) {
    throw new ProblemError('not_found', 'A record cannot be merged into itself', [{ field: 'mergeId', code: 'same_record', message: 'mergeId must name another record' }]);
  }
}

/** Both rows locked in id order, so two merges of the same pair cannot deadlock. */
export async function lockPair(trx: Trx, workspaceId: string, object: ObjectDef, survivorId: string, mergedId: string): Promise<{ survivor: LockedRow; merged: LockedRow }> {
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

/**
 * The survivor's values after the merge: chosen ones from either side, an unchosen field
 * from the merged record only when the survivor has none, and its relations to itself
 * that named the merged record naming the survivor.
 */
export function mergedValues(object: ObjectDef, objectKey: string, survivor: Changes, merged: Changes, picks: Map<string, MergeChoice>, mergedId: string, survivorId: string): Changes {
  const next: Changes = { ...survivor };
  for (const field of liveFields(object)) {
    const id = field.id!;
    const choice = picks.get(field.key) ?? (survivor[id] === undefined && !isDerived(field) ? 'merged' : 'survivor');
    if (choice === 'survivor') continue;
    if (merged[id] === undefined) delete next[id];
    else next[id] = merged[id];
  }
  for (const field of object.fields) {
    if (field.type === 'relation' && field.target === objectKey && field.id && next[field.id] === mergedId) next[field.id] = survivorId;
  }
  return next;
}

/**
 * Every relation field of every object (deleted ones too: their values are kept and may
 * be restored) that targets the merged object.
 */
export function relationsTo(app: PublishedApp, objectKey: string): Array<{ source: ObjectDef; field: FieldDef }> {
  return app.document.objects.flatMap((source) =>
    source.id ? source.fields.filter((f) => f.type === 'relation' && f.target === objectKey && !!f.id).map((field) => ({ source, field })) : [],
  );
}

/** The live records naming the merged record through `field`, in id order (the lock order of every writer). */
export async function liveReferrers(trx: Trx, workspaceId: string, source: ObjectDef, field: FieldDef, mergedId: string, survivorId: string): Promise<string[]> {
  const result = await sql<{ id: string }>`
    SELECT id FROM records
    WHERE workspace_id = ${workspaceId} AND object_id = ${source.id!} AND deleted_at IS NULL
      AND ${sql.raw(fieldSqlExpression(field))} = ${mergedId} AND id <> ${survivorId}
    ORDER BY id`.execute(trx);
  return result.rows.map((r) => r.id);
}

/**
 * Deleted records no rule reads (they count in no rollup and no write path accepts
 * them) are re-pointed in place, so a later restore does not bring back a dangling
 * relation. Returns each re-pointed row for its history.
 */
export async function repointDeleted(
  trx: Trx,
  workspaceId: string,
  userId: string | null,
  source: ObjectDef,
  field: FieldDef,
  mergedId: string,
  survivorId: string,
): Promise<Array<{ id: string; version: number }>> {
  const result = await sql<{ id: string; version: number }>`
    UPDATE records
    SET data = jsonb_set(data, ARRAY[${field.id!}]::text[], to_jsonb(${survivorId}::text)),
        version = version + 1, updated_at = now(), updated_by = ${userId}
    WHERE workspace_id = ${workspaceId} AND object_id = ${source.id!} AND deleted_at IS NOT NULL
      AND ${sql.raw(fieldSqlExpression(field))} = ${mergedId} AND id <> ${survivorId}
    RETURNING id, version`.execute(trx);
  return result.rows;
}
