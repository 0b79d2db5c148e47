import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { findObject, validateRecordInput, isComputed, type PublishedApp } from '@tessera/metadata';
import { MetadataRepository, TokenRepository, UserRepository, type RoleDef } from '@tessera/store';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

/**
 * Payloads drawn from each caller's own generated schemas (the per-user OpenAPI
 * document), bent at random: every object and field the document lists is fuzzed, so a
 * new one is covered without touching this test. Whatever is sent, the answer is never a
 * 5xx, what is stored always passes the record validation again, a refused write
 * stores nothing, and a restricted caller never writes a field their schema marks
 * read-only or leaves out.
 */

type Json = Record<string, unknown>;
type Schema = { type?: string | string[]; enum?: unknown[]; format?: string; pattern?: string; properties?: Record<string, Schema>; items?: Schema; required?: string[]; readOnly?: boolean };

const ROLES: RoleDef[] = [
  {
    key: 'rep',
    name: { en: 'Rep' },
    objects: {
      deal: { create: true, read: true, update: true, delete: false, import: false, export: false, scope: 'own', fields: { amount: 'read', hot: 'none' } },
      company: { create: false, read: true, update: false, delete: false, import: false, export: false, scope: 'all' },
    },
  },
];

/** A value shaped by one property schema, or something that is not. */
function valueFor(schema: Schema): fc.Arbitrary<unknown> {
  const types = [schema.type ?? []].flat();
  const fitting: fc.Arbitrary<unknown>[] = [];
  if (schema.enum) fitting.push(fc.constantFrom(...schema.enum));
  if (schema.format === 'uuid') fitting.push(fc.uuid());
  if (schema.pattern?.includes('\\d') || schema.pattern?.includes('0-9')) fitting.push(fc.integer({ min: -10_000_000, max: 10_000_000 }).map((c) => (c / 100).toFixed(2)));
  for (const t of types) {
    if (t === 'string' && !schema.enum) fitting.push(fc.string({ maxLength: 40 }));
    if (t === 'number' || t === 'integer') fitting.push(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })));
    if (t === 'boolean') fitting.push(fc.boolean());
    if (t === 'null') fitting.push(fc.constant(null));
    if (t === 'array') fitting.push(fc.array(schema.items ? valueFor(schema.items) : fc.jsonValue(), { maxLength: 4 }));
  }
  const wild = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 3000 }), fc.constantFrom('', ' ', '1e999', '-0', 'NaN', '2026-02-30', '\u0000', '<script>'));
  return fitting.length > 0 ? fc.oneof({ weight: 8, arbitrary: fc.oneof(...fitting) }, { weight: 1, arbitrary: wild }) : wild;
}

/** Mostly the schema's shape (required keys present), sometimes with a key it does not allow, sometimes anything at all. */
function bodyFor(schema: Schema, extraKeys: string[]): fc.Arbitrary<unknown> {
  const props = Object.entries(schema.properties ?? {});
  const required = (schema.required ?? []).filter((k) => props.some(([p]) => p === k));
  const record = fc.record(Object.fromEntries(props.map(([k, s]) => [k, valueFor(s)])), { requiredKeys: required });
  const withExtra = fc.tuple(record, fc.constantFrom(...extraKeys), fc.jsonValue()).map(([r, k, v]) => ({ ...(r as Json), [k]: v }));
  return fc.oneof({ weight: 6, arbitrary: record }, { weight: 2, arbitrary: withExtra }, { weight: 1, arbitrary: fc.jsonValue() });
}

describe('API fuzz against the generated schemas', () => {
  let h: Harness;
  let app: PublishedApp;
  let rep: string;
  let repId: string;

  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'crm', { ...crmDraft(), roles: ROLES });
    app = await new MetadataRepository(h.database.db).getPublished(h.workspaceId, 'crm');
    const user = await new UserRepository(h.database.db).create(h.workspaceId, { email: 'rep@example.com', name: 'Rep', passwordHash: 'x' });
    repId = user.id;
    rep = (await new TokenRepository(h.database.db).issue(h.workspaceId, user.id, { kind: 'api', name: 'fuzz' })).token;
    expect((await h.call('PUT', `/api/apps/crm/users/${user.id}/roles/rep`)).statusCode).toBe(200);
    await h.call('POST', '/api/apps/crm/records/company', { name: 'Acme' });
  });

  afterAll(async () => {
    await h?.close();
  });

  const send = (token: string, method: 'POST' | 'PATCH', url: string, body: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) ?? 'null' });

  async function stored(): Promise<Map<string, { data: Json; version: number; owner: string | null }>> {
    const rows = await h.database.db.selectFrom('records').select(['id', 'data', 'version', 'owner_id']).where('workspace_id', '=', h.workspaceId).execute();
    return new Map(rows.map((r) => [r.id, { data: r.data as Json, version: r.version, owner: r.owner_id }]));
  }

  /** A stored record must pass the record validation again, as an update of every non-computed field. */
  function assertValid(objectKey: string, data: Json): void {
    const object = findObject(app.document, objectKey)!;
    const byKey: Json = {};
    for (const f of object.fields) if (f.id && !isComputed(f) && data[f.id] !== undefined) byKey[f.key] = data[f.id];
    expect(() => validateRecordInput(object, byKey, 'update')).not.toThrow();
  }

  for (const caller of ['admin', 'rep'] as const) {
    it(`as ${caller}: creates and updates from the schemas never 5xx, never store invalid or forbidden values`, async () => {
      const token = caller === 'admin' ? h.token : rep;
      const doc = (await h.app.inject({ method: 'GET', url: '/api/apps/crm/openapi.json', headers: { authorization: `Bearer ${token}` } })).json() as {
        components: { schemas: Record<string, Schema> };
        paths: Record<string, Record<string, unknown>>;
      };
      const objects = Object.keys(doc.paths)
        .map((p) => /^\/api\/apps\/crm\/records\/([a-z0-9_]+)$/.exec(p)?.[1])
        .filter((k): k is string => k !== undefined);
      expect(objects.length).toBeGreaterThan(0);
      let accepted = 0;
      for (const objectKey of objects) {
        const name = objectKey.charAt(0).toUpperCase() + objectKey.slice(1);
        const read = doc.components.schemas[name]!;
        const writable = new Set(Object.entries(read.properties ?? {}).filter(([, s]) => !s.readOnly).map(([k]) => k));
        const object = findObject(app.document, objectKey)!;
        const fieldId = (key: string) => object.fields.find((f) => f.key === key)?.id;
        const unwritable = object.fields.filter((f) => !isComputed(f) && !writable.has(f.key)).map((f) => f.key);
        const base = `/api/apps/crm/records/${objectKey}`;
        const canCreate = doc.paths[base]?.post !== undefined;
        const create = bodyFor(doc.components.schemas[`${name}Create`]!, [...unwritable, 'nope', 'id', 'owner_id']);
        await fc.assert(
          fc.asyncProperty(create, fc.option(fc.nat(), { nil: undefined }), async (body, pick) => {
            const before = await stored();
            const res = await send(token, 'POST', base, body);
            expect(res.statusCode, res.body).toBeLessThan(500);
            const after = await stored();
            if (res.statusCode === 201) {
              accepted++;
              expect(canCreate).toBe(true);
              const id = (res.json() as { id: string }).id;
              assertValid(objectKey, after.get(id)!.data);
              for (const key of unwritable) if (fieldId(key)) expect(after.get(id)!.data[fieldId(key)!], key).toBeUndefined();
            } else {
              expectProblem(res);
              expect(after.size).toBe(before.size);
            }
            // then a random PATCH of one of the caller's records
            const mine = [...after.entries()].filter(([, r]) => caller === 'admin' || r.owner === repId);
            if (mine.length === 0 || pick === undefined) return;
            const [id, current] = mine[pick % mine.length]!;
            const patched = await send(token, 'PATCH', `${base}/${id}`, body, { 'if-match': String(current.version) });
            expect(patched.statusCode, patched.body).toBeLessThan(500);
            const now = (await stored()).get(id)!;
            if (patched.statusCode === 200) {
              if (now.data && Object.keys(now.data).length > 0) assertValid(objectKey, now.data);
            } else {
              expect(now.data).toEqual(current.data);
            }
            for (const key of unwritable) if (fieldId(key)) expect(now.data[fieldId(key)!], key).toEqual(current.data[fieldId(key)!]);
          }),
          { numRuns: Number(process.env.FUZZ_RUNS ?? 60) },
        );
      }
      // the schema-shaped part of the inputs must get through often, or the property proves little
      expect(accepted).toBeGreaterThan(5);
    }, 180_000);
  }
});
