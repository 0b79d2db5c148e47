import { SYSTEM_FIELDS, valueKindOfField, type FieldDef, type ObjectDef, type SystemField, type ValueKind } from '@tessera/metadata';
import type { ExprScope, ExprType } from '../types';

/** Where a `var` reads from: a field, a system column, or a field of the record a relation points to. */
export type FieldSource = { field: FieldDef } | { system: SystemField } | { relation: FieldDef; target: FieldSource; path: [string, string] };

const SYSTEM_TYPES: Record<SystemField, ExprType> = {
  id: 'text',
  version: 'number',
  created_at: 'datetime',
  updated_at: 'datetime',
  created_by: 'text',
  updated_by: 'text',
  owner_id: 'text',
};

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

export type Resolution = { source: FieldSource; type: ExprType } | { error: string; code: string };

function liveField(object: ObjectDef, key: string): FieldDef | undefined {
  return object.fields.find((f) => f.key === key && !f.deleted);
}

function liveObject(scope: ExprScope, key: string | undefined): ObjectDef | undefined {
  return key === undefined ? undefined : scope.app?.objects.find((o) => o.key === key && !o.deleted);
}

/** A rollup's kind depends on the child field it aggregates (min/max of dates are dates). */
export function kindOfField(field: FieldDef, scope: ExprScope): ValueKind {
  if (field.type !== 'rollup' || !field.rollup?.field) return valueKindOfField(field);
  const child = liveObject(scope, field.rollup.object);
  const childField = child ? liveField(child, field.rollup.field) : undefined;
  return valueKindOfField(field, childField ? valueKindOfField(childField) : undefined);
}

function resolveOwn(scope: ExprScope, key: string): { source: FieldSource; type: ExprType } | null {
  const field = liveField(scope.object, key);
  if (field) return { source: { field }, type: kindOfField(field, scope) };
  if (SYSTEM.has(key)) return { source: { system: key as SystemField }, type: SYSTEM_TYPES[key as SystemField] };
  return null;
}

/**
 * A key the expression may read: a live field of the object, a system field, or
 * `relation.field` — one step through a relation field to a live field (or system field)
 * of its target object, which needs `scope.app`. Soft-deleted fields and objects are unknown.
 */
export function resolveKey(scope: ExprScope, key: string): Resolution {
  const dot = key.indexOf('.');
  if (dot < 0) return resolveOwn(scope, key) ?? { code: 'unknown_field', error: `Unknown field "${key}" on ${scope.object.key}` };
  const relationKey = key.slice(0, dot);
  const targetKey = key.slice(dot + 1);
  const relation = liveField(scope.object, relationKey);
  if (!relation) return { code: 'unknown_field', error: `Unknown field "${relationKey}" on ${scope.object.key} (reading "${key}")` };
  if (relation.type !== 'relation') {
    return { code: 'not_a_relation', error: `"${relationKey}" is a ${relation.type} field, not a relation, so "${key}" cannot be followed` };
  }
  if (!scope.app) return { code: 'unknown_field', error: `"${key}" follows a relation, which needs the app to resolve` };
  const target = liveObject(scope, relation.target);
  if (!target) return { code: 'unknown_object', error: `Relation "${relationKey}" points to an unknown object "${relation.target ?? ''}"` };
  if (targetKey.includes('.')) return { code: 'unsupported', error: `"${key}" goes through more than one relation; one step is supported` };
  const inner = resolveOwn({ object: target, app: scope.app }, targetKey);
  if (!inner) return { code: 'unknown_field', error: `Unknown field "${targetKey}" on ${target.key} (through "${relationKey}")` };
  return { source: { relation, target: inner.source, path: [relationKey, targetKey] }, type: inner.type };
}
