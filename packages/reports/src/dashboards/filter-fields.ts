import { findField, findObject, type AppDocument, type SelectOption } from '@tessera/metadata';
import type { GlobalFilterType } from './dashboard';

/** What a global filter narrows on one object: the field's value kind and, for selects, its options. */
export type FilterTarget = { kind: 'date' | 'datetime' } | { kind: 'user' } | { kind: 'select'; options: SelectOption[] };

const SYSTEM_TARGETS: Record<string, FilterTarget> = {
  created_at: { kind: 'datetime' },
  updated_at: { kind: 'datetime' },
  owner_id: { kind: 'user' },
  created_by: { kind: 'user' },
  updated_by: { kind: 'user' },
};

/** The field a filter of `type` narrows on `objectKey`, or why it cannot. */
export function filterTarget(doc: AppDocument, type: GlobalFilterType, objectKey: string, fieldKey: string): FilterTarget | { error: string; code: string } {
  const object = findObject(doc, objectKey);
  if (!object) return { code: 'unknown_object', error: `"${objectKey}" is not an object of this app` };
  let target: FilterTarget | undefined = SYSTEM_TARGETS[fieldKey];
  if (!target) {
    const field = findField(object, fieldKey);
    if (!field) return { code: 'unknown_field', error: `"${fieldKey}" is not a field of ${objectKey}` };
    const valueType = field.type === 'formula' ? field.resultType : field.type;
    if (valueType === 'date' || valueType === 'datetime') target = { kind: valueType };
    else if (valueType === 'user') target = { kind: 'user' };
    else if (valueType === 'select') target = { kind: 'select', options: field.options ?? [] };
  }
  const wanted = type === 'dateRange' ? ['date', 'datetime'] : [type];
  if (!target || !wanted.includes(target.kind)) {
    const need = type === 'dateRange' ? 'a date or datetime' : type === 'user' ? 'a user' : 'a select';
    return { code: 'type', error: `a ${type} filter needs ${need} field; ${objectKey}.${fieldKey} is not one` };
  }
  return target;
}
