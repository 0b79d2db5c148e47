import type { AppDocument, FieldDef, ObjectDef } from '../types';
import type { Change, ChangePlan } from './change';
import { COMPUTATION_SETTINGS, diffComputation, diffDocumentRules, diffObjectRules } from './diff-rules';
import { deepEqual } from './equal';

/** Properties whose change is reported as its own kind, not as `*_changed`. */
const OBJECT_IDENTITY = new Set(['id', 'key', 'fields', 'deleted', 'validations', 'duplicateRules']);
const FIELD_IDENTITY = new Set(['id', 'key', 'type', 'deleted', ...COMPUTATION_SETTINGS]);

/**
 * What moving from one published document to another does, matched by id (ids are
 * what values are stored under). A field that disappears while a new id appears under
 * the same key is reported as one retype, saying where the old values are kept.
 */
export function diffDocuments(from: AppDocument, to: AppDocument): ChangePlan {
  const changes: Change[] = [];
  const fromById = byId(from.objects);
  const toIds = new Set(to.objects.map((o) => o.id));
  for (const target of to.objects) {
    const source = target.id === undefined ? undefined : fromById.get(target.id);
    if (!source) {
      if (!target.deleted) changes.push(objectAdded(target));
    } else diffObject(source, target, changes);
  }
  for (const source of from.objects) {
    if (!toIds.has(source.id) && !source.deleted) {
      changes.push({
        kind: 'object_removed',
        object: source.key,
        note: `object ${source.key} is not in this version: its records stay stored under object id ${source.id}`,
        lossy: true,
      });
    }
  }
  diffDocumentRules(from, to, changes);
  return { changes, lossless: !changes.some((c) => c.lossy) };
}

function byId<T extends { id?: string }>(items: T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) if (item.id !== undefined) map.set(item.id, item);
  return map;
}

function objectAdded(object: ObjectDef): Change {
  const count = object.fields.filter((f) => !f.deleted).length;
  return { kind: 'object_added', object: object.key, note: `object ${object.key} added (id ${object.id}) with ${count} field(s)` };
}

function diffObject(source: ObjectDef, target: ObjectDef, changes: Change[]): void {
  if (source.deleted && target.deleted) return;
  if (!source.deleted && target.deleted) {
    changes.push({
      kind: 'object_removed',
      object: source.key,
      note: `object ${source.key} removed: its records stay stored under object id ${target.id} (soft-deleted as ${target.key}); restore by re-adding key ${source.key}`,
      lossy: true,
    });
    return;
  }
  if (source.deleted && !target.deleted) {
    changes.push({ kind: 'object_restored', object: target.key, note: `object ${target.key} restored: records under object id ${target.id} are visible again` });
  } else if (source.key !== target.key) {
    changes.push({
      kind: 'object_renamed',
      object: target.key,
      from: source.key,
      to: target.key,
      note: `object ${source.key} renamed to ${target.key} (same id ${target.id}, no data moved)`,
    });
  }
  const changed = changedProps(source, target, OBJECT_IDENTITY);
  if (changed) {
    changes.push({ kind: 'object_changed', object: target.key, from: changed.from, to: changed.to, note: `object ${target.key} changed: ${changed.names.join(', ')}` });
  }
  diffFields(source, target, changes);
  diffObjectRules(source, target, changes);
}

function changedProps(a: object, b: object, skip: Set<string>): { names: string[]; from: Record<string, unknown>; to: Record<string, unknown> } | null {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const names = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !skip.has(k) && !deepEqual(ra[k], rb[k]));
  if (names.length === 0) return null;
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  for (const k of names) {
    from[k] = ra[k];
    to[k] = rb[k];
  }
  return { names, from, to };
}

function diffFields(source: ObjectDef, target: ObjectDef, changes: Change[]): void {
  const object = target.key;
  const fromById = byId(source.fields);
  const toById = byId(target.fields);
  // Fields that become visible (new or restored) and fields that stop being visible.
  const appeared = target.fields.filter((f) => !f.deleted && !isLive(fromById.get(f.id ?? '')));
  const vanished = source.fields.filter((f) => !f.deleted && !isLive(toById.get(f.id ?? '')));
  const pairedOld = new Set<FieldDef>();
  for (const next of appeared) {
    const old = vanished.find((v) => v.key === next.key && !pairedOld.has(v));
    if (old) {
      pairedOld.add(old);
      changes.push(replaced(object, old, next, toById.get(old.id ?? '')));
    } else {
      const before = fromById.get(next.id ?? '');
      changes.push(before ? restored(object, before, next) : added(object, next));
    }
  }
  for (const old of vanished) if (!pairedOld.has(old)) changes.push(removed(object, old, toById.get(old.id ?? '')));
  for (const next of target.fields) {
    const before = next.id === undefined ? undefined : fromById.get(next.id);
    if (before && !before.deleted && !next.deleted) diffLiveField(object, before, next, changes);
  }
}

function isLive(field: FieldDef | undefined): boolean {
  return field !== undefined && !field.deleted;
}

/** Where values of a field that stopped being visible can be found. */
function keptWhere(old: FieldDef, after: FieldDef | undefined): string {
  return after ? `soft-deleted as ${after.key}` : 'not in this version';
}

function replaced(object: string, old: FieldDef, next: FieldDef, oldAfter: FieldDef | undefined): Change {
  const retarget = old.type === 'relation' && next.type === 'relation' ? ` (target ${old.target} -> ${next.target})` : '';
  return {
    kind: 'field_retyped',
    object,
    field: next.key,
    from: old.type,
    to: next.type,
    note: `field ${next.key} retyped ${old.type} -> ${next.type}${retarget}: old values kept under field id ${old.id} (${keptWhere(old, oldAfter)}); now stored under field id ${next.id}`,
    lossy: true,
  };
}

function added(object: string, next: FieldDef): Change {
  return { kind: 'field_added', object, field: next.key, to: next.type, note: `field ${next.key} (${next.type}) added with id ${next.id}` };
}

function restored(object: string, before: FieldDef, next: FieldDef): Change {
  const renamed = before.key !== next.key ? ` (was ${before.key})` : '';
  return { kind: 'field_restored', object, field: next.key, note: `field ${next.key}${renamed} restored: values under field id ${next.id} are visible again` };
}

function removed(object: string, old: FieldDef, after: FieldDef | undefined): Change {
  const restore = after ? `; restore by re-adding key ${old.key} or clearing deleted` : '';
  return {
    kind: 'field_removed',
    object,
    field: old.key,
    note: `field ${old.key} removed: values kept under field id ${old.id} (${keptWhere(old, after)})${restore}`,
    lossy: true,
  };
}

function diffLiveField(object: string, before: FieldDef, next: FieldDef, changes: Change[]): void {
  if (before.key !== next.key) {
    changes.push({
      kind: 'field_renamed',
      object,
      field: next.key,
      from: before.key,
      to: next.key,
      note: `field ${before.key} renamed to ${next.key} (same id ${next.id}, no data moved)`,
    });
  }
  if (before.type !== next.type) {
    changes.push({
      kind: 'field_retyped',
      object,
      field: next.key,
      from: before.type,
      to: next.type,
      note: `field ${next.key} retyped ${before.type} -> ${next.type}: values kept (same field id ${next.id})`,
    });
  }
  diffComputation(object, before, next, changes);
  const changed = changedProps(before, next, FIELD_IDENTITY);
  if (changed) {
    changes.push({
      kind: 'field_changed',
      object,
      field: next.key,
      from: changed.from,
      to: changed.to,
      note: `field ${next.key} changed: ${changed.names.join(', ')}${optionsNote(before, next)}`,
    });
  }
}

function optionsNote(before: FieldDef, next: FieldDef): string {
  const remaining = new Set((next.options ?? []).map((o) => o.value));
  const gone = (before.options ?? []).map((o) => o.value).filter((v) => !remaining.has(v));
  return gone.length ? ` (options removed: ${gone.join(', ')}; records keep these values until edited)` : '';
}
