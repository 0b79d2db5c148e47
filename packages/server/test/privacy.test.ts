import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserRepository } from '@tessera/store';
import { hashPassword } from '../src/index';
import { expectProblem, publishApp, startHarness, type Harness } from './harness';

const PERSON = { email: 'zhao.min@example.cn', password: 'zhao min password 1', name: 'Zhao Min' };
const CREDENTIALS = { email: PERSON.email, password: PERSON.password };

describe('personal data requests over HTTP', () => {
  let h: Harness;
  let personId: string;
  let personToken: string;
  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'crm');
    personId = (await new UserRepository(h.database.db).create(h.workspaceId, { email: PERSON.email, name: PERSON.name, passwordHash: await hashPassword(PERSON.password) })).id;
    personToken = ((await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: CREDENTIALS })).json() as { token: string }).token;
    const company = (await h.call('POST', '/api/apps/crm/records/company', { name: `${PERSON.name} Trading` })).json() as { id: string };
    // the person owns it (no role of theirs lets them create one here)
    await h.database.db.updateTable('records').set({ owner_id: personId }).where('id', '=', company.id).execute();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is for administrators only, and wants exactly one subject', async () => {
    const asPerson = { authorization: `Bearer ${personToken}` };
    expect((await h.call('POST', '/api/privacy/export', { userId: personId }, asPerson)).statusCode).toBe(403);
    expect((await h.call('POST', '/api/privacy/erase', { userId: personId }, asPerson)).statusCode).toBe(403);
    expect((await h.call('POST', '/api/privacy/export', {})).statusCode).toBe(400);
    expect((await h.call('POST', '/api/privacy/export', { userId: personId, email: PERSON.email })).statusCode).toBe(400);
    const unknown = await h.call('POST', '/api/privacy/export', { name: 'x' });
    expect(expectProblem(unknown).errors[0]).toMatchObject({ code: 'unknown_field' });
  });

  it('exports the person as a JSON download', async () => {
    const res = await h.call('POST', '/api/privacy/export', { email: PERSON.email });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toContain('attachment');
    const body = res.json() as { users: Array<{ id: string }>; records: Array<{ relation: string; record: { name: string } }>; audit: Array<{ action: string }> };
    expect(body.users.map((u) => u.id)).toEqual([personId]);
    expect(body.records).toEqual([expect.objectContaining({ relation: 'owned', record: expect.objectContaining({ name: `${PERSON.name} Trading` }) })]);
    expect(body.audit.map((a) => a.action)).toContain('auth.login');
  });

  it('erases the person: their sessions stop working at once, their mentions are gone, and the audit says only that it happened', async () => {
    const res = await h.call('POST', '/api/privacy/erase', { userId: personId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ erased: true, rows: expect.objectContaining({ users: 1 }) });
    expect((await h.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${personToken}` } })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: CREDENTIALS })).statusCode).toBe(401);
    const companies = (await h.call('GET', '/api/apps/crm/records/company')).json() as { items: Array<{ name: string }> };
    expect(companies.items.map((c) => c.name)).toEqual(['[erased] Trading']);
    const audit = (await h.call('GET', '/api/audit?action=privacy.')).json() as { items: Array<{ action: string; details: unknown }> };
    expect(audit.items.map((e) => e.action)).toEqual(['privacy.erase', 'privacy.export']);
    expect(JSON.stringify(audit.items)).not.toMatch(/zhao/i);
  });
});
