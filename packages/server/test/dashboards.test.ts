import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import type { ChartPoint, DashboardDef, DashboardResult } from '@tessera/reports';
import { TokenRepository, UserRepository, type RoleDef } from '@tessera/store';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

const label = (en: string, zh: string) => ({ en, zh });

const pipeline = {
  key: 'pipeline',
  name: label('Pipeline', '销售管道'),
  kind: 'summary',
  object: 'deal',
  dimensions: [{ field: 'stage' }],
  measures: [
    { key: 'n', aggregate: 'count', label: label('Deals', '交易数') },
    { key: 'total', aggregate: 'sum', field: 'amount', label: label('Amount', '金额') },
  ],
  totals: true,
};

const sales: DashboardDef = {
  key: 'sales',
  name: label('Sales', '销售'),
  widgets: [
    { id: 'by_stage', report: 'pipeline', chart: { type: 'bar', measures: ['total'] }, layout: { x: 0, y: 0, w: 6, h: 4 } },
    { id: 'share', report: 'pipeline', title: label('Share', '占比'), chart: { type: 'pie', measures: ['n'] }, layout: { x: 6, y: 0, w: 6, h: 4 } },
  ],
  filters: [
    { key: 'stage', type: 'select', label: label('Stage', '阶段'), appliesTo: { deal: 'stage' } },
    { key: 'owner', type: 'user', label: label('Owner', '负责人'), appliesTo: { deal: 'owner_id' } },
    { key: 'created', type: 'dateRange', label: label('Created', '创建于'), appliesTo: { deal: 'created_at' } },
  ],
};

const ACTIONS = { create: true, read: true, update: true, delete: false, import: false, export: false } as const;
const ROLES: RoleDef[] = [
  // a sales rep sees their own deals only, and no companies
  { key: 'rep', name: { en: 'Sales rep' }, objects: { deal: { ...ACTIONS, scope: 'own' } } },
];

function draft(): AppDocument {
  return { ...crmDraft(), reports: [pipeline], dashboards: [sales], roles: ROLES };
}

/** a signed-in non-administrator holding the rep role */
async function rep(email: string): Promise<(method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, body?: unknown) => ReturnType<Harness['call']>> {
  const created = await new UserRepository(h.database.db).create(h.workspaceId, { email, name: email, passwordHash: 'x' });
  const { token } = await new TokenRepository(h.database.db).issue(h.workspaceId, created.id, { kind: 'api', name: 'test' });
  const granted = await h.call('PUT', `/api/apps/crm/users/${created.id}/roles/rep`);
  if (granted.statusCode !== 200) throw new Error(granted.body);
  return (method, url, body) => h.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await publishApp(h, 'crm', draft());
  for (const [title, stage, amount] of [
    ['A', 'new', '100.00'],
    ['B', 'won', '250.50'],
    ['C', 'won', '49.50'],
    ['D', null, null],
  ] as const) {
    const res = await h.call('POST', '/api/apps/crm/records/deal', { title, stage, amount });
    if (res.statusCode !== 201) throw new Error(res.body);
  }
}, 120_000);
afterAll(() => h?.close());

const points = (widget: DashboardResult['widgets'][number]) => (widget.option!.series as { data: (ChartPoint | null)[] }[])[0]!.data.filter((p): p is ChartPoint => p !== null);

describe('GET /api/apps/:app/dashboards/:dashboard/result', () => {
  it('runs every widget and returns its result and chart option, every point with its drill', async () => {
    const res = await h.call('GET', '/api/apps/crm/dashboards/sales/result?locale=zh');
    expect(res.statusCode).toBe(200);
    const body = res.json() as DashboardResult;
    expect(body.name).toBe('销售');
    expect(body.widgets.map((w) => [w.id, w.title])).toEqual([
      ['by_stage', '销售管道'],
      ['share', '占比'],
    ]);
    const [bar, pie] = body.widgets;
    expect((bar!.option!.xAxis as { data: string[] }).data).toEqual(['新建', '赢单', '（空）']);
    expect(points(bar!).map((p) => p.value)).toEqual([100, 300, null]);
    expect(points(bar!).map((p) => p.formatted)).toEqual(['¥100.00', '¥300.00', '（空）']);
    expect(points(pie!).map((p) => [p.name, p.value])).toEqual([
      ['新建', 1],
      ['赢单', 2],
      ['（空）', 1],
    ]);
    // a point's drill opens exactly its records in the record list
    const won = points(pie!)[1]!.drill;
    const list = await h.call('GET', `/api/apps/crm/records/deal?filter=${encodeURIComponent(JSON.stringify(won))}`);
    expect((list.json() as { items: { title: string }[] }).items.map((r) => r.title).sort()).toEqual(['B', 'C']);
  });

  it('global filters from the query string narrow every widget, and the drills include them', async () => {
    // created_at is a datetime: the range is of local dates in the viewer's zone, so end it safely in the future
    const res = await h.call('GET', '/api/apps/crm/dashboards/sales/result?stage=won,new&owner=me&created=2020-01-01..2100-01-01');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as DashboardResult;
    expect(body.filters.map((f) => [f.key, f.value !== null])).toEqual([
      ['stage', true],
      ['owner', true],
      ['created', true],
    ]);
    const [bar] = body.widgets;
    expect(points(bar!).map((p) => p.value)).toEqual([100, 300]);
    expect(JSON.stringify(points(bar!)[0]!.drill)).toContain('owner_id');
    const none = (await h.call('GET', '/api/apps/crm/dashboards/sales/result?created=2000-01-01..2000-12-31')).json() as DashboardResult;
    expect(none.widgets[0]!.result!.rows).toEqual([]);
  });

  it('runs as the viewer: a rep’s dashboard counts only the deals their scope shows', async () => {
    const as = await rep('rep@example.com');
    const created = await as('POST', '/api/apps/crm/records/deal', { title: 'Mine', stage: 'won', amount: '5.00' });
    expect(created.statusCode, created.body).toBe(201);
    const res = await as('GET', '/api/apps/crm/dashboards/sales/result?locale=en');
    expect(res.statusCode, res.body).toBe(200);
    const [bar, pie] = (res.json() as DashboardResult).widgets;
    expect(points(pie!).map((p) => [p.name, p.value])).toEqual([['Won', 1]]);
    expect(points(bar!).map((p) => p.formatted)).toEqual(['CN¥5.00']);
    // the administrator still sees everyone's
    const all = (await h.call('GET', '/api/apps/crm/dashboards/sales/result')).json() as DashboardResult;
    expect(points(all.widgets[1]!).map((p) => p.value)).toEqual([1, 3, 1]);
    await h.call('DELETE', `/api/apps/crm/records/deal/${(created.json() as { id: string }).id}`);
  });

  it('refuses a bad filter value, an unknown filter, a bad locale and an unknown dashboard as problem documents', async () => {
    const bad = await h.call('GET', '/api/apps/crm/dashboards/sales/result?created=yesterday&stage=maybe&color=red');
    expect(bad.statusCode).toBe(400);
    expect(expectProblem(bad).errors.map((e) => e.field)).toEqual(['created', 'stage', 'color']);
    const locale = await h.call('GET', '/api/apps/crm/dashboards/sales/result?locale=fr');
    expect(expectProblem(locale).errors[0]!.field).toBe('locale');
    const missing = await h.call('GET', '/api/apps/crm/dashboards/nope/result');
    expect(missing.statusCode).toBe(404);
    expectProblem(missing);
    const badKey = await h.call('GET', '/api/apps/crm/dashboards/Bad-Key/result');
    expect(badKey.statusCode).toBe(400);
  });
});

describe('GET /api/apps/:app/dashboards/:dashboard/widgets/:widget/chart.svg', () => {
  it('draws one widget on the server with the same filters, and refuses what it cannot draw', async () => {
    const res = await h.call('GET', '/api/apps/crm/dashboards/sales/widgets/share/chart.svg?stage=won&locale=zh&width=640&height=320');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(res.body).toMatch(/^<svg[^>]*width="640"[^>]*height="320"/);
    expect(res.body).toContain('赢单');
    expect(res.body).not.toContain('新建'); // filtered out
    expect(expectProblem(await h.call('GET', '/api/apps/crm/dashboards/sales/widgets/nope/chart.svg')).status).toBe(404);
    expect(expectProblem(await h.call('GET', '/api/apps/crm/dashboards/sales/widgets/share/chart.svg?width=5')).errors[0]!.field).toBe('width');
    expect(expectProblem(await h.call('GET', '/api/apps/crm/dashboards/sales/widgets/share/chart.svg?stage=nope')).errors[0]!.field).toBe('stage');
  });
});

describe('draft dashboards CRUD', () => {
  const ops: DashboardDef = {
    key: 'ops',
    name: label('Operations', '运营'),
    widgets: [{ id: 'table', report: 'pipeline', chart: { type: 'table' }, layout: { x: 0, y: 0, w: 12, h: 6 } }],
  };

  it('lists, creates, replaces and deletes a dashboard of the draft; publishing makes it runnable', async () => {
    expect((await h.call('GET', '/api/apps/crm/draft/dashboards')).json()).toEqual({ items: [sales] });
    const created = await h.call('PUT', '/api/apps/crm/draft/dashboards/ops', { ...ops, key: undefined });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual(ops);
    const renamed = { ...ops, name: label('Ops', '运营看板') };
    const replaced = await h.call('PUT', '/api/apps/crm/draft/dashboards/ops', renamed);
    expect(replaced.statusCode).toBe(200);
    expect(((await h.call('GET', '/api/apps/crm/draft/dashboards')).json() as { items: DashboardDef[] }).items).toEqual([sales, renamed]);

    expect((await h.call('POST', '/api/apps/crm/publish', { note: 'ops dashboard' })).statusCode).toBe(201);
    const run = (await h.call('GET', '/api/apps/crm/dashboards/ops/result?locale=en')).json() as DashboardResult;
    expect(run.name).toBe('Ops');
    expect((run.widgets[0]!.option as { table: { rows: unknown[] } }).table.rows).toHaveLength(4); // new, won, no stage, then the total row
    expect(expectProblem(await h.call('GET', '/api/apps/crm/dashboards/ops/widgets/table/chart.svg')).status).toBe(422);
    expect((await h.call('DELETE', '/api/apps/crm/draft/dashboards/ops')).statusCode).toBe(204);
    expect(((await h.call('GET', '/api/apps/crm/draft/dashboards')).json() as { items: DashboardDef[] }).items).toEqual([sales]);
    const again = await h.call('DELETE', '/api/apps/crm/draft/dashboards/ops');
    expect(again.statusCode).toBe(404);
    expectProblem(again);
  });

  it('an invalid dashboard is refused with the path of each problem and the draft is unchanged', async () => {
    const overlapping: DashboardDef = {
      ...ops,
      widgets: [...ops.widgets, { id: 'kpi', report: 'ghost', chart: { type: 'gauge' }, layout: { x: 10, y: 5, w: 2, h: 2 } }],
    };
    const res = await h.call('PUT', '/api/apps/crm/draft/dashboards/ops', overlapping);
    expect(res.statusCode).toBe(422);
    expect(expectProblem(res).errors.map((e) => [e.field, e.code])).toEqual([
      ['dashboards/1/widgets/1/report', 'unknown_report'],
      ['dashboards/1/widgets/1/layout', 'overlap'],
    ]);
    const shape = await h.call('PUT', '/api/apps/crm/draft/dashboards/ops', { ...ops, widgets: [{ id: 'x' }] });
    expect(expectProblem(shape).errors.map((e) => e.field)).toEqual(expect.arrayContaining(['dashboards/1/widgets/0/report', 'dashboards/1/widgets/0/layout']));
    const mismatch = await h.call('PUT', '/api/apps/crm/draft/dashboards/ops', { ...ops, key: 'other' });
    expect(mismatch.statusCode).toBe(422);
    expect(expectProblem(mismatch).errors[0]!.field).toBe('key');
    expect(((await h.call('GET', '/api/apps/crm/draft/dashboards')).json() as { items: DashboardDef[] }).items).toEqual([sales]);
    const noApp = await h.call('GET', '/api/apps/nope/draft/dashboards');
    expect(noApp.statusCode).toBe(404);
  });

  it('only an administrator changes the draft’s dashboards', async () => {
    const as = await rep('designer-wannabe@example.com');
    expect(expectProblem(await as('PUT', '/api/apps/crm/draft/dashboards/ops', ops)).status).toBe(403);
    expect(expectProblem(await as('DELETE', '/api/apps/crm/draft/dashboards/sales')).status).toBe(403);
    expect(((await h.call('GET', '/api/apps/crm/draft/dashboards')).json() as { items: DashboardDef[] }).items).toEqual([sales]);
  });
});
