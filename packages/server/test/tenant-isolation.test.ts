import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions, RouteOptions } from 'fastify';
import { TokenRepository, UserRepository, WorkspaceRepository, fragmentToSql, openTestDatabase, type Database } from '@tessera/store';
import { bootstrap, buildServer } from '../src/index';
import { crmDraft } from './harness';

/**
 * Two workspaces on one database, the same app in each. Every route the server has
 * (enumerated as fastify registers them, so a new route is covered without touching
 * this test) is called as workspace B with workspace A's app keys and ids in every
 * parameter and body field. Nothing of A may come back, nothing of A may change, and
 * nothing may fail with a 5xx.
 */

const SECRET = 'zqxsecret';
const ADMIN = { email: 'a-admin@example.com', password: 'correct horse battery staple' };

type PropertySchema = { type?: string | string[]; enum?: unknown[] };

interface Route {
  method: string;
  url: string;
  /** the query string's properties, from the route's schema */
  query: string[];
  /** the body's properties, from the route's schema; null when it declares none */
  body: Record<string, PropertySchema> | null;
}

/** A body the route's schema accepts, with A's id in every property that names one. */
function bodyFor(route: Route, id: string): unknown {
  if (!route.body) return { id, userId: id, teamId: id, managerId: id, recordId: id, mergeId: id, parentId: id, title: 'b', name: 'b', level: 'read' };
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(route.body)) {
    const type = [schema.type ?? 'string'].flat()[0];
    if (/(^id$|Id$|Ids$)/.test(key)) out[key] = type === 'array' ? [id] : id;
    else if (schema.enum) out[key] = schema.enum[0];
    else if (type === 'string') out[key] = 'b';
    else if (type === 'integer' || type === 'number') out[key] = 1;
    else if (type === 'boolean') out[key] = true;
    else if (type === 'array') out[key] = [];
    else if (type === 'object') out[key] = {};
  }
  return out;
}

describe('tenant isolation: every route, called as B with A’s ids', () => {
  let database: Database;
  let app: FastifyInstance;
  const routes: Route[] = [];
  let tokenA: string;
  let workspaceA: string;
  let workspaceB: string;
  let adminB: string;
  let tokenB: string;
  /** the error behind the last 5xx, so a failure says why */
  let lastError = '';

  const call = (token: string, method: string, url: string, payload?: unknown) =>
    app.inject({ method: method as InjectOptions['method'], url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function publish(token: string, key: string, marker: string): Promise<void> {
    const draft = { ...crmDraft(), roles: [{ key: 'rep', name: { en: 'Rep' }, objects: { deal: { create: true, read: true, update: true, delete: true, import: false, export: false, scope: 'own' } } }] };
    expect((await call(token, 'POST', '/api/apps', { key, name: { en: `${marker} app` }, draft })).statusCode).toBe(201);
    expect((await call(token, 'POST', `/api/apps/${key}/publish`, { note: marker })).statusCode).toBe(201);
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    workspaceA = (await bootstrap(database, { adminEmail: ADMIN.email, adminPassword: ADMIN.password, print: () => {} })).workspaceId;
    app = buildServer({ database });
    app.addHook('onError', async (_request, _reply, error) => {
      lastError = `${error.name}: ${error.message}`;
    });
    app.addHook('onRoute', (route: RouteOptions) => {
      const schema = (route.schema ?? {}) as { querystring?: { properties?: Record<string, unknown> }; body?: { properties?: Record<string, PropertySchema> } };
      const query = Object.keys(schema.querystring?.properties ?? {});
      const body = schema.body?.properties ?? null;
      for (const method of [route.method].flat()) if (method !== 'HEAD' && route.url.startsWith('/api/')) routes.push({ method, url: route.url, query, body });
    });
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
    tokenA = (login.json() as { token: string }).token;

    // workspace A: apps, records, people, a share, a token
    await publish(tokenA, 'crm', SECRET);
    await publish(tokenA, 'only_a', SECRET);
    const company = await call(tokenA, 'POST', '/api/apps/crm/records/company', { name: `${SECRET} company` });
    const companyId = (company.json() as { id: string }).id;
    const deal = await call(tokenA, 'POST', '/api/apps/crm/records/deal', { title: `${SECRET} deal`, company: companyId, amount: '99.00' });
    const dealId = (deal.json() as { id: string }).id;
    await call(tokenA, 'POST', '/api/apps/only_a/records/deal', { title: `${SECRET} other deal` });
    const deleted = await call(tokenA, 'POST', '/api/apps/crm/records/deal', { title: `${SECRET} deleted deal` });
    await call(tokenA, 'DELETE', `/api/apps/crm/records/deal/${(deleted.json() as { id: string }).id}`);
    const userA = await new UserRepository(database.db).create(workspaceA, { email: `${SECRET}@example.com`, name: SECRET, passwordHash: 'x' });
    const team = await call(tokenA, 'POST', '/api/teams', { name: `${SECRET} team`, managerId: userA.id });
    await call(tokenA, 'PUT', `/api/teams/${(team.json() as { id: string }).id}/members/${userA.id}`);
    await call(tokenA, 'PUT', `/api/apps/crm/users/${userA.id}/roles/rep`);
    await call(tokenA, 'POST', `/api/apps/crm/records/deal/${dealId}/shares`, { userId: userA.id, level: 'read' });
    await call(tokenA, 'POST', '/api/auth/tokens', { name: `${SECRET} token` });

    // workspace B: its own admin and the same app key
    workspaceB = (await new WorkspaceRepository(database.db).create('B')).id;
    adminB = (await new UserRepository(database.db).create(workspaceB, { email: 'b-admin@example.com', name: 'B', passwordHash: 'x', isAdmin: true })).id;
    tokenB = await newTokenB();
    await publish(tokenB, 'crm', 'b');
    await call(tokenB, 'POST', '/api/apps/crm/records/deal', { title: 'b deal' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  async function newTokenB(): Promise<string> {
    return (await new TokenRepository(database.db).issue(workspaceB, adminB, { kind: 'api', name: 'b' })).token;
  }

  /** Parameterised SQL; identifiers in `text` come from information_schema and are checked first. */
  async function query<T>(text: string, ...values: unknown[]): Promise<T[]> {
    const strings = text.split('?');
    const result = await fragmentToSql({ strings, values }).execute(database.db);
    return result.rows as T[];
  }
  const identifier = (name: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected identifier ${name}`);
    return `"${name}"`;
  };

  /** Every row of every workspace-scoped table that belongs to A, as text. */
  async function snapshotA(): Promise<Map<string, string[]>> {
    const tables = await query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'workspace_id' ORDER BY table_name",
    );
    const out = new Map<string, string[]>();
    for (const { table_name } of tables) {
      const rows = await query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${identifier(table_name)} t WHERE workspace_id = ?`, workspaceA);
      out.set(table_name, rows.map((r) => r.row).sort());
    }
    return out;
  }

  /** A's uuids, from every table that has an id-like uuid column. */
  async function idsOfA(): Promise<string[]> {
    const columns = await query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
       WHERE c.table_schema = 'public' AND c.data_type = 'uuid' AND c.column_name <> 'workspace_id'
         AND EXISTS (SELECT 1 FROM information_schema.columns w WHERE w.table_schema = 'public' AND w.table_name = c.table_name AND w.column_name = 'workspace_id')`,
    );
    const ids = new Set<string>();
    for (const { table_name, column_name } of columns) {
      const column = identifier(column_name);
      const rows = await query<{ v: string }>(
        `SELECT DISTINCT ${column}::text AS v FROM ${identifier(table_name)} WHERE workspace_id = ? AND ${column} IS NOT NULL LIMIT 3`,
        workspaceA,
      );
      for (const r of rows) ids.add(r.v);
    }
    return [...ids];
  }

  it('enumerates the routes', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.some((r) => r.url === '/api/apps/:app/records/:object/:id')).toBe(true);
  });

  it('B gets nothing of A and changes nothing of A through any route', async () => {
    const before = await snapshotA();
    const ids = await idsOfA();
    expect(ids.length).toBeGreaterThan(5);
    const failures: string[] = [];
    let requests = 0;
    // mutating routes last, so reads see A intact; logout-like routes cannot strand B (a new token on 401)
    const ordered = [...routes].sort((a, b) => Number(a.method !== 'GET') - Number(b.method !== 'GET'));
    for (const route of ordered) {
      const params = [...route.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
      const idParams = params.filter((p) => p !== 'app' && p !== 'object');
      const hasBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
      const takesIds = idParams.length > 0 || route.query.length > 0 || (hasBody && route.body !== null && Object.keys(route.body).some((k) => /(^id$|Id$|Ids$)/.test(k)));
      const candidates = takesIds || (hasBody && route.body === null) ? ids : [null];
      for (const appKey of params.includes('app') ? ['crm', 'only_a'] : ['crm']) {
        for (const id of candidates) {
          const path = route.url
            .replace(':app', appKey)
            .replace(':object', 'deal')
            .replace(/:([A-Za-z_]+)/g, () => id ?? '');
          const sent = id ?? ids[0]!;
          // the path alone, then A's id in each query parameter in turn
          for (const url of [path, ...route.query.map((q) => `${path}?${q}=${encodeURIComponent(sent)}`)]) {
            const body = hasBody ? bodyFor(route, sent) : undefined;
            requests++;
            let res = await call(tokenB, route.method, url, body);
            if (res.statusCode === 401) {
              tokenB = await newTokenB();
              res = await call(tokenB, route.method, url, body);
            }
            const where = `${route.method} ${url} -> ${res.statusCode}`;
            if (res.statusCode >= 500) failures.push(`${where}: ${lastError}`);
            const text = res.body.toLowerCase();
            if (text.includes(SECRET)) failures.push(`${where} returned A's data: ${res.body.slice(0, 200)}`);
            const leaked = ids.filter((other) => other !== id && other !== sent && text.includes(other));
            if (leaked.length > 0) failures.push(`${where} returned A's ids ${leaked.join(', ')}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(routes.length);
    const after = await snapshotA();
    for (const [table, rows] of before) expect(after.get(table), `rows of A in ${table}`).toEqual(rows);
  }, 300_000);
});
