import type { Expression } from '@tessera/metadata';
import { MAX_REPORT_ROWS, type SortDef } from '../model/report';
import type { ReportColumn, ReportRow } from '../model/result';
import type { CompileContext } from './context';
import type { Dimension } from './dimensions';
import type { Measure } from './measures';
import { drillOf, sourceQuery } from './source';
import { joinSql, Sql } from './sql';

type Row = Record<string, unknown>;

export interface GroupedPlan {
  dimensions: Dimension[];
  measures: Measure[];
  /** extra conditions on the source rows (a forecast's close date is set...) */
  conditions?: Sql[];
  /** drill predicates matching `conditions` */
  conditionDrill?: Expression[];
  /** each set lists dimension indexes; absent: plain GROUP BY every dimension */
  groupingSets?: number[][];
  sort?: SortDef[];
  limit?: number;
  /** more final columns computed from the grouped row (a KPI's target and attainment) */
  extraOutputs?: Sql;
}

export interface GroupedRows {
  rows: ReportRow[];
  totals?: ReportRow;
}

/**
 * The statement of a grouped report (summary, pivot, KPI, forecast):
 *
 *   WITH agg AS (SELECT d0.., GROUPING(d0) AS g0.., m0.. FROM (<source>) src GROUP BY ...)
 *   SELECT <outputs> FROM agg ORDER BY ... LIMIT ...
 *
 * Dimension values and measure inputs are computed once per record in the source
 * subquery, so a field's JSON is cast once however many places use it. Totals and
 * subtotals are GROUPING SETS of the same pass; GROUPING() tells the rows apart.
 */
export function groupedStatement(ctx: CompileContext, plan: GroupedPlan): Sql {
  const { dimensions: dims, measures } = plan;
  const grouping = dims.length > 0;
  const twoSteps = rollsUp(plan) && (plan.groupingSets !== undefined || dims.some((d) => d.twoStep));
  const list = [...dims.map((d) => (twoSteps ? d.detailSource() : d.source())), ...measures.flatMap((m) => m.source())];
  const source = sourceQuery(ctx, list.length > 0 ? joinSql(list, ', ') : new Sql().text('1 AS one'), plan.conditions);
  const agg = twoSteps ? rolledUp(plan, source) : aggregated(plan, source);

  const outputs = joinSql(
    [
      ...dims.map((d) => new Sql().append(d.output()).text(`, g${d.index}`)),
      ...measures.map((m) => m.output().text(` AS m${m.index}`)),
      ...(plan.extraOutputs ? [plan.extraOutputs] : []),
    ],
    ', ',
  );
  const order = orderBy(plan);
  const limit = Math.min(plan.limit ?? MAX_REPORT_ROWS, MAX_REPORT_ROWS);
  const out = new Sql().append(agg).text(' SELECT ').append(outputs);
  if (!grouping) return out.text(' FROM agg');
  if (plan.groupingSets) {
    // the limit counts detail rows; subtotal and total rows always come along
    out.text(' FROM (SELECT agg.*, row_number() OVER (PARTITION BY ').text(dims.map((d) => `g${d.index}`).join(' + ')).text(' = 0 ORDER BY ').append(order);
    out.text(') AS rn FROM agg) agg WHERE ').text(dims.map((d) => `g${d.index}`).join(' + ')).text(' > 0 OR rn <= ').value(limit);
  } else {
    out.text(' FROM agg');
  }
  out.text(' ORDER BY ').append(order);
  if (!plan.groupingSets) out.text(' LIMIT ').value(limit);
  return out;
}

/** The grouped query in one pass over the records (GROUPING SETS when there are totals). */
function aggregated(plan: GroupedPlan, source: Sql): Sql {
  const { dimensions: dims, measures } = plan;
  const grouping = dims.length > 0;
  const agg = new Sql().text('WITH agg AS (SELECT ');
  const selected = [
    ...dims.map((d) => `d${d.index}${grouping ? `, GROUPING(d${d.index}) AS g${d.index}` : ''}${d.aggregated()}`),
    ...measures.map((m) => `${m.aggregated()} AS m${m.index}`),
  ];
  agg.text(selected.join(', '));
  agg.text(' FROM (').append(source).text(') AS src');
  if (grouping) {
    const all = dims.map((d) => `d${d.index}`);
    if (plan.groupingSets) agg.text(` GROUP BY GROUPING SETS (${groupingSetsText(plan.groupingSets, all)})`);
    else agg.text(` GROUP BY ${all.join(', ')}`);
  }
  return agg.text(')');
}

function groupingSetsText(sets: number[][], columns: string[]): string {
  return sets.map((set) => `(${set.map((i) => columns[i]).join(', ')})`).join(', ');
}

/** How a total is rolled up from group rows, for the aggregates where that is exact. */
export const ROLL_UP: Partial<Record<string, string>> = { count: 'sum', sum: 'sum', min: 'min', max: 'max' };

/** Groups can be rolled up from finer ones: every measure rolls up and no relation ids are collected. */
function rollsUp(plan: GroupedPlan): boolean {
  return plan.dimensions.length > 0 && plan.measures.every((m) => ROLL_UP[m.def.aggregate] !== undefined) && plan.dimensions.every((d) => !d.ref.hop);
}

/**
 * Two steps: the records are aggregated by a plain GROUP BY of the finest values (stored
 * dates for date buckets), which PostgreSQL runs in parallel workers with a hash table
 * (GROUPING SETS over the records cannot), and those few rows are then grouped by bucket
 * and rolled up into totals and subtotals.
 */
function rolledUp(plan: GroupedPlan, source: Sql): Sql {
  const { dimensions: dims, measures } = plan;
  const all = dims.map((d) => `d${d.index}`);
  const ms = measures.map((m) => `m${m.index}`);
  const groupBy = plan.groupingSets ? `GROUPING SETS (${groupingSetsText(plan.groupingSets, all)})` : all.join(', ');
  return new Sql()
    .text(`WITH detail AS (SELECT ${[...all, ...measures.map((m) => `${m.aggregated()} AS m${m.index}`)].join(', ')} FROM (`)
    .append(source)
    .text(`) AS src GROUP BY ${all.join(', ')}), `)
    .text(`agg AS (SELECT ${[...all.map((d) => `${d}, GROUPING(${d}) AS g${d.slice(1)}`), ...measures.map((m, j) => `${ROLL_UP[m.def.aggregate]}(${ms[j]}) AS ${ms[j]}`)].join(', ')}`)
    .text(` FROM (SELECT ${[...dims.map((d) => d.fromDetail()), ...ms].join(', ')} FROM detail) AS b GROUP BY ${groupBy})`);
}

/** User sort keys first, then the dimensions in order, each rolled-up row after the rows it sums. */
function orderBy(plan: GroupedPlan): Sql {
  const parts: Sql[] = [];
  const used = new Set<string>();
  for (const s of plan.sort ?? []) {
    const dim = plan.dimensions.find((d) => d.key === s.key);
    const measure = plan.measures.find((m) => m.key === s.key);
    if (dim) {
      parts.push(dim.order(s.direction));
      used.add(dim.key);
    } else if (measure) parts.push(new Sql().text(`agg.m${measure.index} ${s.direction === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`));
  }
  for (const d of plan.dimensions) {
    if (!used.has(d.key)) parts.push(d.order());
    parts.push(new Sql().text(`agg.g${d.index}`));
  }
  return joinSql(parts, ', ');
}

/** Rows of the grouped statement as report rows; the all-rolled-up row is the totals. */
export function readGrouped(ctx: CompileContext, plan: GroupedPlan, rows: Row[], extra?: (row: Row, values: Record<string, unknown>) => void): GroupedRows {
  const out: GroupedRows = { rows: [] };
  for (const row of rows) {
    const values: Record<string, unknown> = {};
    const own: Expression[] = [...(plan.conditionDrill ?? [])];
    const rolled: string[] = [];
    for (const d of plan.dimensions) {
      if (row[`g${d.index}`] === 1) {
        rolled.push(d.key);
        values[d.key] = null;
      } else {
        values[d.key] = d.read(row);
        own.push(d.drill(row));
      }
    }
    for (const m of plan.measures) values[m.key] = m.read(row[`m${m.index}`]);
    extra?.(row, values);
    const reportRow: ReportRow = { values, drill: drillOf(ctx, own) };
    if (plan.dimensions.length > 0 && rolled.length === plan.dimensions.length) out.totals = reportRow;
    else {
      if (rolled.length > 0) {
        const level = plan.dimensions.findIndex((d) => rolled.includes(d.key));
        reportRow.subtotal = { level, rolledUp: rolled };
      }
      out.rows.push(reportRow);
    }
  }
  return out;
}

export function columnsOf(plan: GroupedPlan): ReportColumn[] {
  return [...plan.dimensions.map((d) => d.column), ...plan.measures.map((m) => m.column)];
}
