import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, expectProblem, startHarness, type Harness } from './harness';

describe('health and authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers health without credentials and names the database kind', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: process.env.DATABASE_URL ? 'postgres' : 'pglite' });
  });

  it('logs in with the right password: a token and an HttpOnly SameSite=Lax session cookie', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ADMIN@example.com', password: ADMIN.password } });
    expect(res.statusCode).toBe(200);
    const { token } = res.json() as { token: string };
    expect(token).toMatch(/^tsk_[0-9a-f]{32}_/);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toContain(`tessera_session=${token}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await h.app.inject({ method: 'GET', url: '/api/auth/me', cookies: { tessera_session: token } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ email: ADMIN.email, isAdmin: true, via: 'session' });
    expect(me.body).not.toContain('password');
  });

  it('refuses a wrong password and an unknown email alike, with 401 problems', async () => {
    for (const payload of [
      { email: ADMIN.email, password: 'wrong password' },
      { email: 'nobody@example.com', password: ADMIN.password },
    ]) {
      const res = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(expectProblem(res).detail).toBe('Wrong email or password');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('validates the login body, naming the missing or unknown field', async () => {
    const missing = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: ADMIN.email } });
    expect(missing.statusCode).toBe(400);
    expect(expectProblem(missing).errors).toContainEqual(expect.objectContaining({ field: 'password', code: 'required' }));
    const extra = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { ...ADMIN, admin: true } });
    expect(extra.statusCode).toBe(400);
    expect(expectProblem(extra).errors).toContainEqual(expect.objectContaining({ field: 'admin', code: 'unknown_field' }));
  });

  it('requires credentials on every /api route except health and login', async () => {
    for (const [method, url] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/apps'],
      ['POST', '/api/apps'],
      ['GET', '/api/apps/crm/records/deal'],
      ['GET', '/api/apps/crm/openapi.json'],
      ['GET', '/api/auth/tokens'],
    ] as const) {
      const res = await h.app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expectProblem(res);
    }
    const garbage = await h.app.inject({ method: 'GET', url: '/api/apps', headers: { authorization: 'Bearer nonsense' } });
    expect(garbage.statusCode).toBe(401);
    const notBearer = await h.app.inject({ method: 'GET', url: '/api/apps', headers: { authorization: `Basic ${h.token}` } });
    expect(notBearer.statusCode).toBe(401);
  });

  it('issues a personal API token once, lists it without the secret, and stops accepting it once revoked', async () => {
    const created = await h.call('POST', '/api/auth/tokens', { name: 'ci', expiresInDays: 30 });
    expect(created.statusCode).toBe(201);
    const { id, token, expiresAt } = created.json() as { id: string; token: string; expiresAt: string };
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const asToken = { authorization: `Bearer ${token}` };
    const me = await h.app.inject({ method: 'GET', url: '/api/auth/me', headers: asToken });
    expect(me.json()).toMatchObject({ email: ADMIN.email, via: 'api' });

    const list = await h.call('GET', '/api/auth/tokens');
    expect(list.statusCode).toBe(200);
    const items = (list.json() as { items: Array<{ id: string; name: string }> }).items;
    expect(items.map((t) => t.name)).toContain('ci');
    expect(list.body).not.toContain(token.slice(-43));

    expect((await h.call('DELETE', `/api/auth/tokens/${id}`)).statusCode).toBe(204);
    expect((await h.app.inject({ method: 'GET', url: '/api/auth/me', headers: asToken })).statusCode).toBe(401);
    expect((await h.call('DELETE', `/api/auth/tokens/${id}`)).statusCode).toBe(404);
    expect((await h.call('DELETE', '/api/auth/tokens/not-a-uuid')).statusCode).toBe(404);
  });

  it('rejects a token request with a bad expiry, naming it', async () => {
    const res = await h.call('POST', '/api/auth/tokens', { name: 'x', expiresInDays: 0 });
    expect(res.statusCode).toBe(400);
    expect(expectProblem(res).errors[0]?.field).toBe('expiresInDays');
  });

  it('logout ends the session it was called with', async () => {
    const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
    const { token } = login.json() as { token: string };
    const out = await h.app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { tessera_session: token } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/tessera_session=;/);
    expect((await h.app.inject({ method: 'GET', url: '/api/auth/me', cookies: { tessera_session: token } })).statusCode).toBe(401);
    // other sessions are untouched
    expect((await h.call('GET', '/api/auth/me')).statusCode).toBe(200);
  });

  it('serves Swagger UI at /docs and the platform document at /docs/json', async () => {
    const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger-ui');
    const spec = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    const doc = spec.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/auth/login', '/api/apps', '/api/apps/{app}/records/{object}']));
  });
});
