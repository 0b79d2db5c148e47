import { ProblemError, type Locale, type PublishedApp } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import type { AccessPolicy } from '@tessera/store';
import type { MeasureDef, ReportDef } from '../model/report';
import type { ReportResult } from '../model/result';
import { checkReport } from '../validate/check-reports';
import { assertReadable } from './access';
import { newContext, type CompileContext } from './context';
import { Dimension } from './dimensions';
import { liveObject, type FieldRef } from './fields';
import { columnsOf, groupedStatement, readGrouped, type GroupedPlan } from './grouped';
import { Measure } from './measures';
import { Sql } from './sql';
import { word } from './words';
import { compileFunnel } from './funnel';
import { compileTimeseries } from './timeseries';
import { compileForecast } from './forecast';
import { compileTable } from './table';

export interface RunOptions {
  policy: AccessPolicy;
  env: EvalEnv;
  /** ANDed to the report's filter (a dashboard's global filters) */
  extraFilter?: unknown;
  locale?: Locale;
}

type Row = Record<string, unknown>;

/** One parameterised statement and how to read its rows into a result. */
export interface CompiledReport {
  text: string;
  values: unknown[];
  read(rows: Row[]): ReportResult;
}

/** What each kind's compiler gives back before the statement is numbered. */
export interface KindPlan {
  statement: Sql;
  /** every field the report reads, checked against the viewer's field permissions */
  refs: FieldRef[];
  read(rows: Row[]): ReportResult;
}

const COUNT: MeasureDef = { key: 'count', aggregate: 'count' };

/**
 * Validates `report` against the app, checks the viewer may read everything it touches,
 * and compiles it into ONE statement scoped to the viewer's workspace and record scope.
 * Throws ProblemError: 400 naming the path of an invalid definition, 403 naming a field
 * the viewer may not read.
 */
export function compileReport(app: PublishedApp, report: ReportDef, options: RunOptions): CompiledReport {
  const errors = checkReport(app.document, report, 'report');
  if (errors.length > 0) throw new ProblemError('bad_request', `Report "${String(report?.key)}" is invalid`, errors);
  const object = liveObject(app.document, report.object)!;
  const ctx = newContext(app.document, object, report, options);
  const plan = planOf(ctx);
  assertReadable(ctx, plan.refs, [...ctx.filters, ...(report.measures ?? []).map((m) => m.filter).filter((f) => f !== undefined)]);
  const { text, values } = plan.statement.build();
  return { text, values, read: plan.read };
}

function planOf(ctx: CompileContext): KindPlan {
  switch (ctx.report.kind) {
    case 'summary':
    case 'pivot':
    case 'kpi':
      return compileSummary(ctx);
    case 'funnel':
      return compileFunnel(ctx);
    case 'timeseries':
      return compileTimeseries(ctx);
    case 'forecast':
      return compileForecast(ctx);
    case 'table':
      return compileTable(ctx);
  }
}

export function measuresOf(ctx: CompileContext): Measure[] {
  const defs = ctx.report.measures && ctx.report.measures.length > 0 ? ctx.report.measures : [COUNT];
  return defs.map((m, j) => new Measure(ctx, m, j, `measures/${j}`));
}

export function refsOf(plan: { dimensions: Dimension[]; measures: Measure[] }): FieldRef[] {
  return [...plan.dimensions.map((d) => d.ref), ...plan.measures.flatMap((m) => (m.ref ? [m.ref] : []))];
}

/** Which grouping sets a summary or pivot needs for its totals and subtotals. */
function groupingSets(ctx: CompileContext, n: number): number[][] | undefined {
  const { report } = ctx;
  if (n === 0 || (!report.totals && !report.subtotals)) return undefined;
  const all = [...Array(n).keys()];
  const sets = [all];
  if (report.kind === 'pivot') {
    const across = Math.min(report.pivot?.columns ?? 1, n - 1);
    const rowDims = all.slice(0, n - across);
    const colDims = all.slice(n - across);
    sets.push(rowDims, colDims);
  } else if (report.subtotals) {
    for (let k = n - 1; k >= 1; k--) sets.push(all.slice(0, k));
  }
  if (report.totals) sets.push([]);
  return sets;
}

function compileSummary(ctx: CompileContext): KindPlan {
  const { report } = ctx;
  const dimensions = report.kind === 'kpi' ? [] : (report.dimensions ?? []).map((d, i) => new Dimension(ctx, d, i, `dimensions/${i}`));
  const measures = measuresOf(ctx);
  const plan: GroupedPlan = {
    dimensions,
    measures,
    groupingSets: groupingSets(ctx, dimensions.length),
    ...(report.sort ? { sort: report.sort } : {}),
    ...(report.limit ? { limit: report.limit } : {}),
  };
  const kpi = report.kind === 'kpi' ? report.kpi : undefined;
  const kpiMeasure = kpi ? measures.find((m) => m.key === kpi.measure) : undefined;
  if (kpi && kpiMeasure && kpi.target !== undefined) {
    plan.extraOutputs = kpiOutputs(kpiMeasure, kpi.target);
  }
  const statement = groupedStatement(ctx, plan);
  const columns = columnsOf(plan);
  if (kpi?.target !== undefined) {
    columns.push({ key: 'target', label: word('target', ctx.locale), role: 'target', type: kpiMeasure?.column.type === 'money' ? 'money' : 'number' });
    columns.push({ key: 'attainment', label: word('attainment', ctx.locale), role: 'rate', type: 'number' });
  }
  return {
    statement,
    refs: refsOf(plan),
    read: (rows) => {
      const { rows: out, totals } = readGrouped(ctx, plan, rows, (row, values) => {
        if (kpi?.target !== undefined) {
          values.target = kpiMeasure?.column.type === 'money' ? String(kpi.target) : kpi.target;
          values.attainment = row.attainment === null || row.attainment === undefined ? null : Number(row.attainment);
        }
      });
      const result: ReportResult = { kind: report.kind, columns, rows: out };
      if (totals) result.totals = totals;
      if (report.kind === 'pivot') {
        const across = Math.min(report.pivot?.columns ?? 1, Math.max(dimensions.length - 1, 0));
        result.pivot = { rows: dimensions.slice(0, dimensions.length - across).map((d) => d.key), columns: dimensions.slice(dimensions.length - across).map((d) => d.key) };
      }
      if (kpi) result.kpi = { measure: kpi.measure, ...(kpi.target !== undefined ? { target: 'target' } : {}) };
      return result;
    },
  };
}

/** attainment = measure / target, null for a zero target */
function kpiOutputs(measure: Measure, target: number): Sql {
  return new Sql().text(`((m${measure.index})::numeric / NULLIF(`).value(String(target)).text('::numeric, 0))::text AS attainment');
}
