import { SYSTEM_FIELDS, valueKindOf, type FieldDef, type SystemField } from '@tessera/metadata';
import type { ExprScope, ExprType } from '../types';

export type FieldSource = { field: FieldDef } | { system: SystemField };

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

/** A key the expression may read: a live field of the object, or a system field. Soft-deleted fields are unknown. */
export function resolveKey(scope: ExprScope, key: string): { source: FieldSource; type: ExprType } | null {
  const field = scope.object.fields.find((f) => f.key === key && !f.deleted);
  if (field) return { source: { field }, type: valueKindOf(field.type) };
  if (SYSTEM.has(key)) return { source: { system: key as SystemField }, type: SYSTEM_TYPES[key as SystemField] };
  return null;
}
