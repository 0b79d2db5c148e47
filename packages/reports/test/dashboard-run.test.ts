import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, openTestDatabase, refusal, unrestrictedPolicy, type Actor, type ApiRecord, type Database } from '@tessera/store';
import { checkDashboards, checkReports, runDashboard, type ChartPoint, type DashboardDef, type ReportResult } from '../src/index';

const label = (en: string, zh = en) => ({ en, zh });
const STAGES = ['lead', 'qualified', 'won', 'lost'];
const env = (userId: string) => ({ now: new Date('2026-06-15T04:00:00.000Z'), timezone: 'Asia/Shanghai', userId });

const dashboard: DashboardDef = {
  key: 'sales',
  name: label('Sales', '销售'),
  widgets: [
    { id: 'by_stage', report: 'pipeline', chart: { type: 'bar', measures: ['n'] }, layout: { x: 0, y: 0, w: 6, h: 4 } },
    { id: 'stage_month', report: 'stage_month', chart: { type: 'heatmap' }, layout: { x: 6, y: 0, w: 6, h: 4 } },
    { id: 'tasks', report: 'tasks', title: label('Open tasks', '待办'), chart: { type: 'line' }, layout: { x: 0, y: 4, w: 12, h: 3 } },
  ],
  filters: [
    { key: 'period', type: 'dateRange', label: label('Period', '期间'), appliesTo: { deal: 'close_date', task: 'due' } },
    { key: 'owner', type: 'user', label: label('Owner', '负责人'), appliesTo: { deal: 'owner_id' } },
    { key: 'stage', type: 'select', label: label('Stage', '阶段'), appliesTo: { deal: 'stage' } },
  ],
};

function salesApp(): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: label('Deal'),
        fields: [
          { key: 'title', type: 'text', label: label('Title') },
          { key: 'stage', type: 'select', label: label('Stage', '阶段'), options: STAGES.map((s) => ({ value: s, label: label(s.toUpperCase(), s) })) },
          { key: 'amount', type: 'currency', label: label('Amount', '金额'), currency: 'CNY', scale: 2 },
          { key: 'close_date', type: 'date', label: label('Close date') },
        ],
      },
      { key: 'task', label: label('Task'), fields: [{ key: 'due', type: 'date', label: label('Due') }] },
    ],
    reports: [
      {
        key: 'pipeline',
        name: label('Pipeline', '管道'),
        kind: 'summary',
        object: 'deal',
        filter: { '!=': [{ var: 'stage' }, 'lost'] },
        dimensions: [{ field: 'stage' }],
        measures: [
          { key: 'n', aggregate: 'count' },
          { key: 'total', aggregate: 'sum', field: 'amount' },
        ],
        totals: true,
      },
      {
        key: 'stage_month',
        name: label('Stage by month'),
        kind: 'pivot',
        object: 'deal',
        dimensions: [{ field: 'stage' }, { field: 'close_date', bucket: 'month' }],
        measures: [{ key: 'n', aggregate: 'count' }],
        subtotals: true,
      },
      { key: 'tasks', name: label('Tasks'), kind: 'summary', object: 'task', dimensions: [{ field: 'due', bucket: 'month' }], measures: [{ key: 'n', aggregate: 'count' }] },
    ],
    dashboards: [dashboard],
  };
}

let database: Database;
let app: PublishedApp;
let records: RecordRepository;
let actors: Actor[];
let deals: ApiRecord[];
let tasks: ApiRecord[];

beforeAll(async () => {
  database = await openTestDatabase();
  const workspaceId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'dashboards' }).execute();
  actors = [];
  for (let i = 0; i < 2; i++) {
    const userId = randomUUID();
    await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
    actors.push({ workspaceId, userId, source: 'api' });
  }
  const metadata = new MetadataRepository(database.db, { documentChecks: [checkReports, checkDashboards] });
  await metadata.createApp(actors[0]!, { key: 'sales', draft: salesApp() });
  await metadata.publish(actors[0]!, 'sales');
  app = await metadata.getPublished(workspaceId, 'sales');
  records = new RecordRepository(database.db, app);
  const dates = ['2026-01-05', '2026-01-31', '2026-02-01', '2026-02-28', '2026-03-15', '2026-04-01', null];
  const sample = fc.sample(
    fc.record({ owner: fc.integer({ min: 0, max: 1 }), stage: fc.constantFrom(...STAGES, null), amount: fc.option(fc.integer({ min: 0, max: 99999 })), close_date: fc.constantFrom(...dates) }),
    { numRuns: 60, seed: 5 },
  );
  deals = [];
  for (const [i, d] of sample.entries()) {
    const input = { title: `deal ${i}`, stage: d.stage, amount: d.amount === null ? null : `${d.amount}.50`, close_date: d.close_date };
    deals.push(await records.create(actors[d.owner]!, 'deal', input));
  }
  tasks = [];
  for (const due of ['2026-01-10', '2026-02-10', '2026-02-11', '2026-05-01', null]) tasks.push(await records.create(actors[0]!, 'task', { due }));
}, 120_000);
afterAll(() => database?.close());

const run = (filterValues: Record<string, unknown>, locale: 'en' | 'zh' = 'en') =>
  runDashboard(database.db, app, dashboard, { policy: unrestrictedPolicy({ workspaceId: actors[0]!.workspaceId, userId: actors[0]!.userId, isAdmin: true }), env: env(actors[0]!.userId!), filterValues, locale });

/** the ids the record list returns for a filter (the path a click on a point takes) */
async function listed(object: string, filter: unknown): Promise<string[]> {
  const page = await records.list(actors[0]!.workspaceId, object, { filter, limit: 200 }, env(actors[0]!.userId!));
  expect(page.nextCursor).toBeNull();
  return page.items.map((r) => r.id).sort();
}

interface Chosen {
  period?: { from?: string; to?: string };
  owner?: number[];
  stage?: string[];
}

function inPeriod(date: unknown, period: Chosen['period']): boolean {
  if (!period || (!period.from && !period.to)) return true; // an empty range is no filter
  if (typeof date !== 'string') return false;
  return (!period.from || date >= period.from) && (!period.to || date <= period.to);
}

const chosen = fc.record(
  {
    period: fc.record({ from: fc.constantFrom('2026-01-01', '2026-02-01', '2026-02-15'), to: fc.constantFrom('2026-02-28', '2026-03-31', '2026-12-31') }, { requiredKeys: [] }),
    owner: fc.uniqueArray(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 2 }),
    stage: fc.uniqueArray(fc.constantFrom(...STAGES), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: [] },
);

function asQuery(c: Chosen): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (c.period) q.period = `${c.period.from ?? ''}..${c.period.to ?? ''}`;
  if (c.owner) q.owner = c.owner.map((i) => actors[i]!.userId).join(',');
  if (c.stage) q.stage = c.stage;
  return q;
}

describe('runDashboard', () => {
  it('every widget’s points count exactly the records its drill lists, with the global filters applied (property)', async () => {
    await fc.assert(
      fc.asyncProperty(chosen, async (c) => {
        const result = await run(asQuery(c));
        const dealMatches = deals.filter(
          (d) => inPeriod(d.close_date, c.period) && (!c.owner || c.owner.some((i) => actors[i]!.userId === d.owner_id)) && (!c.stage || c.stage.includes(d.stage as string)),
        );
        const taskMatches = tasks.filter((t) => inPeriod(t.due, c.period));
        for (const widget of result.widgets) {
          expect(widget.error).toBeUndefined();
          const points = (widget.option!.series as { data: (ChartPoint | null)[] }[]).flatMap((s) => s.data.filter((p): p is ChartPoint => p !== null));
          const result = widget.result!;
          expect(points).toHaveLength(result.rows.filter((r) => !r.subtotal).length);
          const object = widget.report === 'tasks' ? 'task' : 'deal';
          const base = widget.report === 'tasks' ? taskMatches : widget.report === 'pipeline' ? dealMatches.filter((d) => d.stage != null && d.stage !== 'lost') : dealMatches; // the report's != is false with null
          let covered = 0;
          for (const p of points) {
            const ids = await listed(object, p.drill);
            const counted = (p.value as number | [number, number, number]) instanceof Array ? (p.value as number[])[2] : p.value;
            expect(ids).toHaveLength(counted as number);
            // a drill selects only records the filtered dashboard counts
            expect(ids.every((id) => base.some((r) => r.id === id))).toBe(true);
            covered += ids.length;
          }
          // and together the points cover every such record
          expect(covered, `${widget.report}: ${JSON.stringify(result.rows.map((r) => [r.values, r.subtotal]))}`).toBe(base.length);
          if (result.totals) expect(await listed(object, result.totals.drill)).toEqual(base.map((r) => r.id).sort());
        }
      }),
      // an empty range once failed the oracle (it treated "..": no filter, as "has a date")
      { numRuns: 8, examples: [[{ period: {} }]] },
    );
  });

  it('narrows only widgets whose object a filter applies to, and says which values were applied', async () => {
    const result = await run({ owner: actors[1]!.userId, stage: 'won' }, 'zh');
    const [byStage, stageMonth, taskWidget] = result.widgets;
    expect(result.name).toBe('销售');
    expect(result.filters.map((f) => [f.key, f.label, f.value])).toEqual([
      ['period', '期间', null],
      ['owner', '负责人', { type: 'user', values: [actors[1]!.userId] }],
      ['stage', '阶段', { type: 'select', values: ['won'] }],
    ]);
    expect(byStage!.extraFilter).toEqual({ and: [{ '==': [{ var: 'owner_id' }, actors[1]!.userId] }, { '==': [{ var: 'stage' }, 'won'] }] });
    expect(byStage!.title).toBe('管道');
    expect(stageMonth!.result!.rows.filter((r) => !r.subtotal).every((r) => r.values.stage === 'won')).toBe(true);
    expect(taskWidget!.extraFilter).toBeUndefined();
    expect(taskWidget!.title).toBe('待办');
    const taskCounts = (taskWidget!.result as ReportResult).rows.reduce((s, r) => s + (r.values.n as number), 0);
    expect(taskCounts).toBe(tasks.length);
    // the chart speaks the dashboard's language
    expect((byStage!.option!.xAxis as { data: string[] }).data).toEqual(['won']);
  });

  it('a widget the viewer may not read says so; the other widgets still run', async () => {
    const viewer = { workspaceId: actors[0]!.workspaceId, userId: actors[0]!.userId, isAdmin: false };
    const policy = { ...unrestrictedPolicy(viewer), can: (object: { key: string }) => object.key !== 'task' };
    const result = await runDashboard(database.db, app, dashboard, { policy, env: env(actors[0]!.userId!) });
    expect(result.widgets.map((w) => [w.id, w.error?.status ?? 'ok'])).toEqual([
      ['by_stage', 'ok'],
      ['stage_month', 'ok'],
      ['tasks', 403],
    ]);
    expect(result.widgets[2]!.result).toBeUndefined();
  });

  it('every report kind charts through a dashboard: one point per row, each drill listing that row’s records', async () => {
    const kinds: DashboardDef = {
      key: 'kinds',
      name: label('Kinds'),
      widgets: [
        { id: 'funnel', report: 'funnel', chart: { type: 'funnel' }, layout: { x: 0, y: 0, w: 3, h: 3 } },
        { id: 'trend', report: 'trend', chart: { type: 'area' }, layout: { x: 3, y: 0, w: 3, h: 3 } },
        { id: 'kpi', report: 'kpi', chart: { type: 'gauge' }, layout: { x: 6, y: 0, w: 3, h: 3 } },
        { id: 'forecast', report: 'forecast', chart: { type: 'stackedBar', measures: ['pipeline', 'weighted'] }, layout: { x: 9, y: 0, w: 3, h: 3 } },
      ],
      filters: [{ key: 'owner', type: 'user', label: label('Owner'), appliesTo: { deal: 'owner_id' } }],
    };
    const reports = [
      { key: 'funnel', name: label('Funnel'), kind: 'funnel', object: 'deal', funnel: { stageField: 'stage', stages: ['lead', 'qualified', 'won'] } },
      { key: 'trend', name: label('Trend'), kind: 'timeseries', object: 'deal', measures: [{ key: 'n', aggregate: 'count' }], timeseries: { dateField: 'close_date', bucket: 'month', compare: 'previous' } },
      { key: 'kpi', name: label('KPI'), kind: 'kpi', object: 'deal', measures: [{ key: 'n', aggregate: 'count' }], kpi: { measure: 'n', target: 100 } },
      {
        key: 'forecast',
        name: label('Forecast'),
        kind: 'forecast',
        object: 'deal',
        forecast: { amountField: 'amount', stageField: 'stage', closeDateField: 'close_date', bucket: 'month', probabilities: { lead: 0.1, qualified: 0.5, won: 1 } },
      },
    ];
    const withKinds: PublishedApp = { ...app, document: { ...app.document, reports: [...(app.document.reports ?? []), ...reports], dashboards: [kinds] } };
    expect(checkReports(withKinds.document)).toEqual([]);
    expect(checkDashboards(withKinds.document)).toEqual([]);
    const owner = actors[1]!.userId!;
    const result = await runDashboard(database.db, withKinds, kinds, {
      policy: unrestrictedPolicy({ workspaceId: actors[0]!.workspaceId, userId: owner, isAdmin: true }),
      env: env(owner),
      filterValues: { owner: 'me' },
      locale: 'zh',
    });
    const mine = deals.filter((d) => d.owner_id === owner);
    for (const widget of result.widgets) {
      expect(widget.error, widget.id).toBeUndefined();
      const series = widget.option!.series as { type: string; data: (ChartPoint | null)[] }[];
      const points = series.flatMap((s) => s.data.filter((p): p is ChartPoint => p !== null));
      const rows = widget.result!.rows.filter((r) => !r.subtotal);
      expect(points, widget.id).toHaveLength(rows.length * (widget.id === 'forecast' ? 2 : 1));
      for (const p of points) {
        const ids = await listed('deal', p.drill);
        expect(ids.every((id) => mine.some((d) => d.id === id)), widget.id).toBe(true);
        const row = rows.find((r) => r.drill === p.drill)!;
        if (widget.id === 'trend' || widget.id === 'kpi') expect(ids).toHaveLength(p.value as number);
        // a funnel row's drill selects the records AT its stage: the first measure (the count)
        const atStage = widget.result!.columns.find((c) => c.role === 'measure')!.key;
        if (widget.id === 'funnel') expect(ids).toHaveLength(row.values[atStage] as number);
      }
    }
    const [funnel, trend, kpi] = result.widgets;
    expect(funnel!.option!.series).toMatchObject([{ type: 'funnel', sort: 'none' }]);
    // the funnel draws how many reached each stage, in the stages' order
    const reached = ['lead', 'qualified', 'won'].map((_, i, stages) => mine.filter((d) => stages.slice(i).includes(d.stage as string)).length);
    expect((funnel!.option!.series as { data: ChartPoint[] }[])[0]!.data.map((p) => [p.name, p.value])).toEqual([
      ['lead', reached[0]],
      ['qualified', reached[1]],
      ['won', reached[2]],
    ]);
    expect((trend!.option!.xAxis as { data: string[] }).data[0]).toMatch(/^2026年\d+月$/);
    expect((kpi!.option!.series as { max: number; data: ChartPoint[] }[])[0]).toMatchObject({ type: 'gauge', max: 100, data: [{ value: mine.length, target: 100 }] });
  });

  it('a bad filter value is a 400 naming the filter', async () => {
    const problem = await refusal(run({ period: 'last week' }));
    expect(problem.status).toBe(400);
    expect(problem.errors.map((e) => e.field)).toEqual(['period']);
  });
});
