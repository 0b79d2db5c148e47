import type { Locale } from '@tessera/metadata';
import type { ReportColumn, ReportRow } from '../model/result';
import { formatValue } from './format';

/**
 * The distinct value combinations of some dimensions among the rows, in the order a
 * person expects to read them: select options in their defined order, date buckets
 * chronologically, other values as the report's sort returned them.
 */
export interface TupleAxis {
  labels: string[];
  /** the position of a row's combination on this axis */
  indexOf(row: ReportRow): number;
}

const SEPARATOR = ' / ';

export function tupleAxis(rows: readonly ReportRow[], dims: readonly ReportColumn[], locale: Locale): TupleAxis {
  const ranks = dims.map((dim) => valueRanks(rows, dim));
  // rows are looked up twice (building the axis, then placing points): remember each row's key
  const keys = new WeakMap<ReportRow, string>();
  const keyOf = (row: ReportRow) => {
    let key = keys.get(row);
    if (key === undefined) {
      key = dims.length === 1 ? rankKey(row.values[dims[0]!.key]) : JSON.stringify(dims.map((d) => row.values[d.key] ?? null));
      keys.set(row, key);
    }
    return key;
  };
  const tuples = new Map<string, { rank: number[]; label: string }>();
  for (const row of rows) {
    const key = keyOf(row);
    if (tuples.has(key)) continue;
    tuples.set(key, {
      rank: dims.map((d, i) => ranks[i]!.get(rankKey(row.values[d.key])) ?? 0),
      label: dims.map((d) => formatValue(row.values[d.key], d, locale)).join(SEPARATOR),
    });
  }
  const ordered = [...tuples.entries()].sort(([, a], [, b]) => compareRanks(a.rank, b.rank));
  const position = new Map(ordered.map(([key], i) => [key, i]));
  return {
    labels: ordered.map(([, t]) => t.label),
    indexOf: (row) => position.get(keyOf(row)) ?? -1,
  };
}

function rankKey(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** value -> its rank along one dimension; empty values go last. */
function valueRanks(rows: readonly ReportRow[], dim: ReportColumn): Map<string, number> {
  const seen: unknown[] = [];
  const distinct = new Set<string>();
  for (const row of rows) {
    const v = row.values[dim.key] ?? null;
    const k = rankKey(v);
    if (!distinct.has(k)) {
      distinct.add(k);
      seen.push(v);
    }
  }
  const present = seen.filter((v) => v !== null);
  let ordered: unknown[];
  if (dim.options) {
    const optionOrder = new Map(dim.options.map((o, i) => [o.value, i]));
    // values no longer among the options (a deleted option) follow the defined ones, in row order
    const after = dim.options.length;
    ordered = [...present].sort((a, b) => (optionOrder.get(a as string) ?? after) - (optionOrder.get(b as string) ?? after));
  } else if (dim.bucket || dim.type === 'date' || dim.type === 'datetime') {
    ordered = [...present].sort((a, b) => String(a).localeCompare(String(b)));
  } else {
    ordered = present;
  }
  const ranks = new Map(ordered.map((v, i) => [rankKey(v), i]));
  if (distinct.has('null')) ranks.set('null', ordered.length);
  return ranks;
}
