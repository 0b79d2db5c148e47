import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MetadataRepository, RecordRepository, openTestDatabase, type ApiRecord, type Actor, type Database } from '../src/index';
import { dealApp, newWorkspace } from './fixtures';

const env = { now: new Date('2026-11-23T08:00:00Z') };
const SORTABLE = ['amount', 'title', 'close_date', 'stage', 'hot'] as const;

/** PostgreSQL's order for one key: nulls last ascending, first descending; text by code point ("C"). */
function compareKey(a: unknown, b: unknown, key: string, descending: boolean): number {
  const na = a === undefined || a === null;
  const nb = b === undefined || b === null;
  if (na || nb) {
    if (na && nb) return 0;
    const nullsLast = na ? 1 : -1;
    return descending ? -nullsLast : nullsLast;
  }
  const x = key === 'amount' ? Number(a) : a;
  const y = key === 'amount' ? Number(b) : b;
  const c = x! < y! ? -1 : x! > y! ? 1 : 0;
  return descending ? -c : c;
}

describe('keyset pagination (property)', () => {
  let database: Database;
  let actor: Actor;
  let records: RecordRepository;
  let all: ApiRecord[];

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    const meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: dealApp() });
    await meta.publish(actor, 'crm');
    records = new RecordRepository(database.db, await meta.getPublished(actor.workspaceId, 'crm'));
    const rows = fc.sample(
      fc.record(
        {
          title: fc.constantFrom('a', 'B', 'b', 'Zeta', 'alpha', 'alpha2'),
          amount: fc.option(fc.constantFrom(0, 5, 5, 12.5, 100, -3), { nil: undefined }),
          close_date: fc.option(fc.constantFrom('2026-01-01', '2026-06-30', '2025-12-31'), { nil: undefined }),
          stage: fc.option(fc.constantFrom('new', 'won', 'lost'), { nil: undefined }),
          hot: fc.option(fc.boolean(), { nil: undefined }),
        },
        { requiredKeys: ['title'] },
      ),
      { numRuns: 45, seed: 7 },
    );
    all = [];
    for (const row of rows) {
      const input = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined));
      all.push(await records.create(actor, 'deal', input));
    }
  });
  afterAll(async () => database?.close());

  it('visits every record exactly once, in PostgreSQL order, for any sort and page size', async () => {
    const sortKey = fc.record({ key: fc.constantFrom(...SORTABLE), descending: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(sortKey, { minLength: 1, maxLength: 3, selector: (k) => k.key }), fc.integer({ min: 1, max: 8 }), async (keys, limit) => {
        const sort = keys.map((k) => (k.descending ? '-' : '') + k.key).join(',');
        const seen: ApiRecord[] = [];
        let cursor: string | undefined;
        do {
          const page = await records.list(actor.workspaceId, 'deal', { sort, limit, cursor }, env);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor && seen.length <= all.length);
        expect(seen.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
        const expected = [...all].sort((a, b) => {
          for (const k of keys) {
            const c = compareKey(a[k.key], b[k.key], k.key, k.descending);
            if (c !== 0) return c;
          }
          return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
        });
        expect(seen.map((r) => r.id)).toEqual(expected.map((r) => r.id));
      }),
      { numRuns: 40 },
    );
  });
});
