import type { EChartsOption } from 'echarts';
import { ProblemError, type Locale } from '@tessera/metadata';
import type { ReportColumn, ReportResult, ReportRow } from '../model/result';
import type { ChartSpec } from './chart-spec';
import { tupleAxis } from './axes';
import { formatValue, toNumber } from './format';

/**
 * One plotted value. `drill` is the filter expression of the row it comes from, so a
 * click handler (`chart.on('click', p => open(p.data.drill))`) opens the matching records.
 */
export interface ChartPoint {
  value: number | null | (number | null)[];
  name?: string;
  drill: unknown;
  /** the value as a person reads it in the chart's locale (¥1,234.50, 12.5%) */
  formatted: string;
  /** funnel: conversion from the previous stage; gauge: the target */
  rate?: number | null;
  target?: number | null;
}

/** What the `table` chart type describes: columns and rows ready to render, subtotals and totals included. */
export interface ChartTable {
  columns: { key: string; label: string; role: ReportColumn['role']; numeric: boolean }[];
  rows: { cells: string[]; values: Record<string, unknown>; drill: unknown; subtotal?: { level: number }; total?: boolean }[];
}

export interface ChartOptions {
  locale?: Locale;
  /** the zone a table shows datetimes in (default Asia/Shanghai) */
  timezone?: string;
  theme?: { palette?: string[]; dark?: boolean };
}

/**
 * A report result as an ECharts option. Pure and browser-safe (only types come from
 * echarts): the server uses it for snapshots and exports, the web app to draw. Subtotal
 * and total rows are not plotted (they would double-count); the table type keeps them.
 */
export function toEChartsOption(result: ReportResult, chart: ChartSpec, options: ChartOptions = {}): EChartsOption {
  const locale = options.locale ?? 'en';
  const plan = { ...planChart(result, chart), ...(options.timezone ? { timezone: options.timezone } : {}) };
  const option = BUILDERS[chart.type](result, plan, chart, locale);
  if (options.theme?.palette) option.color = options.theme.palette;
  if (options.theme?.dark !== undefined) option.darkMode = options.theme.dark;
  return option;
}

interface ChartPlan {
  rows: ReportRow[];
  /** dimensions along the category axis (pie slices, funnel stages, heat map rows) */
  categoryDims: ReportColumn[];
  /** dimensions whose combinations become series (heat map columns) */
  seriesDims: ReportColumn[];
  measures: ReportColumn[];
  timezone?: string;
}

const NUMERIC = new Set<ReportColumn['type']>(['number', 'money']);

function planChart(result: ReportResult, chart: ChartSpec): ChartPlan {
  const byKey = new Map(result.columns.map((c) => [c.key, c]));
  const column = (key: string, path: string, roles: ReportColumn['role'][]) => {
    const found = byKey.get(key);
    if (!found || !roles.includes(found.role)) {
      throw new ProblemError('unprocessable', `The chart names a column the report does not have: ${key}`, [
        { field: `chart/${path}`, code: 'unknown_column', message: `"${key}" is not a ${roles.join(' or ')} column of the report` },
      ]);
    }
    return found;
  };
  const dims = result.columns.filter((c) => c.role === 'dimension');
  let categoryDims: ReportColumn[];
  if (chart.category) categoryDims = [column(chart.category, 'category', ['dimension'])];
  else if (result.pivot) categoryDims = result.pivot.rows.map((k) => column(k, 'category', ['dimension']));
  else categoryDims = dims.slice(0, 1);
  const rest = dims.filter((d) => !categoryDims.includes(d));
  const first = chart.series ? column(chart.series, 'series', ['dimension']) : undefined;
  const seriesDims = first ? [first, ...rest.filter((d) => d !== first)] : rest;
  const measures = chart.measures
    ? chart.measures.map((k, i) => column(k, `measures/${i}`, ['measure', 'rate', 'change', 'target', 'field']))
    : defaultMeasures(result, chart);
  if (measures.length === 0 && chart.type !== 'table') {
    throw new ProblemError('unprocessable', 'The report has no measure to plot', [
      { field: 'chart/measures', code: 'no_measure', message: `a ${chart.type} chart needs a measure column` },
    ]);
  }
  return { rows: result.rows.filter((r) => !r.subtotal), categoryDims, seriesDims, measures };
}

function defaultMeasures(result: ReportResult, chart: ChartSpec): ReportColumn[] {
  // a funnel draws how many reached each stage (that stage or a later one), as funnels do;
  // a point's drill still opens the records at its stage
  const reached = result.kind === 'funnel' && chart.type === 'funnel' ? result.columns.find((c) => c.key === 'reached') : undefined;
  if (reached) return [reached];
  const measures = result.columns.filter((c) => c.role === 'measure');
  if (measures.length > 0) return measures;
  return result.columns.filter((c) => c.role === 'field' && NUMERIC.has(c.type)).slice(0, 1);
}

function point(row: ReportRow, measure: ReportColumn, locale: Locale, extra: Partial<ChartPoint> = {}): ChartPoint {
  const raw = row.values[measure.key];
  return { value: toNumber(raw), drill: row.drill, formatted: formatValue(raw, measure, locale), ...extra };
}

type Builder = (result: ReportResult, plan: ChartPlan, chart: ChartSpec, locale: Locale) => EChartsOption;

/** bar, stacked bar, line, area: categories along one axis, one series per (series combination × measure). */
const cartesian: Builder = (_result, plan, chart, locale) => {
  const categories = tupleAxis(plan.rows, plan.categoryDims, locale);
  const groups = tupleAxis(plan.rows, plan.seriesDims, locale);
  const categoryLabels = plan.categoryDims.length > 0 ? categories.labels : [''];
  // each row's place on both axes, worked out once
  const placed = plan.rows.map((row) => ({
    row,
    category: plan.categoryDims.length > 0 ? categories.indexOf(row) : 0,
    group: plan.seriesDims.length > 0 ? groups.indexOf(row) : 0,
  }));
  const series: Record<string, unknown>[] = [];
  for (let g = 0; g < Math.max(groups.labels.length, 1); g++) {
    const members = placed.filter((p) => p.group === g);
    for (const measure of plan.measures) {
      const data: (ChartPoint | null)[] = categoryLabels.map(() => null);
      for (const { row, category } of members) data[category] = point(row, measure, locale);
      const name = [plan.seriesDims.length > 0 ? groups.labels[g] : undefined, plan.measures.length > 1 || plan.seriesDims.length === 0 ? measure.label : undefined]
        .filter((p) => p !== undefined)
        .join(' · ');
      series.push({
        type: chart.type === 'line' || chart.type === 'area' ? 'line' : 'bar',
        name,
        data,
        ...(chart.type === 'stackedBar' ? { stack: 'total' } : {}),
        ...(chart.type === 'area' ? { areaStyle: {} } : {}),
        ...(chart.type === 'line' || chart.type === 'area' ? { connectNulls: false } : {}),
        tooltip: { valueFormatter: (v: unknown) => formatValue(v, measure, locale) },
      });
    }
  }
  const categoryAxis = { type: 'category' as const, data: categoryLabels };
  const valueAxis = { type: 'value' as const };
  return {
    tooltip: { trigger: 'axis' },
    legend: { show: series.length > 1 },
    xAxis: chart.horizontal ? valueAxis : categoryAxis,
    yAxis: chart.horizontal ? categoryAxis : valueAxis,
    series: series as EChartsOption['series'],
  };
};

/** pie and funnel: one slice per row, in dimension order, named by every dimension's label. */
function sliced(type: 'pie' | 'funnel'): Builder {
  return (result, plan, _chart, locale) => {
    const dims = [...plan.categoryDims, ...plan.seriesDims];
    const axis = tupleAxis(plan.rows, dims, locale);
    const measure = plan.measures[0]!;
    const rate = result.columns.find((c) => c.role === 'rate');
    const ordered = [...plan.rows].sort((a, b) => axis.indexOf(a) - axis.indexOf(b));
    const data = ordered.map((row) =>
      point(row, measure, locale, {
        name: dims.length > 0 ? axis.labels[axis.indexOf(row)] : measure.label,
        ...(type === 'funnel' && rate ? { rate: toNumber(row.values[rate.key]) } : {}),
      }),
    );
    const series: Record<string, unknown> = {
      type,
      name: measure.label,
      data,
      tooltip: { valueFormatter: (v: unknown) => formatValue(v, measure, locale) },
      // a funnel's stages keep their defined order instead of being sorted by size
      ...(type === 'funnel' ? { sort: 'none', label: { show: true, position: 'inside' } } : { radius: '65%' }),
    };
    return { tooltip: { trigger: 'item' }, legend: { show: data.length > 1 }, series: [series] as EChartsOption['series'] };
  };
}

/** gauge: the KPI against its target (the dial ends at the target, or above the value when there is none). */
const gauge: Builder = (result, plan, _chart, locale) => {
  const measure = (result.kpi && result.columns.find((c) => c.key === result.kpi!.measure)) || plan.measures[0]!;
  const targetColumn = result.kpi?.target ? result.columns.find((c) => c.key === result.kpi!.target) : result.columns.find((c) => c.role === 'target');
  const axis = tupleAxis(plan.rows, [...plan.categoryDims, ...plan.seriesDims], locale);
  const data = plan.rows.map((row) =>
    point(row, measure, locale, {
      name: plan.categoryDims.length > 0 ? axis.labels[axis.indexOf(row)] : measure.label,
      target: targetColumn ? toNumber(row.values[targetColumn.key]) : null,
    }),
  );
  const targets = data.map((d) => d.target ?? 0).filter((t) => t > 0);
  const values = data.map((d) => (typeof d.value === 'number' ? d.value : 0));
  const max = targets.length > 0 ? Math.max(...targets) : niceCeiling(Math.max(0, ...values));
  return {
    tooltip: { trigger: 'item' },
    series: [
      {
        type: 'gauge',
        name: measure.label,
        min: 0,
        max,
        progress: { show: true },
        detail: { valueAnimation: true, formatter: (v: number) => formatValue(v, measure, locale) },
        data,
      },
    ] as EChartsOption['series'],
  };
};

/** heat map: the pivot's row dimensions down, its column dimensions across, the first measure as colour. */
const heatmap: Builder = (_result, plan, _chart, locale) => {
  const down = tupleAxis(plan.rows, plan.categoryDims, locale);
  const across = tupleAxis(plan.rows, plan.seriesDims, locale);
  const measure = plan.measures[0]!;
  const data = plan.rows.map((row) => {
    const p = point(row, measure, locale);
    return { ...p, value: [plan.seriesDims.length > 0 ? across.indexOf(row) : 0, plan.categoryDims.length > 0 ? down.indexOf(row) : 0, p.value as number | null] };
  });
  const values = data.map((d) => d.value[2]).filter((v): v is number => typeof v === 'number');
  return {
    tooltip: { trigger: 'item' },
    xAxis: { type: 'category', data: plan.seriesDims.length > 0 ? across.labels : [''], splitArea: { show: true } },
    yAxis: { type: 'category', data: plan.categoryDims.length > 0 ? down.labels : [''], splitArea: { show: true } },
    visualMap: { min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0, calculable: true, orient: 'horizontal', left: 'center', bottom: 0 },
    series: [
      {
        type: 'heatmap',
        name: measure.label,
        data,
        label: { show: true, formatter: (p: { data: ChartPoint }) => p.data.formatted },
        tooltip: { valueFormatter: (v: unknown) => formatValue(v, measure, locale) },
      },
    ] as EChartsOption['series'],
  };
};

/** table: a dataset of the raw values for ECharts plus the rendered cells, subtotals and totals kept. */
const table: Builder = (result, plan, _chart, locale) => {
  const described: ChartTable = {
    columns: result.columns.map((c) => ({ key: c.key, label: c.label, role: c.role, numeric: NUMERIC.has(c.type) || c.role === 'rate' || c.role === 'change' })),
    rows: [
      ...result.rows.map((row) => tableRow(result, row, locale, plan.timezone)),
      ...(result.totals ? [{ ...tableRow(result, result.totals, locale, plan.timezone), total: true }] : []),
    ],
  };
  return {
    dataset: {
      dimensions: result.columns.map((c) => ({ name: c.key, displayName: c.label, type: NUMERIC.has(c.type) ? 'number' : 'ordinal' })),
      source: result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c.key, numericOrRaw(row.values[c.key], c)]))),
    },
    table: described,
  } as EChartsOption;
};

function tableRow(result: ReportResult, row: ReportRow, locale: Locale, timezone: string | undefined): ChartTable['rows'][number] {
  return {
    cells: result.columns.map((c) => (row.subtotal && c.role === 'dimension' && row.values[c.key] == null ? '' : formatValue(row.values[c.key], c, locale, timezone))),
    values: row.values,
    drill: row.drill,
    ...(row.subtotal ? { subtotal: row.subtotal } : {}),
  };
}

function numericOrRaw(value: unknown, column: ReportColumn): unknown {
  return NUMERIC.has(column.type) ? toNumber(value) : (value ?? null);
}

/** 1, 2 or 5 times a power of ten, at or above `n`, so a gauge without a target has a readable scale. */
function niceCeiling(n: number): number {
  if (n <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

const BUILDERS: Record<ChartSpec['type'], Builder> = {
  bar: cartesian,
  stackedBar: cartesian,
  line: cartesian,
  area: cartesian,
  pie: sliced('pie'),
  funnel: sliced('funnel'),
  gauge,
  heatmap,
  table,
};
