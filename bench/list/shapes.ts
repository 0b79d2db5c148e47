import type { ListQuery } from '@tessera/store';
import { titleOf } from './seed';

/**
 * One list request, asked twice: through the platform (filter expression + sort over
 * `records`) and as the SQL a developer would write by hand over the typed table. Both
 * fetch one row more than the page, which keyset pagination needs to know there is more.
 */
export interface Shape {
  name: string;
  query: ListQuery & { limit: number };
  baselineSql: string;
  baselineParams: unknown[];
}

const COLUMNS = 'id, version, title, stage, amount, close_date, probability, owner_id, created_at, created_by, updated_at, updated_by';
const PAGE = 50;

export const SHAPES: Shape[] = [
  {
    name: "filter + sort: stage == 'won' and amount > 50000, sort -amount",
    query: {
      filter: { and: [{ '==': [{ var: 'stage' }, 'won'] }, { '>': [{ var: 'amount' }, 50000] }] },
      sort: '-amount',
      limit: PAGE,
    },
    baselineSql: `SELECT ${COLUMNS} FROM deal_typed WHERE stage = $1 AND amount > $2 ORDER BY amount DESC, id ASC LIMIT $3`,
    baselineParams: ['won', 50000, PAGE + 1],
  },
  {
    name: 'sort only: sort close_date',
    query: { sort: 'close_date', limit: PAGE },
    baselineSql: `SELECT ${COLUMNS} FROM deal_typed ORDER BY close_date ASC, id ASC LIMIT $1`,
    baselineParams: [PAGE + 1],
  },
  {
    name: "equality filter: stage == 'negotiation', default order (newest first)",
    query: { filter: { '==': [{ var: 'stage' }, 'negotiation'] }, limit: PAGE },
    baselineSql: `SELECT ${COLUMNS} FROM deal_typed WHERE stage = $1 ORDER BY id DESC LIMIT $2`,
    baselineParams: ['negotiation', PAGE + 1],
  },
  {
    name: "range filter + sort on another field: close_date in March 2024, sort -amount",
    query: {
      filter: { between: [{ var: 'close_date' }, '2024-03-01', '2024-03-31'] },
      sort: '-amount',
      limit: PAGE,
    },
    baselineSql: `SELECT ${COLUMNS} FROM deal_typed WHERE close_date BETWEEN $1 AND $2 ORDER BY amount DESC, id ASC LIMIT $3`,
    baselineParams: ['2024-03-01', '2024-03-31', PAGE + 1],
  },
  {
    // a common value filtered, sorted by another field: the plan depends on how many rows
    // the planner believes match, so this shape shows whether it has statistics
    name: "common-value filter + sort on another field: stage == 'won', sort -close_date",
    query: { filter: { '==': [{ var: 'stage' }, 'won'] }, sort: '-close_date', limit: PAGE },
    baselineSql: `SELECT ${COLUMNS} FROM deal_typed WHERE stage = $1 ORDER BY close_date DESC, id ASC LIMIT $2`,
    baselineParams: ['won', PAGE + 1],
  },
  {
    // a value held by one record, sorted by another field: only a planner that knows the
    // value is rare uses the title index; one that guesses walks the amount index instead
    name: `rare-value filter + sort on another field: title == '${titleOf(777_777)}', sort -amount`,
    query: { filter: { '==': [{ var: 'title' }, titleOf(777_777)] }, sort: '-amount', limit: PAGE },
    baselineSql: `SELECT ${COLUMNS} FROM deal_typed WHERE title = $1 ORDER BY amount DESC, id ASC LIMIT $2`,
    baselineParams: [titleOf(777_777), PAGE + 1],
  },
];
