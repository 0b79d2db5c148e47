import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { UserRepository, openTestDatabase, type Database } from '@tessera/store';
import { bootstrap, buildServer, hashPassword } from '../src/index';
import { passwordProblems } from '../src/auth/password-policy';
import { ADMIN, expectProblem } from './harness';

const CLERK = { email: 'clerk@example.com', password: 'clerk password one' };

describe('credentials', () => {
  let database: Database;
  let app: FastifyInstance;
  let adminToken: string;
  let clerkId: string;

  const login = (payload: { email: string; password: string }, ip = '198.51.100.1') =>
    app.inject({ method: 'POST', url: '/api/auth/login', payload, remoteAddress: ip });
  const as = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    database = await openTestDatabase();
    const { workspaceId } = await bootstrap(database, { adminEmail: ADMIN.email, adminPassword: ADMIN.password, print: () => {} });
    clerkId = (await new UserRepository(database.db).create(workspaceId, { email: CLERK.email, passwordHash: await hashPassword(CLERK.password) })).id;
    app = buildServer({ database, lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 600_000 }, loginRateLimit: { max: 1000, timeWindow: 60_000 } });
    adminToken = ((await login(ADMIN)).json() as { token: string }).token;
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('locks an account after 3 failed logins, refuses even the right password, and an administrator unlocks it', async () => {
    for (let i = 0; i < 2; i++) expect((await login({ ...CLERK, password: 'wrong guess ' + i })).statusCode).toBe(401);
    const third = await login({ ...CLERK, password: 'wrong guess 3' });
    expect(third.statusCode).toBe(429);
    expect(expectProblem(third).errors[0]).toMatchObject({ field: 'email', code: 'locked' });
    const right = await login(CLERK);
    expect(right.statusCode).toBe(429);
    expect(right.headers['set-cookie']).toBeUndefined();
    // the lock is in the database: a second server over it sees it too
    const other = buildServer({ database });
    expect((await other.inject({ method: 'POST', url: '/api/auth/login', payload: CLERK })).statusCode).toBe(429);
    await other.close();

    const unlocked = await as(adminToken, 'POST', `/api/auth/users/${clerkId}/unlock`);
    expect(unlocked.statusCode).toBe(204);
    expect((await login(CLERK)).statusCode).toBe(200);

    const audit = await as(adminToken, 'GET', `/api/audit?user=${clerkId}&action=auth.`);
    const actions = (audit.json() as { items: Array<{ action: string; ip: string; details: { email?: string } }> }).items;
    expect(actions.map((e) => e.action)).toEqual([
      'auth.login',
      'auth.unlock',
      'auth.login_locked',
      'auth.login_locked',
      'auth.login_failed',
      'auth.login_failed',
      'auth.login_failed',
    ]);
    expect(actions.find((e) => e.action === 'auth.login_failed')).toMatchObject({ ip: '198.51.100.1', details: { email: CLERK.email } });
  });

  it('only an administrator may unlock accounts or read the audit log', async () => {
    const clerk = ((await login(CLERK)).json() as { token: string }).token;
    expect((await as(clerk, 'POST', `/api/auth/users/${clerkId}/unlock`)).statusCode).toBe(403);
    expect((await as(clerk, 'GET', '/api/audit')).statusCode).toBe(403);
  });

  it('rate-limits login attempts per client address with a 429 problem', async () => {
    const limited = buildServer({ database, loginRateLimit: { max: 3, timeWindow: 60_000 } });
    const attempt = (ip: string) => limited.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'nobody@example.com', password: 'whatever it is' }, remoteAddress: ip });
    for (let i = 0; i < 3; i++) expect((await attempt('192.0.2.9')).statusCode).toBe(401);
    const fourth = await attempt('192.0.2.9');
    expect(fourth.statusCode).toBe(429);
    expect(expectProblem(fourth).errors[0]?.code).toBe('rate_limited');
    expect((await attempt('192.0.2.10')).statusCode).toBe(401);
    await limited.close();
  });

  it('changes a password only with the current one, under the policy, and ends the other sessions', async () => {
    const first = ((await login(CLERK)).json() as { token: string }).token;
    const second = ((await login(CLERK)).json() as { token: string }).token;
    const wrong = await as(first, 'POST', '/api/auth/password', { currentPassword: 'not it at all', newPassword: 'a much better secret' });
    expect(wrong.statusCode).toBe(403);
    expect(expectProblem(wrong).errors[0]?.field).toBe('currentPassword');

    const weak = await as(first, 'POST', '/api/auth/password', { currentPassword: CLERK.password, newPassword: 'clerk' });
    expect(weak.statusCode).toBe(422);
    expect(expectProblem(weak).errors.map((e) => e.code).sort()).toEqual(['is_email', 'too_short']);
    const common = await as(first, 'POST', '/api/auth/password', { currentPassword: CLERK.password, newPassword: 'Password123' });
    expect(expectProblem(common).errors).toEqual([expect.objectContaining({ field: 'newPassword', code: 'too_common' })]);

    const changed = await as(first, 'POST', '/api/auth/password', { currentPassword: CLERK.password, newPassword: 'a much better secret' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ changed: true });
    expect((changed.json() as { sessionsRevoked: number }).sessionsRevoked).toBeGreaterThanOrEqual(1);
    expect((await as(first, 'GET', '/api/auth/me')).statusCode).toBe(200);
    expect((await as(second, 'GET', '/api/auth/me')).statusCode).toBe(401);
    expect((await login(CLERK)).statusCode).toBe(401);
    expect((await login({ ...CLERK, password: 'a much better secret' })).statusCode).toBe(200);
    CLERK.password = 'a much better secret';
  });

  it('gives API tokens a default expiry, narrows them to roles, and a narrowed token cannot mint tokens or administer', async () => {
    const plain = await as(adminToken, 'POST', '/api/auth/tokens', { name: 'default expiry' });
    expect(plain.statusCode).toBe(201);
    const expires = new Date((plain.json() as { expiresAt: string }).expiresAt).getTime();
    expect(expires).toBeGreaterThan(Date.now() + 89 * 86_400_000);
    expect(expires).toBeLessThan(Date.now() + 91 * 86_400_000);

    const narrowed = await as(adminToken, 'POST', '/api/auth/tokens', { name: 'reporting', roles: ['sales_rep', 'viewer'], expiresInDays: 7 });
    expect(narrowed.statusCode).toBe(201);
    const { token, roles } = narrowed.json() as { token: string; roles: string[] };
    expect(roles).toEqual(['sales_rep', 'viewer']);
    expect((await as(token, 'GET', '/api/auth/me')).json()).toMatchObject({ via: 'api', tokenRoles: ['sales_rep', 'viewer'] });
    expect((await as(token, 'POST', '/api/auth/tokens', { name: 'escape' })).statusCode).toBe(403);
    expect((await as(token, 'GET', '/api/audit')).statusCode).toBe(403);
    const listed = (await as(adminToken, 'GET', '/api/auth/tokens')).json() as { items: Array<{ name: string; roles: string[] | null }> };
    expect(listed.items.find((t) => t.name === 'reporting')?.roles).toEqual(['sales_rep', 'viewer']);

    const bad = await as(adminToken, 'POST', '/api/auth/tokens', { name: 'x', roles: ['Not A Key'] });
    expect(bad.statusCode).toBe(400);
    expect(expectProblem(bad).errors[0]?.field).toBe('roles/0');

    const issued = (await as(adminToken, 'GET', '/api/audit?action=auth.token_issue')).json() as { items: Array<{ details: { roles: string[] | null } }> };
    expect(issued.items.map((e) => e.details.roles)).toContainEqual(['sales_rep', 'viewer']);
  });

  it('sets the session cookie Secure behind an https proxy it trusts', async () => {
    const proxied = buildServer({ database, trustProxy: true });
    const res = await proxied.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN, headers: { 'x-forwarded-proto': 'https' } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Secure/i);
    const plainHttp = await proxied.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
    expect(String(plainHttp.headers['set-cookie'])).not.toMatch(/Secure/i);
    await proxied.close();
  });
});

describe('password policy', () => {
  it('accepts any password of 10+ characters that is not the email, common, or one repeated character', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 10, maxLength: 60 }), fc.emailAddress(), (password, email) => {
        const problems = passwordProblems(password, email);
        const lower = password.toLowerCase();
        const isEmail = lower === email.toLowerCase() || lower === email.toLowerCase().split('@')[0];
        const repeated = /^(.)\1*$/u.test(password);
        if (!isEmail && !repeated && [...password].length >= 10) {
          // the common list is tiny; a random string is essentially never in it
          expect(problems.filter((p) => p.code !== 'too_common')).toEqual([]);
        }
      }),
    );
  });

  it('refuses short passwords whatever they are, and names the field', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 9 }), (password) => {
        fc.pre([...password].length < 10);
        expect(passwordProblems(password, null, 'newPassword')).toContainEqual(expect.objectContaining({ field: 'newPassword', code: 'too_short' }));
      }),
    );
    expect(passwordProblems('Admin@Example.com', 'admin@example.com').map((p) => p.code)).toContain('is_email');
    expect(passwordProblems('aaaaaaaaaaaa', null).map((p) => p.code)).toEqual(['too_common']);
  });
});
