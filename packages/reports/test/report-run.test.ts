import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilterToSql } from '@tessera/expr';
import { fragmentToSql, refusal } from '@tessera/store';
import { sql } from 'kysely';
import { runReport, type ReportDef, type ReportResult } from '../src/index';
import { reportHarness, type ReportHarness } from './report-fixture';

const env = { now: new Date('2024-06-15T04:00:00.000Z'), timezone: 'Asia/Shanghai' };
let h: ReportHarness;
let companies: string[];

beforeAll(async () => {
  h = await reportHarness();
  companies = await h.insert('company', [
    { name: 'Acme', industry: 'tech' },
    { name: 'Shop', industry: 'retail' },
    { name: 'Bank', industry: 'finance' },
  ]);
  await h.insert('deal', [
    { title: 'a', stage: 'lead', amount: '100.10', close_date: '2024-01-15', closed_at: '2024-01-31T16:30:00.000Z', hot: true, qty: 3, company: companies[0] },
    { title: 'b', stage: 'won', amount: '200.20', close_date: '2024-01-20', closed_at: '2024-01-31T15:30:00.000Z', hot: false, qty: 7, company: companies[0] },
    { title: 'c', stage: 'won', amount: '0.01', close_date: '2024-02-01', hot: true, qty: 12, company: companies[1] },
    { title: 'd', stage: 'proposal', amount: null, close_date: '2024-03-31', qty: null, company: null },
    { title: 'e', stage: 'lost', amount: '50', close_date: null, hot: null, qty: 25, company: companies[2] },
  ]);
}, 60_000);
afterAll(() => h?.close());

const run = (report: Omit<ReportDef, 'key' | 'name'>, extraFilter?: unknown): Promise<ReportResult> =>
  runReport(h.database.db, h.app, { key: 'r', name: { en: 'R' }, ...report } as ReportDef, { policy: h.policy, env, ...(extraFilter ? { extraFilter } : {}) });

/** the ids a drill expression selects, through the same SQL path a list takes */
async function drilled(drill: unknown): Promise<number> {
  const where = compileFilterToSql(drill, { object: h.object('deal'), app: h.app.document }, env);
  const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM records WHERE workspace_id = ${h.actor.workspaceId} AND object_id = ${h.object('deal').id!} AND deleted_at IS NULL AND ${fragmentToSql(where)}`.execute(h.database.db);
  return rows.rows[0]!.n;
}

describe('summary', () => {
  it('groups by a select field in option order, sums money exactly, counts, and drills', async () => {
    const result = await run({
      kind: 'summary',
      object: 'deal',
      dimensions: [{ field: 'stage' }],
      measures: [
        { key: 'n', aggregate: 'count' },
        { key: 'total', aggregate: 'sum', field: 'amount' },
        { key: 'hot_n', aggregate: 'count', filter: { '==': [{ var: 'hot' }, true] } },
      ],
      totals: true,
    });
    expect(result.rows.map((r) => r.values)).toEqual([
      { stage: 'lead', n: 1, total: '100.10', hot_n: 1 },
      { stage: 'proposal', n: 1, total: null, hot_n: 0 },
      { stage: 'won', n: 2, total: '200.21', hot_n: 1 },
      { stage: 'lost', n: 1, total: '50.00', hot_n: 0 },
    ]);
    expect(result.totals?.values).toEqual({ stage: null, n: 5, total: '350.31', hot_n: 2 });
    for (const row of result.rows) expect(await drilled(row.drill)).toBe(row.values.n);
    expect(await drilled(result.totals!.drill)).toBe(5);
  });
});

describe('dimensions', () => {
  it('follows a relation one hop and drills by the related ids (the null group included)', async () => {
    const result = await run({ kind: 'summary', object: 'deal', dimensions: [{ field: 'company.industry' }], measures: [{ key: 'n', aggregate: 'count' }] });
    expect(result.rows.map((r) => r.values)).toEqual([
      { company_industry: 'tech', n: 2 },
      { company_industry: 'retail', n: 1 },
      { company_industry: 'finance', n: 1 },
      { company_industry: null, n: 1 },
    ]);
    for (const row of result.rows) expect(await drilled(row.drill)).toBe(row.values.n);
  });

  it('buckets datetimes by the local month and number bins, each drill selecting its records', async () => {
    const months = await run({ kind: 'summary', object: 'deal', dimensions: [{ field: 'closed_at', bucket: 'month' }] });
    // 2024-01-31T16:30Z is already February 1st in Shanghai
    expect(months.rows.map((r) => r.values)).toEqual([
      { closed_at_month: '2024-01-01', count: 1 },
      { closed_at_month: '2024-02-01', count: 1 },
      { closed_at_month: null, count: 3 },
    ]);
    for (const row of months.rows) expect(await drilled(row.drill)).toBe(row.values.count);
    const bins = await run({ kind: 'summary', object: 'deal', dimensions: [{ key: 'q', field: 'qty', bins: { size: 10 } }] });
    expect(bins.rows.map((r) => r.values)).toEqual([
      { q: 0, count: 2 },
      { q: 10, count: 1 },
      { q: 20, count: 1 },
      { q: null, count: 1 },
    ]);
    for (const row of bins.rows) expect(await drilled(row.drill)).toBe(row.values.count);
  });

  it('pivots two dimensions with row, column and grand totals', async () => {
    const result = await run({ kind: 'pivot', object: 'deal', dimensions: [{ field: 'hot' }, { field: 'stage' }], totals: true });
    expect(result.pivot).toEqual({ rows: ['hot'], columns: ['stage'] });
    const columnTotals = result.rows.filter((r) => r.subtotal?.rolledUp?.includes('hot'));
    expect(columnTotals.map((r) => [r.values.stage, r.values.count])).toEqual([
      ['lead', 1],
      ['proposal', 1],
      ['won', 2],
      ['lost', 1],
    ]);
    const rowTotals = result.rows.filter((r) => r.subtotal?.rolledUp?.includes('stage'));
    expect(rowTotals.map((r) => [r.values.hot, r.values.count])).toEqual([
      [false, 1],
      [true, 2],
      [null, 2],
    ]);
    expect(result.totals?.values.count).toBe(5);
    for (const row of result.rows) expect(await drilled(row.drill)).toBe(row.values.count);
  });

  it('sorts by a measure and limits the detail rows', async () => {
    const result = await run({ kind: 'summary', object: 'deal', dimensions: [{ field: 'stage' }], sort: [{ key: 'count', direction: 'desc' }], limit: 2, totals: true });
    expect(result.rows.map((r) => r.values)).toEqual([
      { stage: 'won', count: 2 },
      { stage: 'lead', count: 1 },
    ]);
    expect(result.totals?.values.count).toBe(5);
    // money is returned as text but sorted as a number, empty last
    const byMoney = await run({ kind: 'summary', object: 'deal', dimensions: [{ field: 'stage' }], measures: [{ key: 'total', aggregate: 'sum', field: 'amount' }], sort: [{ key: 'total' }] });
    expect(byMoney.rows.map((r) => r.values.total)).toEqual(['50.00', '100.10', '200.21', null]);
  });
});

describe('kinds', () => {
  it('funnel: stages in option order with reached counts and conversion rates', async () => {
    const result = await run({ kind: 'funnel', object: 'deal', funnel: { stageField: 'stage', stages: ['lead', 'qualified', 'proposal', 'won'] } });
    expect(result.rows.map((r) => [r.values.stage, r.values.count, r.values.reached, r.values.conversion, r.values.overall])).toEqual([
      ['lead', 1, 4, null, 1],
      ['qualified', 0, 3, 0.75, 0.75],
      ['proposal', 1, 3, 1, 0.75],
      ['won', 2, 2, 2 / 3, 0.5],
    ]);
    for (const row of result.rows) expect(await drilled(row.drill)).toBe(row.values.count);
  });

  it('timeseries: monthly buckets with gaps filled and month-over-month change', async () => {
    const result = await run({
      kind: 'timeseries',
      object: 'deal',
      measures: [
        { key: 'n', aggregate: 'count' },
        { key: 'total', aggregate: 'sum', field: 'amount' },
      ],
      timeseries: { dateField: 'close_date', bucket: 'month', compare: 'previous' },
      totals: true,
    });
    expect(result.rows.map((r) => r.values)).toEqual([
      { period: '2024-01-01', n: 2, total: '300.30', n_change: null, total_change: null },
      { period: '2024-02-01', n: 1, total: '0.01', n_change: -0.5, total_change: (0.01 - 300.3) / 300.3 },
      { period: '2024-03-01', n: 1, total: null, n_change: 0, total_change: null },
    ]);
    expect(result.totals?.values).toMatchObject({ n: 4, total: '300.31' });
    for (const row of [...result.rows, result.totals!]) expect(await drilled(row.drill)).toBe(row.values.n);
  });

  it('kpi: one value against its target', async () => {
    const result = await run({ kind: 'kpi', object: 'deal', measures: [{ key: 'won', aggregate: 'sum', field: 'amount', filter: { '==': [{ var: 'stage' }, 'won'] } }], kpi: { measure: 'won', target: 400 } });
    expect(result.rows.map((r) => r.values)).toEqual([{ won: '200.21', target: '400', attainment: 200.21 / 400 }]);
    expect(result.kpi).toEqual({ measure: 'won', target: 'target' });
  });

  it('forecast: amount × stage probability by close month', async () => {
    const result = await run({
      kind: 'forecast',
      object: 'deal',
      forecast: { amountField: 'amount', stageField: 'stage', closeDateField: 'close_date', bucket: 'month', probabilities: { lead: 0.1, won: 1 } },
      totals: true,
    });
    expect(result.rows.map((r) => r.values)).toEqual([
      { period: '2024-01-01', count: 2, pipeline: '300.30', weighted: '210.21' },
      { period: '2024-02-01', count: 1, pipeline: '0.01', weighted: '0.01' },
      { period: '2024-03-01', count: 1, pipeline: null, weighted: null },
    ]);
    expect(result.totals?.values).toMatchObject({ count: 4, pipeline: '300.31', weighted: '210.22' });
    for (const row of result.rows) expect(await drilled(row.drill)).toBe(row.values.count);
  });

  it('table: fields of the records, one hop included, sorted and limited', async () => {
    const result = await run({ kind: 'table', object: 'deal', columns: ['title', 'amount', 'company.name'], sort: [{ key: 'amount', direction: 'desc' }], limit: 3 });
    expect(result.rows.map((r) => r.values)).toEqual([
      { title: 'b', amount: '200.20', 'company.name': 'Acme' },
      { title: 'a', amount: '100.10', 'company.name': 'Acme' },
      { title: 'e', amount: '50', 'company.name': 'Bank' },
    ]);
    for (const row of result.rows) expect(await drilled(row.drill)).toBe(1);
  });
});

describe('scoping and refusals', () => {
  it('applies an extra filter and the viewer scope, and refuses a field the viewer may not read', async () => {
    const hotOnly = await run({ kind: 'summary', object: 'deal', dimensions: [{ field: 'stage' }] }, { '==': [{ var: 'hot' }, true] });
    expect(hotOnly.rows.map((r) => [r.values.stage, r.values.count])).toEqual([
      ['lead', 1],
      ['won', 1],
    ]);
    const deal = h.object('deal');
    const amountField = deal.fields.find((f) => f.key === 'amount')!;
    const scoped = { ...h.policy, recordScope: () => compileFilterToSql({ '==': [{ var: 'stage' }, 'won'] }, { object: deal }, env) };
    const inScope = await runReport(h.database.db, h.app, { key: 'r', name: { en: 'R' }, kind: 'summary', object: 'deal', totals: true, dimensions: [{ field: 'stage' }] }, { policy: scoped, env });
    expect(inScope.totals?.values.count).toBe(2);
    const hidden = { ...h.policy, canReadField: (_o: unknown, f: { key: string }) => f.key !== amountField.key };
    const refused = await refusal(runReport(h.database.db, h.app, { key: 'r', name: { en: 'R' }, kind: 'summary', object: 'deal', measures: [{ key: 's', aggregate: 'sum', field: 'amount' }] }, { policy: hidden, env }));
    expect(refused.status).toBe(403);
    expect(refused.errors[0]?.field).toBe('amount');
    const byFilter = await refusal(runReport(h.database.db, h.app, { key: 'r', name: { en: 'R' }, kind: 'summary', object: 'deal', filter: { '>': [{ var: 'amount' }, 1] } }, { policy: hidden, env }));
    expect(byFilter.status).toBe(403);
  });

  it('refuses an invalid definition naming the path and reason', async () => {
    const bad = await refusal(run({ kind: 'summary', object: 'deal', dimensions: [{ field: 'title', bucket: 'month' }], measures: [{ key: 's', aggregate: 'sum', field: 'stage' }] }));
    expect(bad.status).toBe(400);
    expect(bad.errors.map((e) => [e.field, e.code])).toEqual([
      ['report/dimensions/0/bucket', 'type'],
      ['report/measures/0/field', 'type'],
    ]);
    const badFilter = await refusal(run({ kind: 'summary', object: 'deal', filter: { '==': [{ var: 'nope' }, 1] } }));
    expect(badFilter.errors[0]?.field).toMatch(/^report\/filter/);
  });
});
