import type { Statement } from './statement';
import { ProblemError, SYSTEM_FIELDS, findField, type ObjectDef } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';

export interface SortKey {
  key: string;
  descending: boolean;
  /** SQL text reading the value; from the expression compiler, so it matches field indexes */
  expression: string;
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

/** System fields sort by their own columns, so the (workspace_id, object_id, id) index serves the default order. */
function systemColumn(key: string): string {
  return key;
}

/**
 * Parses `field,-field` into sort keys and always ends with `id` so the order is total,
 * which keyset pagination needs. No sort means newest first (ids are uuidv7).
 */
export function parseSort(object: ObjectDef, sort: string | undefined): SortKey[] {
  const keys: SortKey[] = [];
  const parts = (sort ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  for (const part of parts) {
    const descending = part.startsWith('-');
    const key = descending ? part.slice(1) : part;
    if (keys.some((k) => k.key === key)) continue;
    if (SYSTEM.has(key)) {
      keys.push({ key, descending, expression: systemColumn(key) });
      continue;
    }
    const field = findField(object, key);
    if (!field) {
      throw new ProblemError('bad_request', `Cannot sort by unknown field "${key}"`, [
        { field: 'sort', code: 'unknown_field', message: `"${key}" is not a field of ${object.key}` },
      ]);
    }
    if (field.type === 'multiselect') {
      throw new ProblemError('bad_request', `Cannot sort by multi-select field "${key}"`, [
        { field: 'sort', code: 'not_sortable', message: `"${key}" holds a list and has no order` },
      ]);
    }
    keys.push({ key, descending, expression: fieldSqlExpression(field) });
  }
  if (!keys.some((k) => k.key === 'id')) {
    keys.push({ key: 'id', descending: parts.length === 0, expression: systemColumn('id') });
  }
  return keys;
}

export function appendOrderBy(st: Statement, keys: SortKey[]): void {
  // PostgreSQL's default null placement (last ascending, first descending) keeps a
  // plain btree index usable in both directions.
  st.sql(keys.map((k) => `${k.expression} ${k.descending ? 'DESC' : 'ASC'}`).join(', '));
}

/**
 * The keyset predicate "strictly after the row whose sort values are `values`", with
 * nulls placed as ORDER BY places them. Values are bound parameters; the expressions are
 * the compiler's field expressions or system column names.
 */
export function appendAfterCursor(st: Statement, keys: SortKey[], values: unknown[], i = 0): void {
  if (i >= keys.length) {
    st.sql('false');
    return;
  }
  const key = keys[i]!;
  const value = values[i];
  const e = `(${key.expression})`;
  const rest = () => appendAfterCursor(st, keys, values, i + 1);
  if (value === null || value === undefined) {
    if (key.descending) st.sql(`(${e} IS NOT NULL OR (${e} IS NULL AND `);
    else st.sql(`((${e} IS NULL AND `);
    rest();
    st.sql(key.descending ? '))' : '))');
    return;
  }
  const op = key.descending ? '<' : '>';
  st.sql(`(${e} ${op} `).value(value);
  if (!key.descending) st.sql(` OR ${e} IS NULL`);
  st.sql(` OR (${e} = `).value(value).sql(' AND ');
  rest();
  st.sql('))');
}

export interface Cursor {
  sort: string[];
  values: unknown[];
}

export function encodeCursor(keys: SortKey[], values: unknown[]): string {
  const cursor: Cursor = { sort: keys.map((k) => (k.descending ? '-' : '') + k.key), values };
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(keys: SortKey[], token: string): unknown[] {
  const invalid = (why: string) =>
    new ProblemError('bad_request', 'Invalid cursor', [{ field: 'cursor', code: 'invalid', message: why }]);
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw invalid('the cursor is not one this API issued');
  }
  const expected = keys.map((k) => (k.descending ? '-' : '') + k.key);
  if (!cursor || !Array.isArray(cursor.sort) || !Array.isArray(cursor.values) || cursor.values.length !== keys.length) {
    throw invalid('the cursor is not one this API issued');
  }
  if (cursor.sort.join(',') !== expected.join(',')) throw invalid('the cursor was issued for another sort order');
  for (const v of cursor.values) {
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw invalid('the cursor holds a malformed value');
  }
  return cursor.values;
}
