import type { FieldDef, FieldType } from '../types';

/**
 * Which retypes keep a field's id (and so its stored values).
 *
 * Values are never migrated when metadata changes, so a retype can keep the field id
 * only if every value valid under the old type is, exactly as stored, a valid value of
 * the new type. By stored representation (see field-kinds.ts):
 *
 * | from (ValueKind / stored JSON)                         | may become, keeping the id        |
 * |--------------------------------------------------------|-----------------------------------|
 * | text, longtext (text: any string)                      | text, longtext                    |
 * | email, phone, url, select, autonumber (text: a string)  | text, longtext                    |
 * | relation, user (text: a uuid)                          | text, longtext                    |
 * | currency (number kind, stored as decimal string)       | text, longtext                    |
 * | date ('YYYY-MM-DD'), datetime (ISO UTC string)          | text, longtext                    |
 * | number, percent (number: JSON number)                  | number, percent                   |
 * | boolean                                                | -                                 |
 * | multiselect (list: array of strings)                   | -                                 |
 *
 * A formula keeps its id while its result type changes by this same table (number <->
 * percent does, number -> currency or text does not); a rollup while its stored kind cannot change (see
 * sameRollupKind). Everything else narrows (text -> number, text -> email, number -> text because a JSON
 * number is not a string, number <-> currency because a decimal string is not a JSON
 * number, date <-> datetime, select -> multiselect...). A relation whose target object
 * changes narrows too: its uuids point at records of the old object. A narrowing change
 * gives the field a new id and keeps the old one soft-deleted, so nothing is lost.
 *
 * Per-field constraints (maxLength, min/max, options, scale) are not part of this: they
 * are enforced on write only, and stored values stay readable when they tighten.
 */
const FREE_TEXT: readonly FieldType[] = ['text', 'longtext'];

export const LOSSLESS_RETYPES: Readonly<Record<FieldType, readonly FieldType[]>> = {
  text: FREE_TEXT,
  longtext: FREE_TEXT,
  email: FREE_TEXT,
  phone: FREE_TEXT,
  url: FREE_TEXT,
  select: FREE_TEXT,
  autonumber: FREE_TEXT,
  relation: FREE_TEXT,
  user: FREE_TEXT,
  currency: FREE_TEXT,
  date: FREE_TEXT,
  datetime: FREE_TEXT,
  number: ['percent'],
  percent: ['number'],
  boolean: [],
  multiselect: [],
  // computed values are recomputed, never reinterpreted: any other type is a new field
  formula: [],
  rollup: [],
};

export function isLosslessRetype(from: FieldType, to: FieldType): boolean {
  return from === to || LOSSLESS_RETYPES[from].includes(to);
}

/**
 * Whether `next` can read the values stored under `previous`'s id. Relation targets
 * are compared by object id (through the resolvers), so renaming the target object
 * is not a change.
 */
export function keepsStoredValues(
  previous: FieldDef,
  next: FieldDef,
  previousTargetId: (key: string | undefined) => string | undefined,
  nextTargetId: (key: string | undefined) => string | undefined,
): boolean {
  if (!isLosslessRetype(previous.type, next.type)) return false;
  if (previous.type === 'relation' && next.type === 'relation') {
    return previousTargetId(previous.target) === nextTargetId(next.target);
  }
  if (previous.type === 'formula' && next.type === 'formula') return isLosslessRetype(previous.resultType ?? 'text', next.resultType ?? 'text');
  if (previous.type === 'rollup' && next.type === 'rollup') return sameRollupKind(previous, next);
  return true;
}

/**
 * A min/max rollup stores its child field's kind (a date stays a date); the other
 * aggregates store numbers. Without the child's type at hand, a min/max whose
 * aggregated field changes, or a switch between min/max and the rest, is a new field.
 */
function sameRollupKind(previous: FieldDef, next: FieldDef): boolean {
  const ordered = (f: FieldDef) => f.rollup?.aggregate === 'min' || f.rollup?.aggregate === 'max';
  if (ordered(previous) !== ordered(next)) return false;
  if (!ordered(next)) return true;
  return previous.rollup?.object === next.rollup?.object && previous.rollup?.field === next.rollup?.field;
}
