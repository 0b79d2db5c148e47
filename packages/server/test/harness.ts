import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { AppDocument } from '@tessera/metadata';
import { openTestDatabase, type Database } from '@tessera/store';
import { bootstrap, buildServer } from '../src/index';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

export interface Harness {
  database: Database;
  app: FastifyInstance;
  /** a session token of the bootstrapped admin */
  token: string;
  workspaceId: string;
  call(method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A fresh database (PGlite, or PostgreSQL with DATABASE_URL), a server, and a signed-in admin. */
export async function startHarness(options: { bodyLimit?: number } = {}): Promise<Harness> {
  const database = await openTestDatabase();
  const { workspaceId } = await bootstrap(database, { adminEmail: ADMIN.email, adminPassword: ADMIN.password, print: () => {} });
  const app = buildServer({ database, ...options });
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`);
  const token = (login.json() as { token: string }).token;
  return {
    database,
    app,
    token,
    workspaceId,
    call: (method, url, body, headers = {}) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      }),
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/** The example: a deal with a title, a stage, an amount, and a company it belongs to. */
export function crmDraft(): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: { en: 'Company', zh: '公司' },
        titleField: 'name',
        fields: [{ key: 'name', type: 'text', label: { en: 'Name', zh: '名称' }, required: true, unique: true }],
      },
      {
        key: 'deal',
        label: { en: 'Deal', zh: '交易' },
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title', zh: '标题' }, required: true, unique: false, indexed: true },
          {
            key: 'stage',
            type: 'select',
            label: { en: 'Stage', zh: '阶段' },
            options: [
              { value: 'new', label: { en: 'New', zh: '新建' } },
              { value: 'won', label: { en: 'Won', zh: '赢单' } },
            ],
          },
          { key: 'amount', type: 'currency', label: { en: 'Amount', zh: '金额' }, currency: 'CNY' },
          { key: 'hot', type: 'boolean', label: { en: 'Hot', zh: '重点' } },
          { key: 'company', type: 'relation', target: 'company', label: { en: 'Company', zh: '公司' } },
        ],
      },
    ],
  };
}

/** Creates and publishes an app from a draft through the API. */
export async function publishApp(h: Harness, key: string, draft: AppDocument = crmDraft()): Promise<void> {
  const created = await h.call('POST', '/api/apps', { key, name: { en: key }, draft });
  if (created.statusCode !== 201) throw new Error(`create app: ${created.body}`);
  const published = await h.call('POST', `/api/apps/${key}/publish`, { note: 'first' });
  if (published.statusCode !== 201) throw new Error(`publish: ${published.body}`);
}

export function expectProblem(res: LightMyRequestResponse): { status: number; errors: Array<{ field: string; code: string; message: string }>; detail: string; [k: string]: unknown } {
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected a problem document, got ${res.statusCode} ${String(res.headers['content-type'])}: ${res.body}`);
  }
  const doc = res.json() as { status: number; errors: Array<{ field: string; code: string; message: string }>; detail: string; type: string; title: string };
  if (doc.status !== res.statusCode || typeof doc.type !== 'string' || typeof doc.title !== 'string' || !Array.isArray(doc.errors)) {
    throw new Error(`malformed problem document: ${res.body}`);
  }
  return doc;
}
