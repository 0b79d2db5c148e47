import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, publishApp, startHarness, type Harness } from './harness';

describe('audit trail over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'crm');
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers a record's history by field key, with who, the door and the address of every write", async () => {
    const ua = { 'user-agent': 'history-test/2' };
    const created = await h.call('POST', '/api/apps/crm/records/deal', { title: 'Tracked', amount: '5' }, ua);
    const id = (created.json() as { id: string }).id;
    const apiToken = ((await h.call('POST', '/api/auth/tokens', { name: 'integration' })).json() as { token: string }).token;
    await h.call('PATCH', `/api/apps/crm/records/deal/${id}`, { amount: '7', stage: 'won' }, { 'if-match': '"1"', ...ua, authorization: `Bearer ${apiToken}` });
    await h.call('DELETE', `/api/apps/crm/records/deal/${id}`);
    const res = await h.call('GET', `/api/apps/crm/records/deal/${id}/history`);
    expect(res.statusCode).toBe(200);
    const { items } = res.json() as { items: Array<{ action: string; source: string; ip: string; userAgent: string | null; actorId: string; changes: Record<string, unknown> }> };
    expect(items.map((e) => e.action)).toEqual(['create', 'update', 'delete']);
    // the session is the UI's door, a personal API token the API's
    expect(items.map((e) => e.source)).toEqual(['ui', 'api', 'ui']);
    expect(items[0]).toMatchObject({ source: 'ui', ip: '127.0.0.1', userAgent: 'history-test/2', changes: { title: { before: null, after: 'Tracked' } } });
    expect(items[1]!.changes).toEqual({ amount: { before: '5.00', after: '7.00' }, stage: { before: null, after: 'won' } });
    const me = (await h.call('GET', '/api/auth/me')).json() as { id: string };
    expect(new Set(items.map((e) => e.actorId))).toEqual(new Set([me.id]));
  });

  it('pages a long history and 404s for unknown records or another object', async () => {
    const created = await h.call('POST', '/api/apps/crm/records/deal', { title: 'Busy', amount: '1' });
    const id = (created.json() as { id: string }).id;
    for (let v = 1; v <= 4; v++) await h.call('PATCH', `/api/apps/crm/records/deal/${id}`, { amount: String(v + 1) }, { 'if-match': `"${v}"` });
    const first = (await h.call('GET', `/api/apps/crm/records/deal/${id}/history?limit=2`)).json() as { items: Array<{ version: number }>; nextCursor: string };
    const versions = first.items.map((e) => e.version);
    let cursor: string | null = first.nextCursor;
    while (cursor) {
      const page = (await h.call('GET', `/api/apps/crm/records/deal/${id}/history?limit=2&cursor=${cursor}`)).json() as { items: Array<{ version: number }>; nextCursor: string | null };
      versions.push(...page.items.map((e) => e.version));
      cursor = page.nextCursor;
    }
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect((await h.call('GET', `/api/apps/crm/records/company/${id}/history`)).statusCode).toBe(404);
    expect((await h.call('GET', '/api/apps/crm/records/deal/0190d9a2-0000-7000-8000-000000000000/history')).statusCode).toBe(404);
    expect((await h.call('GET', '/api/apps/crm/records/deal/not-an-id/history')).statusCode).toBe(400);
  });

  it('lists the workspace audit log for administrators, filtered by action, user and time', async () => {
    const res = await h.call('GET', '/api/audit?action=app.');
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: Array<{ action: string; targetId: string; details: { plan?: unknown } }> }).items;
    expect(items.map((e) => e.action)).toEqual(['app.publish', 'app.create']);
    expect(items[0]!.details.plan).toBeDefined();
    const logins = (await h.call('GET', '/api/audit?action=auth.login')).json() as { items: Array<{ ip: string }> };
    expect(logins.items.length).toBeGreaterThanOrEqual(1);
    const future = (await h.call('GET', `/api/audit?from=${new Date(Date.now() + 60_000).toISOString()}`)).json() as { items: unknown[] };
    expect(future.items).toEqual([]);
    const bad = await h.call('GET', '/api/audit?from=soon');
    expect(bad.statusCode).toBe(400);
    expect(expectProblem(bad).errors[0]?.field).toBe('from');
    const unknown = await h.call('GET', '/api/audit?who=me');
    expect(unknown.statusCode).toBe(400);
  });

  it('logs logouts and token revocations', async () => {
    const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'admin@example.com', password: 'correct horse battery staple' } });
    const token = (login.json() as { token: string }).token;
    await h.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } });
    const issued = (await h.call('POST', '/api/auth/tokens', { name: 'short-lived' })).json() as { id: string };
    await h.call('DELETE', `/api/auth/tokens/${issued.id}`);
    const items = ((await h.call('GET', '/api/audit?action=auth.')).json() as { items: Array<{ action: string; targetId: string }> }).items;
    expect(items.slice(0, 3).map((e) => e.action)).toEqual(['auth.token_revoke', 'auth.token_issue', 'auth.logout']);
    expect(items[0]!.targetId).toBe(issued.id);
  });

  it('logs every change of access (teams, members) with the route and what was asked', async () => {
    const me = (await h.call('GET', '/api/auth/me')).json() as { id: string };
    const team = await h.call('POST', '/api/teams', { name: 'Audited team' });
    expect(team.statusCode).toBe(201);
    const teamId = (team.json() as { id: string }).id;
    expect((await h.call('PUT', `/api/teams/${teamId}/members/${me.id}`)).statusCode).toBeLessThan(300);
    expect((await h.call('POST', '/api/teams', { name: '' })).statusCode).toBe(400);
    const items = ((await h.call('GET', '/api/audit?action=access.')).json() as { items: Array<{ action: string; targetType: string; targetId: string | null; details: { route: string; body: unknown } }> }).items;
    expect(items.map((e) => [e.action, e.targetType, e.details.route])).toEqual([
      ['access.put', 'team', '/api/teams/:id/members/:userId'],
      ['access.post', 'team', '/api/teams'],
    ]);
    expect(items[0]!.targetId).toBe(me.id);
    expect(items[1]!.details.body).toEqual({ name: 'Audited team' });
  });
});
