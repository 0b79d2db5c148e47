import type { ObjectDef } from '../types';

/**
 * Stored values (by field id) as the API shows them (by key). Soft-deleted fields and
 * ids the object no longer knows are left out; their values stay in the store.
 */
export function toApiRecord(object: ObjectDef, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of object.fields) {
    if (field.deleted || !field.id) continue;
    if (Object.prototype.hasOwnProperty.call(data, field.id)) out[field.key] = data[field.id];
  }
  return out;
}
