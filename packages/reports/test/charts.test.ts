import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderChartSvg, toEChartsOption, type ChartPoint, type ChartSpec, type ChartTable, type ReportColumn, type ReportResult, type ReportRow } from '../src/index';

/** A pipeline summary: stage (select, defined order new < qualified < won) × close month, count and money sum. */
const stage: ReportColumn = {
  key: 'stage',
  label: '阶段',
  role: 'dimension',
  type: 'text',
  options: [
    { value: 'new', label: '新建' },
    { value: 'qualified', label: '已确认' },
    { value: 'won', label: '赢单' },
  ],
};
const month: ReportColumn = { key: 'close_month', label: 'Close month', role: 'dimension', type: 'date', bucket: 'month' };
const count: ReportColumn = { key: 'count', label: 'Deals', role: 'measure', type: 'number' };
const amount: ReportColumn = { key: 'amount_sum', label: 'Amount', role: 'measure', type: 'money', currency: 'CNY' };

const drillOf = (stageValue: string | null, monthValue?: string) => ({
  and: [{ '==': [{ var: 'stage' }, stageValue] }, ...(monthValue ? [{ '==': [{ var: 'close_month' }, monthValue] }] : [])],
});

/** rows deliberately NOT in option order, so the chart has to reorder them */
const byStage: ReportResult = {
  kind: 'summary',
  columns: [stage, count, amount],
  rows: [
    { values: { stage: 'won', count: 2, amount_sum: '1500.50' }, drill: drillOf('won') },
    { values: { stage: 'new', count: 5, amount_sum: '200.00' }, drill: drillOf('new') },
    { values: { stage: 'qualified', count: 3, amount_sum: '999.99' }, drill: drillOf('qualified') },
  ],
  totals: { values: { count: 10, amount_sum: '2700.49' }, drill: { and: [] } },
};

const byStageAndMonth: ReportResult = {
  kind: 'pivot',
  columns: [stage, month, amount],
  pivot: { rows: ['stage'], columns: ['close_month'] },
  rows: [
    { values: { stage: 'won', close_month: '2026-03-01', amount_sum: '100' }, drill: drillOf('won', '2026-03-01') },
    { values: { stage: 'new', close_month: '2026-01-01', amount_sum: '50' }, drill: drillOf('new', '2026-01-01') },
    { values: { stage: 'new', close_month: null, amount_sum: null }, drill: drillOf('new'), subtotal: { level: 1 } },
    { values: { stage: 'new', close_month: '2026-03-01', amount_sum: '70' }, drill: drillOf('new', '2026-03-01') },
  ],
};

type Series = { type: string; name: string; data: (ChartPoint | null)[]; stack?: string; areaStyle?: object; sort?: string; max?: number };
const seriesOf = (option: object) => (option as { series: Series[] }).series;
const axisData = (option: object, axis: 'xAxis' | 'yAxis') => (option as Record<string, { data: string[] }>)[axis]!.data;

describe('toEChartsOption: cartesian charts', () => {
  it('bar: categories in the select options’ defined order with their labels, values and drills from the matching rows', () => {
    const option = toEChartsOption(byStage, { type: 'bar', measures: ['count'] }, { locale: 'zh' });
    expect(axisData(option, 'xAxis')).toEqual(['新建', '已确认', '赢单']);
    const [series] = seriesOf(option);
    expect(series!.type).toBe('bar');
    expect(series!.data.map((p) => p!.value)).toEqual([5, 3, 2]);
    expect(series!.data.map((p) => p!.drill)).toEqual([drillOf('new'), drillOf('qualified'), drillOf('won')]);
    expect(series!.stack).toBeUndefined();
  });

  it('horizontal bar puts the categories on the y axis', () => {
    const option = toEChartsOption(byStage, { type: 'bar', measures: ['count'], horizontal: true });
    expect(axisData(option, 'yAxis')).toEqual(['新建', '已确认', '赢单']);
    expect((option as { xAxis: { type: string } }).xAxis.type).toBe('value');
  });

  it('money is plotted as a number and formatted per locale', () => {
    const zh = seriesOf(toEChartsOption(byStage, { type: 'bar', measures: ['amount_sum'] }, { locale: 'zh' }))[0]!;
    const en = seriesOf(toEChartsOption(byStage, { type: 'bar', measures: ['amount_sum'] }, { locale: 'en' }))[0]!;
    expect(zh.data.map((p) => p!.value)).toEqual([200, 999.99, 1500.5]);
    expect(zh.data[2]!.formatted).toBe('¥1,500.50');
    expect(en.data[2]!.formatted).toBe('CN¥1,500.50');
  });

  it('stacked bar: one stacked series per month (the pivot’s column dimension), months in time order, missing cells empty', () => {
    const option = toEChartsOption(byStageAndMonth, { type: 'stackedBar' }, { locale: 'zh' });
    expect(axisData(option, 'xAxis')).toEqual(['新建', '赢单']);
    const series = seriesOf(option);
    expect(series.map((s) => s.name)).toEqual(['2026年1月', '2026年3月']);
    expect(series.every((s) => s.type === 'bar' && s.stack === 'total')).toBe(true);
    expect(series[0]!.data.map((p) => p?.value ?? null)).toEqual([50, null]);
    expect(series[1]!.data.map((p) => p?.value ?? null)).toEqual([70, 100]);
    expect(series[1]!.data[1]!.drill).toEqual(drillOf('won', '2026-03-01'));
  });

  it('line and area: the time axis in locale-formatted periods, whatever the row order', () => {
    const result: ReportResult = {
      kind: 'timeseries',
      columns: [{ ...month, bucket: 'quarter' }, count, { key: 'count_change', label: 'QoQ', role: 'change', type: 'number' }],
      rows: [
        { values: { close_month: '2026-04-01', count: 4, count_change: 1 }, drill: { q: 2 } },
        { values: { close_month: '2026-01-01', count: 2, count_change: null }, drill: { q: 1 } },
      ],
    };
    const line = toEChartsOption(result, { type: 'line' }, { locale: 'en' });
    expect(axisData(line, 'xAxis')).toEqual(['2026 Q1', '2026 Q2']);
    expect(seriesOf(line)).toHaveLength(1); // the change column is not a measure to plot by default
    expect(seriesOf(line)[0]!.type).toBe('line');
    expect(seriesOf(line)[0]!.data.map((p) => [p!.value, p!.drill])).toEqual([
      [2, { q: 1 }],
      [4, { q: 2 }],
    ]);
    const area = seriesOf(toEChartsOption(result, { type: 'area' }))[0]!;
    expect(area.type).toBe('line');
    expect(area.areaStyle).toEqual({});
    const months = toEChartsOption({ ...result, columns: [month, count] }, { type: 'line' }, { locale: 'en' });
    expect(axisData(months, 'xAxis')).toEqual(['Jan 2026', 'Apr 2026']);
  });

  it('two measures give two series named by the measures', () => {
    const series = seriesOf(toEChartsOption(byStage, { type: 'bar' }));
    expect(series.map((s) => s.name)).toEqual(['Deals', 'Amount']);
  });
});

describe('toEChartsOption: single-series charts', () => {
  it('pie: one slice per row named by its option label', () => {
    const [series] = seriesOf(toEChartsOption(byStage, { type: 'pie', measures: ['amount_sum'] }, { locale: 'zh' }));
    expect(series!.type).toBe('pie');
    expect(series!.data.map((p) => [p!.name, p!.value])).toEqual([
      ['新建', 200],
      ['已确认', 999.99],
      ['赢单', 1500.5],
    ]);
    expect(series!.data[1]!.drill).toEqual(drillOf('qualified'));
  });

  it('funnel: stages in their defined order (not by size), each carrying its conversion rate', () => {
    const funnel: ReportResult = {
      kind: 'funnel',
      columns: [stage, count, { key: 'conversion', label: 'Conversion', role: 'rate', type: 'number' }],
      rows: [
        { values: { stage: 'qualified', count: 6, conversion: 0.6 }, drill: drillOf('qualified') },
        { values: { stage: 'won', count: 3, conversion: 0.5 }, drill: drillOf('won') },
        { values: { stage: 'new', count: 10, conversion: null }, drill: drillOf('new') },
      ],
    };
    const [series] = seriesOf(toEChartsOption(funnel, { type: 'funnel' }, { locale: 'en' }));
    expect(series!.type).toBe('funnel');
    expect(series!.sort).toBe('none');
    expect(series!.data.map((p) => [p!.name, p!.value, p!.rate, p!.drill])).toEqual([
      ['新建', 10, null, drillOf('new')],
      ['已确认', 6, 0.6, drillOf('qualified')],
      ['赢单', 3, 0.5, drillOf('won')],
    ]);
  });

  it('gauge: the KPI against its target, the dial ending at the target', () => {
    const kpi: ReportResult = {
      kind: 'kpi',
      columns: [amount, { key: 'target', label: 'Target', role: 'target', type: 'money', currency: 'CNY' }, { key: 'attainment', label: '%', role: 'rate', type: 'number' }],
      kpi: { measure: 'amount_sum', target: 'target' },
      rows: [{ values: { amount_sum: '750000.00', target: '1000000.00', attainment: 0.75 }, drill: { '==': [{ var: 'stage' }, 'won'] } }],
    };
    const [series] = seriesOf(toEChartsOption(kpi, { type: 'gauge' }, { locale: 'zh' }));
    expect(series!.type).toBe('gauge');
    expect(series!.max).toBe(1_000_000);
    expect(series!.data).toEqual([
      { value: 750000, name: 'Amount', target: 1_000_000, drill: { '==': [{ var: 'stage' }, 'won'] }, formatted: '¥750,000.00' },
    ]);
  });
});

describe('toEChartsOption: heat map and table', () => {
  it('heat map: pivot rows down, columns across, [x, y, value] cells with drills, subtotals left out', () => {
    const option = toEChartsOption(byStageAndMonth, { type: 'heatmap' }, { locale: 'en' });
    expect(axisData(option, 'yAxis')).toEqual(['新建', '赢单']);
    expect(axisData(option, 'xAxis')).toEqual(['Jan 2026', 'Mar 2026']);
    const [series] = seriesOf(option);
    expect(series!.type).toBe('heatmap');
    expect(series!.data.map((p) => [p!.value, p!.drill])).toEqual([
      [[1, 1, 100], drillOf('won', '2026-03-01')],
      [[0, 0, 50], drillOf('new', '2026-01-01')],
      [[1, 0, 70], drillOf('new', '2026-03-01')],
    ]);
    expect((option as { visualMap: { min: number; max: number } }).visualMap).toMatchObject({ min: 50, max: 100 });
  });

  it('table: columns with labels, every row (subtotals too) and the totals, cells formatted, drills kept', () => {
    const option = toEChartsOption(byStage, { type: 'table' }, { locale: 'zh' }) as { table: ChartTable; dataset: { source: object[] } };
    expect(option.table.columns.map((c) => c.label)).toEqual(['阶段', 'Deals', 'Amount']);
    expect(option.table.rows.map((r) => r.cells)).toEqual([
      ['赢单', '2', '¥1,500.50'],
      ['新建', '5', '¥200.00'],
      ['已确认', '3', '¥999.99'],
      ['（空）', '10', '¥2,700.49'],
    ]);
    expect(option.table.rows[3]!.total).toBe(true);
    expect(option.table.rows.map((r) => r.drill)).toEqual([...byStage.rows.map((r) => r.drill), byStage.totals!.drill]);
    expect(option.dataset.source[0]).toEqual({ stage: 'won', count: 2, amount_sum: 1500.5 });
  });

  it('table: datetimes read in the chart’s zone and locale', () => {
    const result: ReportResult = {
      kind: 'table',
      columns: [{ key: 'closed_at', label: 'Closed', role: 'field', type: 'datetime' }],
      rows: [{ values: { closed_at: '2026-03-31T16:30:00.000Z' }, drill: { id: 1 } }],
    };
    const cells = (options: object) => (toEChartsOption(result, { type: 'table' }, options) as { table: ChartTable }).table.rows[0]!.cells;
    expect(cells({ locale: 'zh' })).toEqual(['2026年4月1日 00:30']);
    expect(cells({ locale: 'en', timezone: 'UTC' })).toEqual(['Mar 31, 2026 16:30']);
  });

  it('a chart naming a column the report lacks is refused with the path of the name', () => {
    expect(() => toEChartsOption(byStage, { type: 'bar', measures: ['nope'] })).toThrowError(/nope/);
    try {
      toEChartsOption(byStage, { type: 'bar', category: 'count' });
    } catch (e) {
      expect((e as { errors: { field: string }[] }).errors[0]!.field).toBe('chart/category');
    }
  });
});

describe('renderChartSvg', () => {
  it('draws an option as an SVG document on the server, text escaped', async () => {
    const hostile: ReportResult = { ...byStage, rows: [{ values: { stage: '<script>alert(1)</script>', count: 1 }, drill: {} }, ...byStage.rows] };
    const svg = await renderChartSvg(toEChartsOption(hostile, { type: 'bar', measures: ['count'] }, { locale: 'zh' }), { width: 1200, height: 300, locale: 'zh' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('width="1200"');
    for (const label of ['新建', '已确认', '赢单', '&lt;script&gt;']) expect(svg).toContain(label);
    expect(svg).not.toContain('<script>');
    await expect(renderChartSvg(toEChartsOption(byStage, { type: 'table' }))).rejects.toThrow(/table has no picture/);
  });
});

describe('toEChartsOption: properties over random results', () => {
  const optionPool = ['a', 'b', 'c', 'd'];
  /** a result with 0-2 dimensions (unique combinations), one measure, some subtotal rows */
  const randomResult = fc
    .record({
      dims: fc.integer({ min: 0, max: 2 }),
      combos: fc.uniqueArray(fc.tuple(fc.constantFrom(...optionPool, null), fc.constantFrom('2026-01-01', '2026-02-01', '2025-12-01', null)), {
        minLength: 1,
        maxLength: 12,
        selector: (t) => JSON.stringify(t),
      }),
      values: fc.array(fc.oneof(fc.integer({ min: -1000, max: 100000 }), fc.constant(null)), { minLength: 12, maxLength: 12 }),
      subtotalEvery: fc.integer({ min: 2, max: 5 }),
      money: fc.boolean(),
    })
    .map(({ dims, combos, values, subtotalEvery, money }) => {
      const columns: ReportColumn[] = [
        { key: 'opt', label: 'Opt', role: 'dimension', type: 'text', options: optionPool.map((v) => ({ value: v, label: v.toUpperCase() })) },
        { key: 'period', label: 'Period', role: 'dimension', type: 'date', bucket: 'month' },
      ].slice(0, dims) as ReportColumn[];
      columns.push(money ? { key: 'm', label: 'M', role: 'measure', type: 'money', currency: 'USD' } : { key: 'm', label: 'M', role: 'measure', type: 'number' });
      const unique = dims === 0 ? combos.slice(0, 1) : dims === 1 ? [...new Map(combos.map((c) => [JSON.stringify(c[0]), c])).values()] : combos;
      const rows: ReportRow[] = [];
      unique.forEach((combo, i) => {
        const v = values[i] ?? null;
        const keyed = { opt: combo[0], period: combo[1] };
        const dimValues = Object.fromEntries(columns.filter((c) => c.role === 'dimension').map((c) => [c.key, keyed[c.key as 'opt' | 'period']]));
        rows.push({ values: { ...dimValues, m: money && v !== null ? `${v}.25` : v }, drill: { row: i } });
        if (i % subtotalEvery === 0) rows.push({ values: { ...dimValues, m: 0 }, drill: { subtotal: i }, subtotal: { level: 0 } });
      });
      return { kind: 'summary', columns, rows } satisfies ReportResult;
    });

  const plotted: ChartSpec['type'][] = ['bar', 'stackedBar', 'line', 'area', 'pie', 'funnel', 'gauge', 'heatmap'];

  it('one data point per non-subtotal row, each carrying that row’s drill, for every plotted chart type', () => {
    fc.assert(
      fc.property(randomResult, fc.constantFrom(...plotted), fc.constantFrom<'en' | 'zh'>('en', 'zh'), (result, type, locale) => {
        const option = toEChartsOption(result, { type }, { locale });
        const points = seriesOf(option).flatMap((s) => s.data.filter((p): p is ChartPoint => p !== null));
        const rows = result.rows.filter((r) => !r.subtotal);
        expect(points).toHaveLength(rows.length);
        expect(points.map((p) => p.drill).sort(byJson)).toEqual(rows.map((r) => r.drill).sort(byJson));
        for (const p of points) {
          const row = rows.find((r) => r.drill === p.drill)!;
          const value = Array.isArray(p.value) ? p.value[2] : p.value;
          expect(value).toEqual(row.values.m === null ? null : Number(row.values.m));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the table keeps every row, subtotals included, in the result’s order', () => {
    fc.assert(
      fc.property(randomResult, (result) => {
        const option = toEChartsOption(result, { type: 'table' }) as { table: ChartTable };
        expect(option.table.rows.map((r) => r.drill)).toEqual(result.rows.map((r) => r.drill));
      }),
    );
  });
});

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
