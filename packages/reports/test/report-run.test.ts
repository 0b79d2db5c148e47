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
