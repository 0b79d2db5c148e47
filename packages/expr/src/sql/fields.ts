import { ID_PATTERN, ProblemError, SYSTEM_FIELDS, valueKindOfField, type FieldDef, type ValueKind } from '@tessera/metadata';

/**
 * How a field is read from `records.data`. The index manager builds expression indexes
 * from exactly this text and lists sort by it, so it must stay immutable: no timestamptz
 * casts; dates and datetimes are compared as their ISO text, which orders correctly.
 * Text kinds carry COLLATE "C" so that SQL orders by code point exactly like the JS
 * evaluator, whatever the database's default collation is. A formula is read as its
 * result type; pass `kind` for a rollup of dates, whose kind depends on its child field.
 */
export function fieldSqlExpression(field: FieldDef, kind: ValueKind = valueKindOfField(field)): string {
  const id = field.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ProblemError('unprocessable', `Field "${field.key}" has no valid id`, [
      { field: field.key, code: 'invalid_id', message: 'field ids must match ID_PATTERN before they are used in SQL' },
    ]);
  }
  switch (kind) {
    case 'text':
    case 'date':
    case 'datetime':
      return `((data->>'${id}') COLLATE "C")`;
    case 'number':
      return `((data->>'${id}')::numeric)`;
    case 'boolean':
      return `((data->>'${id}')::boolean)`;
    case 'list':
      return `(data->'${id}')`;
  }
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

/**
 * System fields are columns of `records`. Uuids are read as text so a malformed literal
 * is just unequal rather than a cast error; timestamps as the text JS's toISOString
 * gives, so JS and SQL compare the same thing (to_char truncates to milliseconds, as the
 * API's Date does).
 */
export function systemFieldSqlExpression(name: string): string {
  if (!SYSTEM.has(name)) {
    throw new ProblemError('bad_request', `Unknown system field "${name}"`, [{ field: name, code: 'unknown_field', message: `"${name}" is not a system field` }]);
  }
  switch (name) {
    case 'version':
      return 'version';
    case 'created_at':
    case 'updated_at':
      return `(to_char(${name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') COLLATE "C")`;
    default:
      return `((${name})::text COLLATE "C")`;
  }
}
