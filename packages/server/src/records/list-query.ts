import { ProblemError } from '@tessera/metadata';
import type { Expr } from '@tessera/expr';
import type { ListQuery } from '@tessera/store';

export interface ListQueryString {
  filter?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
  q?: string;
}

export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    filter: { type: 'string', maxLength: 20_000, description: 'a JSON expression, e.g. {"==":[{"var":"stage"},"won"]}' },
    sort: { type: 'string', maxLength: 1000, description: 'comma-separated field keys; a leading - sorts descending' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    cursor: { type: 'string', maxLength: 4000 },
    q: { type: 'string', maxLength: 500, description: 'text search over the searchable fields' },
  },
} as const;

/** The query string as the store wants it; the store type-checks the expression itself. */
export function toListQuery(query: ListQueryString): ListQuery {
  const out: ListQuery = {};
  if (query.filter !== undefined && query.filter !== '') out.filter = parseFilter(query.filter);
  if (query.sort !== undefined && query.sort !== '') out.sort = query.sort;
  if (query.limit !== undefined) out.limit = query.limit;
  if (query.cursor !== undefined && query.cursor !== '') out.cursor = query.cursor;
  if (query.q !== undefined && query.q !== '') out.q = query.q;
  return out;
}

function parseFilter(text: string): Expr {
  try {
    return JSON.parse(text) as Expr;
  } catch {
    throw new ProblemError('bad_request', 'The filter is not valid JSON', [
      { field: 'filter', code: 'malformed_json', message: 'filter must be a JSON expression, e.g. {"==":[{"var":"stage"},"won"]}' },
    ]);
  }
}
