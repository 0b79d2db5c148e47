import type { FieldDef, FieldType } from './types';

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
};

export function valueKindOf(type: FieldType): ValueKind {
  return KIND[type];
}

/** Types whose values are put into the record's trigram search text. */
const SEARCHABLE: ReadonlySet<FieldType> = new Set<FieldType>(['text', 'longtext', 'email', 'phone', 'url', 'autonumber']);

export function isSearchable(field: FieldDef): boolean {
  return SEARCHABLE.has(field.type) && field.searchable !== false && !field.deleted;
}
