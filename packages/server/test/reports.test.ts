import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportResult } from '@tessera/reports';
import { TokenRepository, UserRepository, type RoleDef } from '@tessera/store';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

const ACTIONS = { create: true, read: true, update: true, delete: false, import: false, export: false } as const;
const ROLES: RoleDef[] = [
  // a rep sees their own deals, and not their amounts
  { key: 'rep', name: { en: 'Sales rep' }, objects: { deal: { ...ACTIONS, scope: 'own', fields: { amount: 'none' } }, company: { ...ACTIONS, scope: 'all' } } },
];

/** a signed-in non-administrator holding the rep role */
async function rep(email: string): Promise<{ id: string; call: (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, body?: unknown) => ReturnType<Harness['call']> }> {
  const created = await new UserRepository(h.database.db).create(h.workspaceId, { email, name: email, passwordHash: 'x' });
  const { token } = await new TokenRepository(h.database.db).issue(h.workspaceId, created.id, { kind: 'api', name: 'test' });
  const granted = await h.call('PUT', `/api/apps/crm/users/${created.id}/roles/rep`);
  if (granted.statusCode !== 200) throw new Error(granted.body);
  return {
    id: created.id,
    call: (method, url, body) => h.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) }),
  };
}

let h: Harness;

const byStage = { key: 'by_stage', name: { en: 'By stage' }, kind: 'summary', object: 'deal', dimensions: [{ field: 'stage' }], measures: [{ key: 'total', aggregate: 'sum', field: 'amount' }], totals: true };

beforeAll(async () => {
  h = await startHarness();
  await publishApp(h, 'crm', { ...crmDraft(), reports: [byStage], roles: ROLES });
  const company = (await h.call('POST', '/api/apps/crm/records/company', { name: 'Acme' })).json() as { id: string };
  for (const [title, stage, amount, hot] of [
    ['a', 'new', '100.50', true],
    ['b', 'won', '20', false],
    ['c', 'won', '0.25', true],
  ] as const) {
    const res = await h.call('POST', '/api/apps/crm/records/deal', { title, stage, amount, hot, company: company.id });
    if (res.statusCode !== 201) throw new Error(res.body);
  }
}, 60_000);
afterAll(() => h?.close());

describe('reports API', () => {
  it('runs a saved report of the published version, with an extra filter from the query', async () => {
    const res = await h.call('GET', '/api/apps/crm/reports/by_stage/result');
    expect(res.statusCode).toBe(200);
    const result = res.json() as ReportResult;
    expect(result.rows.map((r) => r.values)).toEqual([
      { stage: 'new', total: '100.50' },
      { stage: 'won', total: '20.25' },
    ]);
    expect(result.totals?.values.total).toBe('120.75');
    expect(result.rows[1]!.drill).toEqual({ '==': [{ var: 'stage' }, 'won'] });

    const hot = await h.call('GET', `/api/apps/crm/reports/by_stage/result?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'hot' }, true] }))}`);
    expect((hot.json() as ReportResult).totals?.values.total).toBe('100.75');
    // the drill is a list filter: the record list returns exactly the row's records
    const drill = (hot.json() as ReportResult).rows[1]!.drill;
    const list = await h.call('GET', `/api/apps/crm/records/deal?filter=${encodeURIComponent(JSON.stringify(drill))}`);
    expect((list.json() as { items: Array<{ title: string }> }).items.map((r) => r.title)).toEqual(['c']);
  });

  it('runs an ad-hoc definition and names the path of what is wrong with one', async () => {
    const res = await h.call('POST', '/api/apps/crm/reports/run', { kind: 'summary', object: 'deal', dimensions: [{ field: 'company.name' }] });
    expect(res.statusCode).toBe(200);
    expect((res.json() as ReportResult).rows.map((r) => r.values)).toEqual([{ company_name: 'Acme', count: 3 }]);

    const bad = await h.call('POST', '/api/apps/crm/reports/run', { kind: 'summary', object: 'deal', measures: [{ key: 's', aggregate: 'sum', field: 'title' }] });
    expect(bad.statusCode).toBe(400);
    expect(expectProblem(bad).errors.map((e) => [e.field, e.code])).toEqual([['body/measures/0/field', 'type']]);

    const badFilter = await h.call('GET', '/api/apps/crm/reports/by_stage/result?filter=nope');
    expect(expectProblem(badFilter).errors[0]?.field).toBe('filter');
    const wrongFilter = await h.call('GET', `/api/apps/crm/reports/by_stage/result?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'nope' }, 1] }))}`);
    expect(wrongFilter.statusCode).toBe(400);
    expect(expectProblem(wrongFilter).errors[0]?.code).toBe('unknown_field');
  });

  it('runs as the caller: a rep counts only their own deals and may not total a field hidden from them', async () => {
    const r = await rep('rep@example.com');
    const mine = await r.call('POST', '/api/apps/crm/records/deal', { title: 'mine', stage: 'won' });
    expect(mine.statusCode, mine.body).toBe(201);
    const counted = await r.call('POST', '/api/apps/crm/reports/run', { kind: 'summary', object: 'deal', dimensions: [{ field: 'stage' }], totals: true });
    expect(counted.statusCode, counted.body).toBe(200);
    expect((counted.json() as ReportResult).rows.map((x) => x.values)).toEqual([{ stage: 'won', count: 1 }]);
    // the administrator counts all four
    const all = await h.call('POST', '/api/apps/crm/reports/run', { kind: 'kpi', object: 'deal', kpi: { measure: 'count' } });
    expect((all.json() as ReportResult).rows[0]!.values.count).toBe(4);
    const hidden = await r.call('GET', '/api/apps/crm/reports/by_stage/result');
    expect(expectProblem(hidden).status).toBe(403);
    expect(expectProblem(hidden).errors[0]?.field).toBe('amount');
    expect(expectProblem(await r.call('PUT', '/api/apps/crm/draft/reports/x', { name: { en: 'X' }, kind: 'summary', object: 'deal' })).status).toBe(403);
    expect(expectProblem(await r.call('DELETE', '/api/apps/crm/draft/reports/by_stage')).status).toBe(403);
  });

  it('answers 404 for an unknown report or app', async () => {
    expect(expectProblem(await h.call('GET', '/api/apps/crm/reports/nope/result')).status).toBe(404);
    expect(expectProblem(await h.call('GET', '/api/apps/nope/reports/by_stage/result')).status).toBe(404);
  });

  it('edits the draft reports section: list, create, replace, delete, each validated', async () => {
    const listed = await h.call('GET', '/api/apps/crm/draft/reports');
    expect((listed.json() as { items: Array<{ key: string }> }).items.map((r) => r.key)).toEqual(['by_stage']);

    const funnel = { name: { en: 'Funnel' }, kind: 'funnel', object: 'deal', funnel: { stageField: 'stage' } };
    const created = await h.call('PUT', '/api/apps/crm/draft/reports/funnel', funnel);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: 'funnel', kind: 'funnel' });
    const replaced = await h.call('PUT', '/api/apps/crm/draft/reports/funnel', { ...funnel, funnel: { stageField: 'stage', stages: ['new'] } });
    expect(replaced.statusCode).toBe(200);
    expect((await h.call('GET', '/api/apps/crm/draft/reports/funnel')).json()).toMatchObject({ funnel: { stages: ['new'] } });

    const invalid = await h.call('PUT', '/api/apps/crm/draft/reports/funnel', { ...funnel, funnel: { stageField: 'title' } });
    expect(invalid.statusCode).toBe(422);
    expect(expectProblem(invalid).errors.map((e) => e.field)).toContain('reports/1/funnel/stageField');
    const mismatch = await h.call('PUT', '/api/apps/crm/draft/reports/funnel', { ...funnel, key: 'other' });
    expect(expectProblem(mismatch).errors[0]?.code).toBe('mismatch');

    expect((await h.call('DELETE', '/api/apps/crm/draft/reports/funnel')).statusCode).toBe(204);
    expect((await h.call('DELETE', '/api/apps/crm/draft/reports/funnel')).statusCode).toBe(404);
    expect((await h.call('GET', '/api/apps/crm/draft/reports/funnel')).statusCode).toBe(404);
    // the published version is untouched by draft edits
    expect((await h.call('GET', '/api/apps/crm/reports/by_stage/result')).statusCode).toBe(200);
  });
});
