import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

describe('apps: draft, publish, versions, rollback, OpenAPI', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('creates an app (201 + Location), lists it, and refuses a duplicate key', async () => {
    const res = await h.call('POST', '/api/apps', { key: 'sales', name: { en: 'Sales', zh: '销售' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/api/apps/sales');
    expect(res.json()).toMatchObject({ key: 'sales', currentVersion: null, latestVersion: 0 });
    const list = await h.call('GET', '/api/apps');
    expect((list.json() as { items: Array<{ key: string }> }).items.map((a) => a.key)).toContain('sales');
    const dup = await h.call('POST', '/api/apps', { key: 'sales' });
    expect(dup.statusCode).toBe(409);
    expect(expectProblem(dup).errors[0]?.field).toBe('key');
  });

  it('refuses an invalid app key naming it', async () => {
    const res = await h.call('POST', '/api/apps', { key: 'Bad Key' });
    expect(res.statusCode).toBe(400);
    expect(expectProblem(res).errors[0]?.field).toBe('key');
  });

  it('an app never published has a draft but no published metadata (404)', async () => {
    const draft = await h.call('GET', '/api/apps/sales/draft');
    expect(draft.statusCode).toBe(200);
    expect(draft.json()).toEqual({ objects: [] });
    expect((await h.call('GET', '/api/apps/sales')).statusCode).toBe(404);
    expect((await h.call('GET', '/api/apps/nope/draft')).statusCode).toBe(404);
    expect((await h.call('GET', '/api/apps/nope')).statusCode).toBe(404);
  });

  it('saves a valid draft and returns it', async () => {
    const res = await h.call('PUT', '/api/apps/sales/draft', crmDraft());
    expect(res.statusCode).toBe(200);
    const again = await h.call('GET', '/api/apps/sales/draft');
    expect((again.json() as AppDocument).objects.map((o) => o.key)).toEqual(['company', 'deal']);
  });

  it('refuses invalid metadata naming the path, and keeps the stored draft unchanged', async () => {
    const before = (await h.call('GET', '/api/apps/sales/draft')).body;
    const duplicateKeys = crmDraft();
    duplicateKeys.objects[1]!.fields.push({ key: 'title', type: 'text', label: { en: 'Again' } });
    const dup = await h.call('PUT', '/api/apps/sales/draft', duplicateKeys);
    expect(dup.statusCode).toBe(422);
    expect(expectProblem(dup).errors).toContainEqual(expect.objectContaining({ field: 'objects/1/fields/5/key', code: 'duplicate' }));

    const danglingRelation = crmDraft();
    danglingRelation.objects[1]!.fields[4]!.target = 'ghost';
    const dangling = await h.call('PUT', '/api/apps/sales/draft', danglingRelation);
    expect(dangling.statusCode).toBe(422);
    expect(expectProblem(dangling).errors).toContainEqual(expect.objectContaining({ field: 'objects/1/fields/4/target', code: 'unknown_object' }));

    const notADocument = await h.call('PUT', '/api/apps/sales/draft', [1, 2, 3]);
    expect(notADocument.statusCode).toBe(400);
    expectProblem(notADocument);

    expect((await h.call('GET', '/api/apps/sales/draft')).body).toBe(before);
  });

  it('publish -> GET app shows it; publish again; rollback -> GET app shows the old version', async () => {
    const v1 = await h.call('POST', '/api/apps/sales/publish', { note: 'first' });
    expect(v1.statusCode).toBe(201);
    expect(v1.json()).toMatchObject({ version: 1, note: 'first', current: true });
    const app1 = (await h.call('GET', '/api/apps/sales')).json() as { key: string; version: number; document: AppDocument };
    expect(app1).toMatchObject({ key: 'sales', version: 1 });
    expect(app1.document.objects.every((o) => typeof o.id === 'string')).toBe(true);

    const draft = crmDraft();
    draft.objects[1]!.fields.push({ key: 'source', type: 'text', label: { en: 'Source' } });
    expect((await h.call('PUT', '/api/apps/sales/draft', draft)).statusCode).toBe(200);
    // no body at all is fine for publish
    const v2 = await h.app.inject({ method: 'POST', url: '/api/apps/sales/publish', headers: { authorization: `Bearer ${h.token}` } });
    expect(v2.statusCode).toBe(201);
    const app2 = (await h.call('GET', '/api/apps/sales')).json() as { version: number; document: AppDocument };
    expect(app2.version).toBe(2);
    expect(app2.document.objects[1]!.fields.map((f) => f.key)).toContain('source');

    const versions = (await h.call('GET', '/api/apps/sales/versions')).json() as { items: Array<{ version: number; current: boolean }> };
    expect(versions.items.map((v) => [v.version, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);

    const back = await h.call('POST', '/api/apps/sales/rollback', { version: 1 });
    expect(back.statusCode).toBe(200);
    const after = (await h.call('GET', '/api/apps/sales')).json() as { version: number; document: AppDocument };
    expect(after.version).toBe(1);
    expect(after.document.objects[1]!.fields.map((f) => f.key)).not.toContain('source');
    expect(((await h.call('GET', '/api/apps/sales/versions')).json() as { items: Array<{ version: number; current: boolean }> }).items.find((v) => v.current)?.version).toBe(1);
  });

  it('refuses a rollback to a missing or malformed version', async () => {
    const missing = await h.call('POST', '/api/apps/sales/rollback', { version: 99 });
    expect(missing.statusCode).toBe(404);
    expect(expectProblem(missing).errors[0]?.field).toBe('version');
    const malformed = await h.call('POST', '/api/apps/sales/rollback', { version: 'latest' });
    expect(malformed.statusCode).toBe(400);
    expect(expectProblem(malformed).errors[0]?.field).toBe('version');
  });

  it('generates an OpenAPI 3.1 document with a path set per object and the record schemas', async () => {
    await publishApp(h, 'crm');
    const res = await h.call('GET', '/api/apps/crm/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const object of ['company', 'deal']) {
      const base = `/api/apps/crm/records/${object}`;
      expect(Object.keys(doc.paths[base]!)).toEqual(expect.arrayContaining(['get', 'post']));
      expect(Object.keys(doc.paths[`${base}/{id}`]!)).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
      expect(doc.paths[`${base}/{id}/restore`]).toBeDefined();
    }
    expect(doc.components.schemas.DealCreate?.required).toEqual(['title']);
    expect(Object.keys(doc.components.schemas.Deal?.properties ?? {})).toEqual(expect.arrayContaining(['id', 'version', 'title', 'stage', 'amount']));
    expect(doc.components.schemas.Problem).toBeDefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'session']);
    // every $ref points at a schema that exists
    for (const ref of res.body.match(/"\$ref":"[^"]+"/g) ?? []) {
      const name = ref.split('/').pop()!.replace('"', '');
      expect(doc.components.schemas[name], ref).toBeDefined();
    }
    expect((await h.call('GET', '/api/apps/sales/openapi.json')).statusCode).toBe(200);
    expect((await h.call('GET', '/api/apps/nope/openapi.json')).statusCode).toBe(404);
  });

  it('keeps apps to their workspace', async () => {
    const { WorkspaceRepository, UserRepository, TokenRepository } = await import('@tessera/store');
    const ws = await new WorkspaceRepository(h.database.db).create('Other');
    const user = await new UserRepository(h.database.db).create(ws.id, { email: 'other@example.com', passwordHash: null });
    const { token } = await new TokenRepository(h.database.db).issue(ws.id, user.id, { kind: 'api' });
    const as = { authorization: `Bearer ${token}` };
    expect((await h.app.inject({ method: 'GET', url: '/api/apps', headers: as })).json()).toEqual({ items: [] });
    expect((await h.app.inject({ method: 'GET', url: '/api/apps/crm', headers: as })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: '/api/apps/crm/records/deal', headers: as })).statusCode).toBe(404);
  });
});
