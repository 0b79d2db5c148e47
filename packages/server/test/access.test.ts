import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, TokenRepository, UserRepository, loadAccessPolicy, type FieldAccess, type ObjectGrant, type RoleDef } from '@tessera/store';
import { appOpenApi } from '../src/index';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

const ACTIONS = { create: true, read: true, update: true, delete: false, import: false, export: false } as const;

const ROLES: RoleDef[] = [
  // a sales rep: their own deals, the amount shown but not changed, the hot flag hidden; no companies
  { key: 'rep', name: { en: 'Sales rep' }, objects: { deal: { ...ACTIONS, scope: 'own', fields: { amount: 'read', hot: 'none' } } } },
  { key: 'auditor', name: { en: 'Auditor' }, objects: { deal: { ...ACTIONS, create: false, update: false, scope: 'all' }, company: { ...ACTIONS, create: false, update: false, scope: 'all' } } },
];

function draft(): AppDocument {
  return { ...crmDraft(), roles: ROLES };
}

describe('access over HTTP', () => {
  let h: Harness;
  let rep: { id: string; token: string };
  let colleague: { id: string; token: string };

  const as = (who: { token: string }) => (method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, body?: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({ method, url, headers: { authorization: `Bearer ${who.token}`, ...headers }, ...(body === undefined ? {} : { payload: body as object }) });

  async function user(email: string): Promise<{ id: string; token: string }> {
    const created = await new UserRepository(h.database.db).create(h.workspaceId, { email, name: email, passwordHash: 'x' });
    const issued = await new TokenRepository(h.database.db).issue(h.workspaceId, created.id, { kind: 'api', name: 'test' });
    return { id: created.id, token: issued.token };
  }

  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'crm', draft());
    rep = await user('rep@example.com');
    colleague = await user('colleague@example.com');
    for (const who of [rep, colleague]) {
      const granted = await h.call('PUT', `/api/apps/crm/users/${who.id}/roles/rep`);
      expect(granted.statusCode, granted.body).toBe(200);
      expect(granted.json()).toEqual({ roles: ['rep'] });
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  it('management routes are for administrators; bad input is a problem naming the field', async () => {
    expect(expectProblem(await as(rep)('GET', '/api/teams')).status).toBe(403);
    expect(expectProblem(await as(rep)('PUT', `/api/apps/crm/users/${rep.id}/roles/auditor`)).status).toBe(403);
    const unknownRole = expectProblem(await h.call('PUT', `/api/apps/crm/users/${rep.id}/roles/ceo`));
    expect(unknownRole.errors[0]!.field).toBe('role');
    const team = await h.call('POST', '/api/teams', { name: 'Sales', managerId: colleague.id });
    expect(team.statusCode, team.body).toBe(201);
    const teamId = (team.json() as { id: string }).id;
    const joined = await h.call('PUT', `/api/teams/${teamId}/members/${rep.id}`);
    expect((joined.json() as { members: string[] }).members).toEqual([rep.id]);
    expect(expectProblem(await h.call('POST', '/api/teams', { name: '' })).errors[0]!.field).toContain('name');
    expect(expectProblem(await h.call('PUT', `/api/users/${rep.id}/manager`, { managerId: 'nobody' })).errors[0]!.field).toBe('managerId');
    expect((await h.call('PUT', `/api/users/${rep.id}/manager`, { managerId: colleague.id })).statusCode).toBe(204);
    expect(expectProblem(await h.call('PUT', `/api/users/${colleague.id}/manager`, { managerId: rep.id })).errors[0]!.code).toBe('cycle');
    expect((await h.call('DELETE', `/api/teams/${teamId}`)).statusCode).toBe(204);
    await h.call('PUT', `/api/users/${rep.id}/manager`, { managerId: null });
  });

  it('only administrators design apps: create, change a draft, publish, roll back', async () => {
    const draft = (await h.call('GET', '/api/apps/crm/draft')).json() as AppDocument;
    const grantAll = { ...draft, roles: [{ key: 'rep', name: { en: 'Rep' }, objects: { deal: { ...ACTIONS, delete: true, scope: 'all' } } }] };
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/api/apps', { key: 'mine', draft }],
      ['PUT', '/api/apps/crm/draft', grantAll],
      ['POST', '/api/apps/crm/publish', {}],
      ['POST', '/api/apps/crm/rollback', { version: 1 }],
      ['PUT', '/api/apps/crm/draft/reports/sneaky', { name: { en: 'x' } }],
    ];
    for (const [method, url, body] of attempts) {
      expect(expectProblem(await as(rep)(method as 'POST', url, body)).status, `${method} ${url}`).toBe(403);
    }
    expect((await as(rep)('GET', '/api/apps/crm/draft')).statusCode).toBe(200);
    expect(((await h.call('GET', '/api/apps/crm/draft')).json() as AppDocument).roles).toEqual(ROLES);
  });

  it('a rep lists, reads and changes only their own deals, never the hidden field, never a read-only one', async () => {
    const mine = await as(rep)('POST', '/api/apps/crm/records/deal', { title: 'Mine', stage: 'new' });
    expect(mine.statusCode, mine.body).toBe(201);
    const theirs = await as(colleague)('POST', '/api/apps/crm/records/deal', { title: 'Theirs' });
    const adminDeal = await h.call('POST', '/api/apps/crm/records/deal', { title: 'Admin', hot: true, amount: '10.00' });
    const mineId = (mine.json() as { id: string }).id;
    const list = await as(rep)('GET', '/api/apps/crm/records/deal');
    expect((list.json() as { items: Array<{ id: string }> }).items.map((r) => r.id)).toEqual([mineId]);
    expect(expectProblem(await as(rep)('GET', `/api/apps/crm/records/deal/${(theirs.json() as { id: string }).id}`)).status).toBe(404);
    expect(expectProblem(await as(rep)('GET', `/api/apps/crm/records/deal/${(adminDeal.json() as { id: string }).id}`)).status).toBe(404);
    const refused = expectProblem(await as(rep)('PATCH', `/api/apps/crm/records/deal/${mineId}`, { amount: '5.00' }, { 'if-match': '1' }));
    expect(refused.status).toBe(403);
    expect(refused.errors.map((e) => e.field)).toEqual(['amount']);
    expect(expectProblem(await as(rep)('POST', '/api/apps/crm/records/deal', { title: 'x', hot: true })).errors[0]!.field).toBe('hot');
    expect(expectProblem(await as(rep)('GET', '/api/apps/crm/records/deal?filter=' + encodeURIComponent('{"==":[{"var":"hot"},true]}'))).status).toBe(400);
    expect(expectProblem(await as(rep)('GET', '/api/apps/crm/records/company')).status).toBe(403);
    // the admin sees everything
    const all = await h.call('GET', '/api/apps/crm/records/deal');
    expect((all.json() as { items: unknown[] }).items.length).toBe(3);
  });

  it('the hidden field is absent (not null) from what a rep reads back, even after an admin set it', async () => {
    const created = await as(rep)('POST', '/api/apps/crm/records/deal', { title: 'Flagged' });
    const id = (created.json() as { id: string }).id;
    const set = await h.call('PATCH', `/api/apps/crm/records/deal/${id}`, { hot: true }, { 'if-match': '1' });
    expect(set.statusCode, set.body).toBe(200);
    const read = (await as(rep)('GET', `/api/apps/crm/records/deal/${id}`)).json() as Record<string, unknown>;
    expect(read.title).toBe('Flagged');
    expect('hot' in read).toBe(false);
    const changed = await as(rep)('PATCH', `/api/apps/crm/records/deal/${id}`, { stage: 'won' }, { 'if-match': '2' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect('hot' in (changed.json() as object)).toBe(false);
    const stored = await h.database.db.selectFrom('records').select('data').where('id', '=', id).executeTakeFirstOrThrow();
    expect(Object.values(stored.data)).toContain(true);
  });

  it('the OpenAPI document is the caller’s', async () => {
    const mine = (await as(rep)('GET', '/api/apps/crm/openapi.json')).json() as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties: Record<string, { readOnly?: boolean }> }> } };
    expect(Object.keys(mine.paths).some((p) => p.includes('/company'))).toBe(false);
    expect(mine.components.schemas.Company).toBeUndefined();
    const deal = mine.components.schemas.Deal!;
    expect('hot' in deal.properties).toBe(false);
    expect(deal.properties.amount!.readOnly).toBe(true);
    expect(deal.properties.title!.readOnly).toBeUndefined();
    expect('amount' in mine.components.schemas.DealCreate!.properties).toBe(false);
    expect(mine.paths['/api/apps/crm/records/deal/{id}']!.delete).toBeUndefined();
    const admins = (await h.call('GET', '/api/apps/crm/openapi.json')).json() as typeof mine;
    expect('hot' in admins.components.schemas.Deal!.properties).toBe(true);
    expect(admins.components.schemas.Company).toBeDefined();
  });

  it('the owner shares a record; a read share shows it, an edit share lets it be changed', async () => {
    const created = await as(rep)('POST', '/api/apps/crm/records/deal', { title: 'Shared' });
    const id = (created.json() as { id: string }).id;
    const base = `/api/apps/crm/records/deal/${id}/shares`;
    expect(expectProblem(await as(colleague)('POST', base, { userId: colleague.id, level: 'edit' })).status).toBe(404);
    expect(expectProblem(await as(rep)('POST', base, { level: 'edit' })).errors[0]!.field).toBe('userId');
    const share = await as(rep)('POST', base, { userId: colleague.id, level: 'read' });
    expect(share.statusCode, share.body).toBe(201);
    expect((await as(colleague)('GET', `/api/apps/crm/records/deal/${id}`)).statusCode).toBe(200);
    expect(expectProblem(await as(colleague)('PATCH', `/api/apps/crm/records/deal/${id}`, { title: 'x' }, { 'if-match': '1' })).status).toBe(403);
    expect(expectProblem(await as(colleague)('POST', base, { userId: colleague.id, level: 'edit' })).status).toBe(403);
    await as(rep)('POST', base, { userId: colleague.id, level: 'edit' });
    expect((await as(colleague)('PATCH', `/api/apps/crm/records/deal/${id}`, { title: 'Edited' }, { 'if-match': '1' })).statusCode).toBe(200);
    const listed = (await as(colleague)('GET', base)).json() as { items: Array<{ id: string; level: string }> };
    expect(listed.items.map((s) => s.level)).toEqual(['edit']);
    expect((await as(rep)('DELETE', `${base}/${listed.items[0]!.id}`)).statusCode).toBe(204);
    expect(expectProblem(await as(colleague)('GET', `/api/apps/crm/records/deal/${id}`)).status).toBe(404);
  });

  it('a token narrowed to a role acts with that role only, and an admin’s narrowed token is not an admin', async () => {
    const admin = await h.database.db.selectFrom('users').select('id').where('is_admin', '=', true).executeTakeFirstOrThrow();
    await h.call('PUT', `/api/apps/crm/users/${admin.id}/roles/rep`);
    const narrowed = await new TokenRepository(h.database.db).issue(h.workspaceId, admin.id, { kind: 'api', name: 'narrow', roles: ['rep'] });
    const list = await as({ token: narrowed.token })('GET', '/api/apps/crm/records/deal');
    const ids = (list.json() as { items: Array<{ owner_id: string }> }).items.map((r) => r.owner_id);
    expect(ids.every((o) => o === admin.id)).toBe(true);
    expect(expectProblem(await as({ token: narrowed.token })('GET', '/api/teams')).status).toBe(403);
  });

  it('duplicate checks do not probe hidden fields or show records out of scope', async () => {
    const refused = expectProblem(await as(rep)('POST', '/api/apps/crm/records/deal/duplicates', { hot: true }));
    expect(refused.errors[0]!.field).toBe('hot');
  });

  it('property: the OpenAPI document lists exactly the objects, fields and operations the roles allow', async () => {
    const published = await new MetadataRepository(h.database.db).getPublished(h.workspaceId, 'crm');
    const keys = { deal: ['title', 'stage', 'amount', 'hot', 'company'], company: ['name'] } as const;
    const grant = (fields: readonly string[]) =>
      fc.record({
        create: fc.boolean(),
        read: fc.boolean(),
        update: fc.boolean(),
        delete: fc.boolean(),
        import: fc.boolean(),
        export: fc.boolean(),
        scope: fc.constantFrom<ObjectGrant['scope']>('all', 'own', 'team'),
        fields: fc.dictionary(fc.constantFrom(...fields), fc.constantFrom<FieldAccess>('read', 'write', 'none'), { maxKeys: 3 }),
      });
    const role = fc.record({ deal: fc.option(grant(keys.deal), { nil: undefined }), company: fc.option(grant(keys.company), { nil: undefined }) });
    const viewer = await new UserRepository(h.database.db).create(h.workspaceId, { email: 'openapi@example.com', name: 'o', passwordHash: 'x' });
    await fc.assert(
      fc.asyncProperty(fc.array(role, { minLength: 1, maxLength: 3 }), async (drawn) => {
        const roles: RoleDef[] = drawn.map((objects, i) => ({
          key: `r${i}`,
          name: { en: `R${i}` },
          objects: Object.fromEntries(Object.entries(objects).filter(([, g]) => g !== undefined)) as Record<string, ObjectGrant>,
        }));
        const app: PublishedApp = { ...published, document: { ...published.document, roles } };
        await h.database.db.deleteFrom('user_roles').where('user_id', '=', viewer.id).execute();
        await h.database.db.insertInto('user_roles').values(roles.map((r) => ({ workspace_id: h.workspaceId, app_id: app.appId, user_id: viewer.id, role_key: r.key }))).execute();
        const policy = await loadAccessPolicy(h.database.db, app, { workspaceId: h.workspaceId, userId: viewer.id, isAdmin: false });
        const doc = appOpenApi(app, '/', policy) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties: Record<string, { readOnly?: boolean }> }> } };
        for (const objectKey of ['deal', 'company'] as const) {
          const grants = drawn.map((r) => r[objectKey]).filter((g): g is NonNullable<typeof g> => g !== undefined);
          const name = objectKey === 'deal' ? 'Deal' : 'Company';
          const base = `/api/apps/crm/records/${objectKey}`;
          const readable = grants.some((g) => g.read);
          expect(doc.components.schemas[name] !== undefined).toBe(readable);
          expect(doc.paths[base] !== undefined).toBe(readable);
          if (!readable) continue;
          expect(doc.paths[base]!.post !== undefined).toBe(grants.some((g) => g.create));
          expect(doc.paths[`${base}/{id}`]!.patch !== undefined).toBe(grants.some((g) => g.update));
          expect(doc.paths[`${base}/{id}`]!.delete !== undefined).toBe(grants.some((g) => g.delete));
          for (const field of keys[objectKey]) {
            const rank = { none: 0, read: 1, write: 2 } as const;
            const access = grants
              .filter((g) => g.read)
              .map((g) => g.fields[field] ?? (g.update || g.create ? 'write' : 'read'))
              .reduce<FieldAccess>((best, a) => (rank[a] > rank[best] ? a : best), 'none');
            const property = doc.components.schemas[name]!.properties[field];
            expect(property !== undefined, `${objectKey}.${field} shown`).toBe(access !== 'none');
            if (property) expect(property.readOnly === true, `${objectKey}.${field} readOnly`).toBe(access === 'read');
            expect(field in doc.components.schemas[`${name}Create`]!.properties, `${objectKey}.${field} in create`).toBe(access === 'write');
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
