import type { FieldDef, FieldType, FormulaResultType } from './types';

/**
 * How a field type's value is represented, which decides how every interpreter treats
 * it: the expression checker's type, the SQL expression over `data`, sorting and
 * indexing. Stored JSON per kind:
 * - text: JSON string (select stores the option value, relation/user a uuid)
 * - number: JSON number (currency: a decimal string, so money never passes through a float)
 * - boolean: JSON boolean
 * - date: 'YYYY-MM-DD' string; datetime: ISO-8601 UTC string as `Date.toISOString()` gives
 *   (both sort correctly as text, which keeps their indexes immutable)
 * - list: JSON array of strings (multiselect)
 */
export type ValueKind = 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';

const KIND: Record<FieldType, ValueKind> = {
  text: 'text',
  longtext: 'text',
  number: 'number',
  currency: 'number',
  percent: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
  select: 'text',
  multiselect: 'list',
  email: 'text',
  phone: 'text',
  url: 'text',
  relation: 'text',
  user: 'text',
  autonumber: 'text',
  // formula and rollup take the kind of their result; see valueKindOfField
  formula: 'text',
  rollup: 'number',
};

const RESULT_KIND: Record<FormulaResultType, ValueKind> = {
  text: 'text',
  number: 'number',
  currency: 'number',
  percent: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
};

/** The kind of a field type on its own; prefer valueKindOfField, which knows formula results. */
export function valueKindOf(type: FieldType): ValueKind {
  return KIND[type];
}

/**
 * The kind of a field's stored value. A formula stores its result type; a rollup stores a
 * number, except min/max over a date or datetime child field, which keep that kind (the
 * caller passes the child field's kind as `rollupFieldKind`).
 */
export function valueKindOfField(field: FieldDef, rollupFieldKind?: ValueKind): ValueKind {
  if (field.type === 'formula') return RESULT_KIND[field.resultType ?? 'text'];
  if (field.type === 'rollup') {
    const agg = field.rollup?.aggregate;
    if ((agg === 'min' || agg === 'max') && (rollupFieldKind === 'date' || rollupFieldKind === 'datetime')) return rollupFieldKind;
    return 'number';
  }
  return KIND[field.type];
}

/** Values the rule engine computes; never accepted on input. */
export function isComputed(field: FieldDef): boolean {
  return field.type === 'formula' || field.type === 'rollup' || field.type === 'autonumber';
}

/** Types whose values are put into the record's trigram search text. */
const SEARCHABLE: ReadonlySet<FieldType> = new Set<FieldType>(['text', 'longtext', 'email', 'phone', 'url', 'autonumber']);

export function isSearchable(field: FieldDef): boolean {
  // ciphertext must never reach search_text
  return SEARCHABLE.has(field.type) && field.searchable !== false && !field.deleted && !field.encrypted;
}
