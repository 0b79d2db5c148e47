import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expectProblem, publishApp, startHarness, type Harness } from './harness';

interface Rec {
  id: string;
  version: number;
  title?: string;
  stage?: string;
  amount?: string;
  [k: string]: unknown;
}

describe('records over HTTP', () => {
  let h: Harness;
  const base = '/api/apps/crm/records/deal';
  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'crm');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function create(body: Record<string, unknown>): Promise<Rec> {
    const res = await h.call('POST', base, body);
    if (res.statusCode !== 201) throw new Error(res.body);
    return res.json() as Rec;
  }

  it('creates a record: 201, Location, ETag, values by field key', async () => {
    const res = await h.call('POST', base, { title: 'Big deal', stage: 'new', amount: '1234.5', hot: true });
    expect(res.statusCode).toBe(201);
    const rec = res.json() as Rec;
    expect(res.headers.location).toBe(`${base}/${rec.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(rec).toMatchObject({ title: 'Big deal', stage: 'new', amount: '1234.50', hot: true, version: 1 });
    const read = await h.call('GET', `${base}/${rec.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('"1"');
    expect(read.json()).toEqual(rec);
  });

  it('refuses unknown fields and wrong types with 422 naming each field, storing nothing', async () => {
    const before = ((await h.call('GET', `${base}?limit=200`)).json() as { items: Rec[] }).items.length;
    const unknown = await h.call('POST', base, { title: 'x', colour: 'red' });
    expect(unknown.statusCode).toBe(422);
    expect(expectProblem(unknown).errors).toContainEqual(expect.objectContaining({ field: 'colour' }));
    const wrongType = await h.call('POST', base, { title: 'x', amount: 'lots', hot: 'yes', stage: 'maybe' });
    expect(wrongType.statusCode).toBe(422);
    const fields = expectProblem(wrongType).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['amount', 'hot', 'stage']));
    const missing = await h.call('POST', base, { stage: 'new' });
    expect(missing.statusCode).toBe(422);
    expect(expectProblem(missing).errors).toContainEqual(expect.objectContaining({ field: 'title' }));
    const dangling = await h.call('POST', base, { title: 'x', company: '0190a4c2-0000-7000-8000-000000000000' });
    expect(dangling.statusCode).toBe(422);
    expect(expectProblem(dangling).errors[0]?.field).toBe('company');
    expect(((await h.call('GET', `${base}?limit=200`)).json() as { items: Rec[] }).items.length).toBe(before);
  });

  it('answers unknown apps, objects and records with 404', async () => {
    expect((await h.call('GET', '/api/apps/nope/records/deal')).statusCode).toBe(404);
    expect((await h.call('POST', '/api/apps/crm/records/nope', { title: 'x' })).statusCode).toBe(404);
    expect((await h.call('GET', `${base}/0190a4c2-0000-7000-8000-000000000000`)).statusCode).toBe(404);
    const garbageId = await h.call('GET', `${base}/not-a-uuid`);
    expect(garbageId.statusCode).toBe(404);
    expectProblem(garbageId);
  });

  it('PATCH needs If-Match: missing -> 428, malformed -> 400, stale -> 409 with the current version', async () => {
    const rec = await create({ title: 'Patch me' });
    const missing = await h.call('PATCH', `${base}/${rec.id}`, { stage: 'won' });
    expect(missing.statusCode).toBe(428);
    expect(expectProblem(missing).errors[0]?.field).toBe('If-Match');
    expect((await h.call('PATCH', `${base}/${rec.id}`, { stage: 'won' }, { 'if-match': 'soon' })).statusCode).toBe(400);
    const ok = await h.call('PATCH', `${base}/${rec.id}`, { stage: 'won' }, { 'if-match': '"1"' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.json()).toMatchObject({ stage: 'won', title: 'Patch me', version: 2 });
    const stale = await h.call('PATCH', `${base}/${rec.id}`, { stage: 'new' }, { 'if-match': '1' });
    expect(stale.statusCode).toBe(409);
    expect(expectProblem(stale)).toMatchObject({ currentVersion: 2 });
    expect(((await h.call('GET', `${base}/${rec.id}`)).json() as Rec).stage).toBe('won');
  });

  it('of concurrent PATCHes with the same If-Match exactly one wins', async () => {
    const rec = await create({ title: 'Contended' });
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => h.call('PATCH', `${base}/${rec.id}`, { title: `writer ${i}` }, { 'if-match': '"1"' })),
    );
    const codes = attempts.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const winner = attempts.find((r) => r.statusCode === 200)!.json() as Rec;
    const final = (await h.call('GET', `${base}/${rec.id}`)).json() as Rec;
    expect(final.version).toBe(2);
    expect(final.title).toBe(winner.title);
  });

  it('deletes softly (204, then 404) and restores', async () => {
    const rec = await create({ title: 'Ephemeral' });
    expect((await h.call('DELETE', `${base}/${rec.id}`)).statusCode).toBe(204);
    expect((await h.call('GET', `${base}/${rec.id}`)).statusCode).toBe(404);
    const restored = await h.call('POST', `${base}/${rec.id}/restore`);
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ title: 'Ephemeral' });
    expect((await h.call('GET', `${base}/${rec.id}`)).statusCode).toBe(200);
    expect((await h.call('POST', `${base}/${rec.id}/restore`)).statusCode).toBe(409);
  });

  it('lists with filter, sort, limit, cursor and q', async () => {
    const obj = '/api/apps/crm/records/company';
    for (const name of ['Acme', 'Beta', 'Cobalt', '华为技术', 'Delta']) {
      expect((await h.call('POST', obj, { name })).statusCode).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `?sort=name&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await h.call('GET', obj + qs)).json() as { items: Array<{ name: string }>; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Acme', 'Beta', 'Cobalt', 'Delta', '华为技术']);

    const desc = (await h.call('GET', `${obj}?sort=-name&limit=1`)).json() as { items: Array<{ name: string }> };
    expect(desc.items.map((i) => i.name)).toEqual(['华为技术']);
    const search = (await h.call('GET', `${obj}?q=${encodeURIComponent('华为')}`)).json() as { items: Array<{ name: string }> };
    expect(search.items.map((i) => i.name)).toEqual(['华为技术']);
    const filter = encodeURIComponent(JSON.stringify({ in: [{ var: 'name' }, ['Beta', 'Delta']] }));
    const filtered = await h.call('GET', `${obj}?filter=${filter}&sort=name`);
    expect(filtered.statusCode).toBe(200);
    expect((filtered.json() as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['Beta', 'Delta']);
  });

  it('refuses a filter on an unknown field or a malformed filter with 400 naming it', async () => {
    const unknown = await h.call('GET', `${base}?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'colour' }, 'red'] }))}`);
    expect(unknown.statusCode).toBe(400);
    const doc = expectProblem(unknown);
    expect(JSON.stringify(doc.errors)).toContain('colour');
    const malformed = await h.call('GET', `${base}?filter=${encodeURIComponent('{"==":[')}`);
    expect(malformed.statusCode).toBe(400);
    expect(expectProblem(malformed).errors[0]?.field).toBe('filter');
    const badSort = await h.call('GET', `${base}?sort=colour`);
    expect(badSort.statusCode).toBe(400);
    expect(expectProblem(badSort).errors[0]?.field).toBe('sort');
  });

  it('a random JSON body never yields a 5xx, and an accepted one reads back', async () => {
    const plausible = fc.record(
      {
        title: fc.string({ minLength: 1, maxLength: 50 }),
        stage: fc.constantFrom('new', 'won'),
        amount: fc.integer({ min: -1_000_000, max: 1_000_000 }).map((cents) => (cents / 100).toFixed(2)),
        hot: fc.boolean(),
      },
      { requiredKeys: ['title'] },
    );
    const body = fc.oneof(
      plausible,
      fc.jsonValue(),
      fc.record(
        {
          title: fc.oneof(fc.string(), fc.jsonValue()),
          stage: fc.oneof(fc.constantFrom('new', 'won', 'lost'), fc.jsonValue()),
          amount: fc.oneof(fc.double(), fc.string(), fc.constantFrom('1.5', '-0', '1e3', '99999999999999999999.99')),
          hot: fc.jsonValue(),
          company: fc.oneof(fc.uuid(), fc.string()),
          id: fc.uuid(),
          version: fc.integer(),
        },
        { requiredKeys: [] },
      ),
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const res = await h.call('POST', base, JSON.stringify(payload), { 'content-type': 'application/json' });
        expect(res.statusCode, res.body).toBeLessThan(500);
        if (res.statusCode === 201) {
          accepted++;
          const rec = res.json() as Rec;
          expect((await h.call('GET', `${base}/${rec.id}`)).json()).toEqual(rec);
        } else {
          expectProblem(res);
        }
      }),
      { numRuns: 150 },
    );
    // the plausible third of the inputs must mostly get through, or the property proves little
    expect(accepted).toBeGreaterThan(10);
  });

  it('a random filter, sort or PATCH body never yields a 5xx', async () => {
    const rec = await create({ title: 'Fuzzed' });
    const operand = fc.oneof(fc.jsonValue(), fc.constantFrom('title', 'stage', 'amount', 'hot', 'id', 'version', 'nope').map((v) => ({ var: v })));
    const expression = fc.oneof(
      fc.jsonValue(),
      fc.tuple(fc.constantFrom('==', '!=', '<', '>=', 'in', 'and', 'or', '!', 'contains', 'startsWith', 'isEmpty', 'between', 'bogus'), fc.array(operand, { maxLength: 3 })).map(
        ([op, args]) => ({ [op]: args }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(expression, fc.string({ maxLength: 30 }), fc.jsonValue(), async (filter, sort, patch) => {
        const list = await h.call('GET', `${base}?filter=${encodeURIComponent(JSON.stringify(filter) ?? 'null')}&sort=${encodeURIComponent(sort)}`);
        expect(list.statusCode, list.body).toBeLessThan(500);
        const current = (await h.call('GET', `${base}/${rec.id}`)).json() as Rec;
        const res = await h.call('PATCH', `${base}/${rec.id}`, JSON.stringify(patch), { 'content-type': 'application/json', 'if-match': String(current.version) });
        expect(res.statusCode, res.body).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });
});
