import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Ajv2020 from 'ajv/dist/2020';
import type { AppDocument } from '@tessera/metadata';
import { checkDashboards, dashboardSchema, parseFilterValues, globalFilterExpression, zonedMidnight, type DashboardDef } from '../src/index';

const label = (en: string, zh = en) => ({ en, zh });

function app(dashboards: unknown[]): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: label('Deal'),
        fields: [
          { key: 'title', type: 'text', label: label('Title') },
          { key: 'stage', type: 'select', label: label('Stage'), options: [{ value: 'new', label: label('New') }, { value: 'won', label: label('Won') }] },
          { key: 'amount', type: 'currency', label: label('Amount'), currency: 'CNY' },
          { key: 'close_date', type: 'date', label: label('Close date') },
          { key: 'closed_at', type: 'datetime', label: label('Closed at') },
          { key: 'rep', type: 'user', label: label('Rep') },
        ],
      },
      { key: 'task', label: label('Task'), fields: [{ key: 'due', type: 'date', label: label('Due') }] },
    ],
    reports: [
      { key: 'pipeline', name: label('Pipeline', '管道'), kind: 'summary', object: 'deal', dimensions: [{ field: 'stage' }], measures: [{ key: 'n', aggregate: 'count' }] },
      { key: 'tasks', name: label('Tasks'), kind: 'summary', object: 'task', dimensions: [{ field: 'due', bucket: 'month' }], measures: [{ key: 'n', aggregate: 'count' }] },
    ],
    dashboards,
  };
}

/** every property of the model filled in */
const full: DashboardDef = {
  key: 'sales',
  name: label('Sales', '销售'),
  description: label('The sales director’s view', '销售总监看板'),
  widgets: [
    { id: 'by_stage', report: 'pipeline', title: label('By stage', '按阶段'), chart: { type: 'bar', category: 'stage', measures: ['n'], horizontal: true }, layout: { x: 0, y: 0, w: 6, h: 4 } },
    { id: 'tasks_by_month', report: 'tasks', chart: { type: 'line', category: 'due_month', series: 'due_month' }, layout: { x: 6, y: 0, w: 6, h: 4 } },
  ],
  filters: [
    { key: 'period', type: 'dateRange', label: label('Period', '期间'), appliesTo: { deal: 'close_date', task: 'due' } },
    { key: 'owner', type: 'user', label: label('Owner', '负责人'), appliesTo: { deal: 'owner_id' } },
    { key: 'stage', type: 'select', label: label('Stage', '阶段'), appliesTo: { deal: 'stage' } },
  ],
};

const fields = (errors: { field: string }[]) => errors.map((e) => e.field);

describe('dashboard model', () => {
  it('a fully populated typed dashboard validates against the schema and passes the checks', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(dashboardSchema);
    expect(validate(full), JSON.stringify(validate.errors)).toBe(true);
    expect(checkDashboards(app([full]))).toEqual([]);
  });

  it('a chart of a time series may name its period column, which the report does not list as a dimension', () => {
    const doc = app([{ key: 'trend', name: label('Trend'), widgets: [{ id: 'w', report: 'trend', chart: { type: 'line', category: 'period' }, layout: { x: 0, y: 0, w: 12, h: 4 } }] }]);
    doc.reports!.push({ key: 'trend', name: label('Trend'), kind: 'timeseries', object: 'deal', measures: [{ key: 'n', aggregate: 'count' }], timeseries: { dateField: 'close_date', bucket: 'month' } });
    expect(checkDashboards(doc)).toEqual([]);
  });

  it('no dashboards section is fine', () => {
    expect(checkDashboards({ objects: [] })).toEqual([]);
  });

  it('shape errors name the path under dashboards/<i>', () => {
    const broken = { ...full, key: 'Bad Key', widgets: [{ ...full.widgets[0], chart: { type: 'sparkline' }, layout: { x: 12, y: 0, w: 0, h: 1 }, extra: 1 }] };
    expect(fields(checkDashboards(app([full, broken])))).toEqual(
      expect.arrayContaining(['dashboards/1/key', 'dashboards/1/widgets/0/chart/type', 'dashboards/1/widgets/0/layout/x', 'dashboards/1/widgets/0/layout/w', 'dashboards/1/widgets/0/extra']),
    );
  });

  it('semantic errors: duplicate keys and ids, unknown report, unknown chart dimension, past the grid, overlaps, wrong filter fields', () => {
    const bad: DashboardDef = {
      key: 'sales',
      name: label('Again'),
      widgets: [
        { id: 'a', report: 'pipeline', chart: { type: 'bar', category: 'owner' }, layout: { x: 8, y: 0, w: 6, h: 2 } },
        { id: 'a', report: 'nope', chart: { type: 'pie' }, layout: { x: 0, y: 0, w: 9, h: 1 } },
      ],
      filters: [
        { key: 'period', type: 'dateRange', label: label('P'), appliesTo: { deal: 'amount', ghost: 'x', task: 'missing' } },
        { key: 'period', type: 'user', label: label('U'), appliesTo: { deal: 'stage' } },
        { key: 'who', type: 'user', label: label('W'), appliesTo: { deal: 'rep' } },
        { key: 'when', type: 'dateRange', label: label('W'), appliesTo: { deal: 'closed_at', task: 'created_at' } },
      ],
    };
    const errors = checkDashboards(app([full, bad]));
    expect(errors.map((e) => [e.field, e.code])).toEqual([
      ['dashboards/1/key', 'duplicate'],
      ['dashboards/1/widgets/0/chart/category', 'unknown_dimension'],
      ['dashboards/1/widgets/0/layout/w', 'out_of_grid'],
      ['dashboards/1/widgets/1/id', 'duplicate'],
      ['dashboards/1/widgets/1/report', 'unknown_report'],
      ['dashboards/1/widgets/1/layout', 'overlap'],
      ['dashboards/1/filters/0/appliesTo/deal', 'type'],
      ['dashboards/1/filters/0/appliesTo/ghost', 'unknown_object'],
      ['dashboards/1/filters/0/appliesTo/task', 'unknown_field'],
      ['dashboards/1/filters/1/key', 'duplicate'],
      ['dashboards/1/filters/1/appliesTo/deal', 'type'],
    ]);
    expect(errors.find((e) => e.code === 'overlap')!.message).toContain('"a"');
  });

  it('overlap is reported exactly when two widgets share a grid cell (property)', () => {
    const layout = fc.record({ x: fc.integer({ min: 0, max: 11 }), y: fc.integer({ min: 0, max: 6 }), w: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 1, max: 3 }) }).filter((l) => l.x + l.w <= 12);
    fc.assert(
      fc.property(fc.array(layout, { minLength: 1, maxLength: 6 }), (layouts) => {
        const dashboard: DashboardDef = { key: 'd', name: label('D'), widgets: layouts.map((l, i) => ({ id: `w${i}`, report: 'pipeline', chart: { type: 'bar' }, layout: l })) };
        const cells = new Map<string, number>();
        let shared = false;
        for (const l of layouts)
          for (let x = l.x; x < l.x + l.w; x++)
            for (let y = l.y; y < l.y + l.h; y++) {
              const k = `${x},${y}`;
              if (cells.has(k)) shared = true;
              cells.set(k, 1);
            }
        const overlaps = checkDashboards(app([dashboard])).filter((e) => e.code === 'overlap');
        expect(overlaps.length > 0).toBe(shared);
      }),
    );
  });
});

describe('global filter values', () => {
  const doc = app([full]);
  const ME = '0190f1a2-0000-7000-8000-000000000001';
  const U2 = '0190f1a2-0000-7000-8000-000000000002';
  const env = { now: new Date('2026-03-10T00:00:00Z'), userId: ME, timezone: 'Asia/Shanghai' };

  it('reads ranges, lists and "me", and turns them into one expression per object', () => {
    const values = parseFilterValues(doc, full, { period: '2026-01-01..2026-03-31', owner: `me,${U2}`, stage: ['won'] }, env);
    expect(globalFilterExpression(doc, full, values, 'deal', env)).toEqual({
      and: [
        { '>=': [{ var: 'close_date' }, '2026-01-01'] },
        { '<=': [{ var: 'close_date' }, '2026-03-31'] },
        { in: [{ var: 'owner_id' }, [ME, U2]] },
        { '==': [{ var: 'stage' }, 'won'] },
      ],
    });
    // only the date range applies to tasks
    expect(globalFilterExpression(doc, full, values, 'task', env)).toEqual({
      and: [{ '>=': [{ var: 'due' }, '2026-01-01'] }, { '<=': [{ var: 'due' }, '2026-03-31'] }],
    });
    const open = parseFilterValues(doc, full, { period: '..2026-03-31', owner: '' }, env);
    expect(globalFilterExpression(doc, full, open, 'task', env)).toEqual({ '<=': [{ var: 'due' }, '2026-03-31'] });
    expect(globalFilterExpression(doc, full, new Map(), 'deal', env)).toBeUndefined();
  });

  it('a datetime field is in a date range by its local date in the viewer’s zone', () => {
    const dashboard: DashboardDef = { ...full, filters: [{ key: 'period', type: 'dateRange', label: label('P'), appliesTo: { deal: 'closed_at' } }] };
    const values = parseFilterValues(doc, dashboard, { period: { from: '2026-03-01', to: '2026-03-31' } }, env);
    expect(globalFilterExpression(doc, dashboard, values, 'deal', env)).toEqual({
      and: [{ '>=': [{ var: 'closed_at' }, '2026-02-28T16:00:00.000Z'] }, { '<': [{ var: 'closed_at' }, '2026-03-31T16:00:00.000Z'] }],
    });
    // across a daylight-saving change
    expect(zonedMidnight('2026-03-08', 'America/New_York')).toBe('2026-03-08T05:00:00.000Z');
    expect(zonedMidnight('2026-03-09', 'America/New_York')).toBe('2026-03-09T04:00:00.000Z');
  });

  it('bad values are one 400 naming each filter', () => {
    const error = (() => {
      try {
        parseFilterValues(doc, full, { period: '2026-02-30..', stage: 'won,maybe', color: 'red', owner: 'me,bob' }, env);
      } catch (e) {
        return e as { status: number; errors: { field: string; code: string; message: string }[] };
      }
    })()!;
    expect(error.status).toBe(400);
    expect(error.errors.map((e) => [e.field, e.code])).toEqual([
      ['period', 'invalid'],
      ['stage', 'invalid'],
      ['color', 'unknown_filter'],
      ['owner', 'invalid'],
    ]);
    expect(error.errors[1]!.message).toContain('maybe');
    expect(error.errors[3]!.message).toContain('bob');
    expect(() => parseFilterValues(doc, full, { owner: ',' }, env)).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ field: 'owner' })] }));
    expect(() => parseFilterValues(doc, full, { period: '2026-03-02..2026-03-01' }, env)).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ field: 'period', message: expect.stringContaining('after it ends') })] }),
    );
    expect(() => parseFilterValues(doc, full, { owner: 'me' }, { now: env.now })).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ field: 'owner', message: expect.stringContaining('signed-in') })] }),
    );
  });
});
