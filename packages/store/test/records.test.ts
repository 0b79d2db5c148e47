import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ProblemError, type PublishedApp } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, openTestDatabase, refusal, type Actor, type Database } from '../src/index';
import { dealApp, newWorkspace } from './fixtures';

const env = { now: new Date('2026-11-23T08:00:00Z') };

describe('record repository', () => {
  let database: Database;
  let actor: Actor;
  let meta: MetadataRepository;
  let app: PublishedApp;
  let records: RecordRepository;

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: dealApp() });
    await meta.publish(actor, 'crm');
    app = await meta.getPublished(actor.workspaceId, 'crm');
    records = new RecordRepository(database.db, app);
  });
  afterAll(async () => database?.close());

  it('creates, reads, updates with the current version and keeps history', async () => {
    const acme = await records.create(actor, 'company', { name: '华为技术有限公司' });
    const created = await records.create(actor, 'deal', {
      title: '年度框架协议',
      stage: 'new',
      amount: '1250000.5',
      close_date: '2026-12-31',
      company: acme.id,
      tags: ['vip'],
    });
    expect(created).toMatchObject({ title: '年度框架协议', stage: 'new', amount: '1250000.50', version: 1, owner_id: actor.userId });
    const read = await records.get(actor.workspaceId, 'deal', created.id);
    expect(read).toEqual(created);

    const updated = await records.update(actor, 'deal', created.id, { stage: 'won', tags: null }, 1);
    expect(updated).toMatchObject({ stage: 'won', version: 2 });
    expect(updated).not.toHaveProperty('tags');

    const history = await database.db
      .selectFrom('record_history')
      .select(['action', 'version', 'changes'])
      .where('workspace_id', '=', actor.workspaceId)
      .where('record_id', '=', created.id)
      .orderBy('version')
      .execute();
    expect(history.map((h) => h.action)).toEqual(['create', 'update']);
    const stageId = app.document.objects[1]!.fields.find((f) => f.key === 'stage')!.id!;
    expect((history[1]!.changes as Record<string, unknown>)[stageId]).toEqual({ before: 'new', after: 'won' });
  });

  it('rejects a stale version with 409 and changes nothing', async () => {
    const deal = await records.create(actor, 'deal', { title: 'stale test', amount: 10 });
    await records.update(actor, 'deal', deal.id, { amount: 20 }, 1);
    const e = await refusal(records.update(actor, 'deal', deal.id, { amount: 30 }, 1));
    expect(e.status).toBe(409);
    expect(e.extra.currentVersion).toBe(2);
    expect((await records.get(actor.workspaceId, 'deal', deal.id)).amount).toBe('20.00');
  });

  it('lets exactly one of many concurrent updates with the same version win', async () => {
    const deal = await records.create(actor, 'deal', { title: 'race', amount: 1 });
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => records.update(actor, 'deal', deal.id, { amount: 100 + i }, 1)),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    const lost = attempts.filter((a) => a.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost.every((l) => (l.reason as ProblemError).status === 409)).toBe(true);
    expect((await records.get(actor.workspaceId, 'deal', deal.id)).version).toBe(2);
  });

  it('rejects a duplicate unique value with 409 naming the existing record', async () => {
    const first = await records.create(actor, 'company', { name: '阿里巴巴' });
    const e = await refusal(records.create(actor, 'company', { name: '阿里巴巴' }));
    expect(e.status).toBe(409);
    expect(e.extra.existingId).toBe(first.id);
    expect(e.errors[0]).toMatchObject({ field: 'name', code: 'duplicate' });
    // concurrent creates of one value: the index lets exactly one through
    const racers = await Promise.allSettled(Array.from({ length: 6 }, () => records.create(actor, 'company', { name: '腾讯' })));
    expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('soft-deletes and restores a record whole', async () => {
    const deal = await records.create(actor, 'deal', { title: 'to delete', stage: 'lost' });
    await records.delete(actor, 'deal', deal.id);
    expect((await refusal(records.get(actor.workspaceId, 'deal', deal.id))).status).toBe(404);
    const restored = await records.restore(actor, 'deal', deal.id);
    expect(restored).toMatchObject({ title: 'to delete', stage: 'lost', version: 3 });
  });

  it('rejects a relation to a record that does not exist', async () => {
    const e = await refusal(records.create(actor, 'deal', { title: 'x', company: '00000000-0000-4000-8000-000000000000' }));
    expect(e.status).toBe(422);
    expect(e.errors[0]).toMatchObject({ field: 'company', code: 'reference' });
  });

  it('never lets one workspace read or write another workspace\'s records', async () => {
    const other = await newWorkspace(database);
    const mine = await records.create(actor, 'deal', { title: 'secret' });
    expect((await refusal(records.get(other.workspaceId, 'deal', mine.id))).status).toBe(404);
    expect((await refusal(records.update(other, 'deal', mine.id, { title: 'pwned' }, 1))).status).toBe(404);
    const listed = await records.list(other.workspaceId, 'deal', {}, env);
    expect(listed.items).toEqual([]);
  });
});

describe('listing', () => {
  let database: Database;
  let actor: Actor;
  let records: RecordRepository;
  const amounts: number[] = [];

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    const meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: dealApp() });
    await meta.publish(actor, 'crm');
    records = new RecordRepository(database.db, await meta.getPublished(actor.workspaceId, 'crm'));
    const stages = ['new', 'won', 'lost'];
    for (let i = 0; i < 60; i++) {
      const amount = (i * 37) % 23; // repeats, so ties exercise the id tie-breaker
      amounts.push(amount);
      await records.create(actor, 'deal', {
        title: i % 10 === 0 ? `上海制造项目 ${i}` : `Deal ${i}`,
        stage: stages[i % 3],
        ...(i % 7 === 0 ? {} : { amount }),
        close_date: `2026-${String((i % 12) + 1).padStart(2, '0')}-15`,
      });
    }
  });
  afterAll(async () => database?.close());

  it('pages through a multi-field sort with keyset cursors, every record exactly once, nulls last', async () => {
    const seen: Array<{ id: string; amount: unknown; title: unknown }> = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await records.list(actor.workspaceId, 'deal', { sort: 'amount,-title', limit: 7, cursor }, env);
      seen.push(...page.items.map((r) => ({ id: r.id, amount: r.amount, title: r.title })));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 50);
    expect(seen).toHaveLength(60);
    expect(new Set(seen.map((s) => s.id)).size).toBe(60);
    const numeric = seen.map((s) => (s.amount === undefined ? Infinity : Number(s.amount)));
    expect(numeric).toEqual([...numeric].sort((a, b) => a - b));
  });

  it('pages descending too, with nulls first as PostgreSQL orders them', async () => {
    const ids = new Set<string>();
    let cursor: string | undefined;
    const order: number[] = [];
    do {
      const page = await records.list(actor.workspaceId, 'deal', { sort: '-amount', limit: 9, cursor }, env);
      for (const r of page.items) {
        ids.add(r.id);
        order.push(r.amount === undefined ? Infinity : Number(r.amount));
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(ids.size).toBe(60);
    expect(order).toEqual([...order].sort((a, b) => b - a));
  });

  it('filters with an expression and counts the same set', async () => {
    const filter = { and: [{ '==': [{ var: 'stage' }, 'won'] }, { '>': [{ var: 'amount' }, 10] }] };
    const page = await records.list(actor.workspaceId, 'deal', { filter, limit: 200 }, env);
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((r) => r.stage === 'won' && Number(r.amount) > 10)).toBe(true);
    expect(await records.count(actor.workspaceId, 'deal', { filter }, env)).toBe(page.items.length);
  });

  it('finds Chinese text by substring search', async () => {
    const page = await records.list(actor.workspaceId, 'deal', { q: '制造' }, env);
    expect(page.items.map((r) => r.title).sort()).toEqual(
      ['上海制造项目 0', '上海制造项目 10', '上海制造项目 20', '上海制造项目 30', '上海制造项目 40', '上海制造项目 50'].sort(),
    );
    expect((await records.list(actor.workspaceId, 'deal', { q: '%' }, env)).items).toEqual([]);
  });

  it('rejects a filter or sort on an unknown field and a forged cursor with 400 naming it', async () => {
    const bad = await refusal(records.list(actor.workspaceId, 'deal', { filter: { '==': [{ var: 'nope' }, 1] } }, env));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.errors)).toContain('nope');
    expect((await refusal(records.list(actor.workspaceId, 'deal', { sort: 'nope' }, env))).errors[0]?.field).toBe('sort');
    expect((await refusal(records.list(actor.workspaceId, 'deal', { cursor: 'garbage' }, env))).errors[0]?.field).toBe('cursor');
    const forged = Buffer.from(JSON.stringify({ sort: ['amount', 'id'], values: ['abc', 'def'] })).toString('base64url');
    const e = await records.list(actor.workspaceId, 'deal', { sort: 'amount', cursor: forged }, env).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ProblemError);
  });
});

describe('schema changes on a populated object', () => {
  it('adds a field without touching stored rows, indexes it, and rollback restores the old shape with data intact', async () => {
    const database = await openTestDatabase();
    try {
      const actor = await newWorkspace(database);
      const meta = new MetadataRepository(database.db);
      await meta.createApp(actor, { key: 'crm', draft: dealApp() });
      await meta.publish(actor, 'crm');
      const v1 = new RecordRepository(database.db, await meta.getPublished(actor.workspaceId, 'crm'));
      const deal = await v1.create(actor, 'deal', { title: 'keep me', amount: 5 });

      const draft = await meta.getDraft(actor.workspaceId, 'crm');
      const dealObject = draft.objects.find((o) => o.key === 'deal')!;
      dealObject.fields.push({ key: 'region', type: 'text', label: { en: 'Region', zh: '区域' }, indexed: true });
      dealObject.fields = dealObject.fields.filter((f) => f.key !== 'amount');
      await meta.saveDraft(actor, 'crm', draft);
      const published = await meta.publish(actor, 'crm');
      expect(published.version).toBe(2);

      const v2 = new RecordRepository(database.db, await meta.getPublished(actor.workspaceId, 'crm'));
      const read = await v2.get(actor.workspaceId, 'deal', deal.id);
      expect(read.version).toBe(1); // no row rewrite
      expect(read).not.toHaveProperty('amount'); // removed field is hidden...
      const updated = await v2.update(actor, 'deal', deal.id, { region: '华东' }, 1);
      expect(updated.region).toBe('华东');

      const indexes = await sql<{ indexdef: string }>`SELECT indexdef FROM pg_indexes WHERE tablename = 'records'`.execute(database.db);
      const regionId = (await meta.getPublished(actor.workspaceId, 'crm')).document.objects[1]!.fields.find((f) => f.key === 'region')!.id!;
      expect(indexes.rows.some((r) => r.indexdef.includes(regionId))).toBe(true);
      // the planner gets the value distribution of indexed fields (partial-index expressions get none)
      const stats = await sql<{ expr: string }>`SELECT pg_get_statisticsobjdef_expressions(oid)::text AS expr FROM pg_statistic_ext`.execute(database.db);
      expect(stats.rows.some((r) => r.expr.includes(regionId))).toBe(true);
      // plain indexes are built after commit (concurrently); one a crash left unbuilt is built by the next publish
      const built = await database.db.selectFrom('field_indexes').select(['name', 'built_at']).where('workspace_id', '=', actor.workspaceId).where('field_id', '=', regionId).executeTakeFirstOrThrow();
      expect(built.built_at).not.toBeNull();
      await sql.raw(`DROP INDEX ${built.name}`).execute(database.db);
      await database.db.updateTable('field_indexes').set({ built_at: null }).where('workspace_id', '=', actor.workspaceId).where('name', '=', built.name).execute();
      await meta.publish(actor, 'crm');
      const rebuilt = await sql<{ indexdef: string }>`SELECT indexdef FROM pg_indexes WHERE indexname = ${built.name}`.execute(database.db);
      expect(rebuilt.rows).toHaveLength(1);
      const amountId = (await meta.getPublished(actor.workspaceId, 'crm', 1)).document.objects[1]!.fields.find((f) => f.key === 'amount')!.id!;
      expect(stats.rows.some((r) => r.expr.includes(amountId))).toBe(false); // removed field: index and statistics dropped

      await meta.rollback(actor, 'crm', 1);
      const back = new RecordRepository(database.db, await meta.getPublished(actor.workspaceId, 'crm'));
      expect((await back.get(actor.workspaceId, 'deal', deal.id)).amount).toBe('5.00'); // ...and its values survived
      const versions = await meta.listVersions(actor.workspaceId, 'crm');
      expect(versions.map((v) => [v.version, v.current])).toEqual([
        [3, false],
        [2, false],
        [1, true],
      ]);
    } finally {
      await database.close();
    }
  });

  it('rejects an invalid draft and stores nothing', async () => {
    const database = await openTestDatabase();
    try {
      const actor = await newWorkspace(database);
      const meta = new MetadataRepository(database.db);
      await meta.createApp(actor, { key: 'crm', draft: dealApp() });
      const before = await meta.getDraft(actor.workspaceId, 'crm');
      const broken = dealApp();
      broken.objects[1]!.fields.push({ key: 'title', type: 'number', label: { en: 'Dup' } });
      broken.objects[1]!.fields.push({ key: 'account', type: 'relation', target: 'missing', label: { en: 'A' } });
      const e = await refusal(meta.saveDraft(actor, 'crm', broken));
      expect(e.status).toBe(422);
      const paths = e.errors.map((x) => x.field).join(' ');
      expect(paths).toMatch(/objects\/1\/fields\/\d+/);
      expect(await meta.getDraft(actor.workspaceId, 'crm')).toEqual(before);
      expect((await refusal(meta.createApp(actor, { key: 'crm' }))).status).toBe(409);
    } finally {
      await database.close();
    }
  });
});

describe('the running version of an app', () => {
  it('changes at once in the publishing process and within the pointer TTL elsewhere', async () => {
    const database = await openTestDatabase();
    try {
      const actor = await newWorkspace(database);
      const here = new MetadataRepository(database.db);
      const elsewhere = new MetadataRepository(database.db, { pointerTtlMs: 60_000 });
      const uncached = new MetadataRepository(database.db, { pointerTtlMs: 0 });
      await here.createApp(actor, { key: 'crm', draft: dealApp() });
      await here.publish(actor, 'crm');
      expect((await elsewhere.getPublished(actor.workspaceId, 'crm')).version).toBe(1);
      expect((await here.getPublished(actor.workspaceId, 'crm')).version).toBe(1);
      await here.publish(actor, 'crm');
      expect((await here.getPublished(actor.workspaceId, 'crm')).version).toBe(2);
      expect((await uncached.getPublished(actor.workspaceId, 'crm')).version).toBe(2);
      expect((await elsewhere.getPublished(actor.workspaceId, 'crm')).version).toBe(1); // trusted until its TTL runs out
      await here.rollback(actor, 'crm', 1);
      expect((await here.getPublished(actor.workspaceId, 'crm')).version).toBe(1);
    } finally {
      await database.close();
    }
  });
});
