import { type Kysely, type Transaction } from 'kysely';
import type { FieldDef, ObjectDef, PublishedApp } from '@tessera/metadata';
import { findObject } from '@tessera/metadata';
import type { RecordSystemFields, SystemDatabase } from '@tessera/store';

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

/** Related records' values by relation key, then by field key. */
export type RelatedValues = Record<string, Record<string, unknown>>;

/**
 * A record as expressions read it: values by field key (stored forms), system fields,
 * and what the record points at as `$related[relation][field]`.
 */
export function recordView(
  fields: readonly FieldDef[],
  data: Record<string, unknown>,
  system: RecordSystemFields | null,
  related: RelatedValues | null,
): Record<string, unknown> {
  // Field values first, then the system fields, one assignment each: starting from a
  // spread of `system` and adding keys measured 20x slower (21 µs vs 1 µs for 18 fields),
  // and every compiled expression then reads from the slower object.
  const view: Record<string, unknown> = {};
  for (const f of fields) {
    const value = data[f.id!];
    if (value !== undefined) view[f.key] = value;
  }
  if (system) {
    view.id = system.id;
    view.version = system.version;
    view.created_at = system.created_at;
    view.updated_at = system.updated_at;
    view.created_by = system.created_by;
    view.updated_by = system.updated_by;
    view.owner_id = system.owner_id;
  }
  if (related) view.$related = related;
  return view;
}

/**
 * Loads the records the given relations point at, one query per target object. A
 * relation left empty, or pointing at a deleted record, reads as an empty record.
 */
export async function loadRelated(
  db: Db,
  workspaceId: string,
  app: PublishedApp,
  relations: readonly FieldDef[],
  data: Record<string, unknown>,
): Promise<RelatedValues> {
  const related: RelatedValues = {};
  const byTarget = new Map<ObjectDef, Array<{ field: FieldDef; id: string }>>();
  for (const field of relations) {
    related[field.key] = {};
    const id = data[field.id!];
    const target = findObject(app.document, field.target ?? '');
    if (typeof id !== 'string' || !target?.id) continue;
    const list = byTarget.get(target) ?? [];
    list.push({ field, id });
    byTarget.set(target, list);
  }
  for (const [target, wanted] of byTarget) {
    const ids = [...new Set(wanted.map((w) => w.id))];
    const rows = await db
      .selectFrom('records')
      .select(['id', 'data'])
      .where('workspace_id', '=', workspaceId)
      .where('object_id', '=', target.id!)
      .where('id', 'in', ids)
      .where('deleted_at', 'is', null)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r.data]));
    for (const { field, id } of wanted) {
      const row = byId.get(id);
      if (!row) continue;
      const values: Record<string, unknown> = {};
      for (const f of target.fields) {
        if (!f.deleted && f.id && row[f.id] !== undefined) values[f.key] = row[f.id];
      }
      related[field.key] = values;
    }
  }
  return related;
}
