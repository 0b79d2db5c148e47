import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, mergeRecords, openTestDatabase, refusal, type Actor, type ApiRecord, type Database } from '@tessera/store';

function crm(withOldRelation: boolean): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: { en: 'Company', zh: '公司' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '名称' }, required: true, unique: true },
          { key: 'phone', type: 'phone', label: { en: 'Phone', zh: '电话' } },
          { key: 'city', type: 'text', label: { en: 'City', zh: '城市' } },
          { key: 'parent', type: 'relation', target: 'company', label: { en: 'Parent', zh: '母公司' } },
        ],
      },
      {
        key: 'contact',
        label: { en: 'Contact', zh: '联系人' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '姓名' } },
          { key: 'company', type: 'relation', target: 'company', label: { en: 'Company', zh: '公司' } },
          ...(withOldRelation ? [{ key: 'old_company', type: 'relation' as const, target: 'company', label: { en: 'Old company' } }] : []),
        ],
      },
      {
        key: 'deal',
        label: { en: 'Deal', zh: '交易' },
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title', zh: '标题' } },
          { key: 'customer', type: 'relation', target: 'company', label: { en: 'Customer', zh: '客户' } },
          { key: 'partner', type: 'relation', target: 'company', label: { en: 'Partner', zh: '合作方' } },
          { key: 'contact', type: 'relation', target: 'contact', label: { en: 'Contact', zh: '联系人' } },
        ],
      },
    ],
  };
}

describe('mergeRecords', () => {
  let database: Database;
  let actor: Actor;
  let meta: MetadataRepository;
  let app: PublishedApp;
  let records: RecordRepository;

  beforeAll(async () => {
    database = await openTestDatabase();
    const workspaceId = randomUUID();
    await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'merge' }).execute();
    const userId = randomUUID();
    await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
    actor = { workspaceId, userId, source: 'api' };
    meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: crm(true) });
    await meta.publish(actor, 'crm');
    app = await meta.getPublished(workspaceId, 'crm');
    records = new RecordRepository(database.db, app);
  });
  afterAll(async () => database?.close());

  async function historyOf(id: string) {
    return database.db
      .selectFrom('record_history')
      .select(['action', 'version', 'changes'])
      .where('workspace_id', '=', actor.workspaceId)
      .where('record_id', '=', id)
      .orderBy('version')
      .execute();
  }

  async function recordsMentioning(id: string): Promise<number> {
    const result = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM records WHERE workspace_id = ${actor.workspaceId} AND position(${id} in data::text) > 0`.execute(database.db);
    return result.rows[0]!.n;
  }

  it('re-points every relation, applies the choices, soft-deletes the merged record and keeps both histories', async () => {
    const survivor = await records.create(actor, 'company', { name: '华为技术', city: '深圳' });
    const merged = await records.create(actor, 'company', { name: '华为技术有限公司', phone: '+86 755 2878 0808', city: 'Shenzhen' });
    await records.update(actor, 'company', merged.id, { city: '深圳市' }, 1);
    const child = await records.create(actor, 'company', { name: '华为终端', parent: merged.id });
    const contacts = await Promise.all([1, 2, 3].map((i) => records.create(actor, 'contact', { name: `c${i}`, company: merged.id, old_company: merged.id })));
    const other = await records.create(actor, 'contact', { name: 'elsewhere', company: survivor.id });
    const deal = await records.create(actor, 'deal', { title: 'd', customer: merged.id, partner: merged.id, contact: contacts[0]!.id });
    const deletedDeal = await records.create(actor, 'deal', { title: 'gone', customer: merged.id });
    await records.delete(actor, 'deal', deletedDeal.id);
    // the old relation field is soft-deleted in a later version; its values are kept and must not dangle either
    await meta.saveDraft(actor, 'crm', crm(false));
    await meta.publish(actor, 'crm');
    const v2 = await meta.getPublished(actor.workspaceId, 'crm');
    const v2records = new RecordRepository(database.db, v2);
    const survivorHistory = await historyOf(survivor.id);
    const mergedHistory = await historyOf(merged.id);

    const result = await mergeRecords(database.db, v2, actor, 'company', survivor.id, merged.id, { name: 'merged' });

    // chosen: name from the merged record (a unique value, free once the merged one is gone); unchosen: the survivor's
    // city, and the phone the survivor lacked
    expect(result).toMatchObject({ id: survivor.id, version: 2, name: '华为技术有限公司', city: '深圳', phone: '+86 755 2878 0808' });
    expect(await v2records.get(actor.workspaceId, 'company', survivor.id)).toEqual(result);
    expect((await refusal(v2records.get(actor.workspaceId, 'company', merged.id))).status).toBe(404);
    expect(await recordsMentioning(merged.id)).toBe(0);

    expect((await v2records.get(actor.workspaceId, 'company', child.id)).parent).toBe(survivor.id);
    for (const c of contacts) expect(await v2records.get(actor.workspaceId, 'contact', c.id)).toMatchObject({ company: survivor.id, version: 3 });
    expect(await v2records.get(actor.workspaceId, 'contact', other.id)).toMatchObject({ company: survivor.id, version: 1 });
    expect(await v2records.get(actor.workspaceId, 'deal', deal.id)).toMatchObject({ customer: survivor.id, partner: survivor.id, contact: contacts[0]!.id, version: 3 });

    const afterSurvivor = await historyOf(survivor.id);
    expect(afterSurvivor.slice(0, survivorHistory.length)).toEqual(survivorHistory);
    expect(afterSurvivor.at(-1)).toMatchObject({ action: 'update', version: 2, changes: expect.objectContaining({ $merge: { absorbed: merged.id } }) });
    const afterMerged = await historyOf(merged.id);
    expect(afterMerged.slice(0, mergedHistory.length)).toEqual(mergedHistory);
    expect(afterMerged.at(-1)).toMatchObject({ action: 'delete', version: 3, changes: { $merge: { merged_into: survivor.id } } });
    const contactHistory = await historyOf(contacts[1]!.id);
    expect(contactHistory.map((h) => h.action)).toEqual(['create', 'update', 'update']);
    expect(contactHistory.at(-1)!.changes).toMatchObject({ $merge: { merged: merged.id, into: survivor.id } });

    // restoring the merged record would duplicate the unique name the survivor took from it
    const restored = await refusal(v2records.restore(actor, 'company', merged.id));
    expect(restored.status).toBe(409);
  });

  it('refuses unknown records, deleted ones, a record merged into itself and unknown choices, changing nothing', async () => {
    const a = await records.create(actor, 'company', { name: 'A1' });
    const b = await records.create(actor, 'company', { name: 'B1' });
    const gone = await records.create(actor, 'company', { name: 'Gone' });
    await records.delete(actor, 'company', gone.id);
    const latest = await meta.getPublished(actor.workspaceId, 'crm');
    const merge = (s: string, m: string, choices: Record<string, unknown> = {}) =>
      refusal(mergeRecords(database.db, latest, actor, 'company', s, m, choices as Record<string, 'survivor'>));
    expect((await merge(a.id, a.id)).status).toBe(404);
    expect((await merge(a.id, gone.id)).errors[0]).toMatchObject({ field: 'mergeId' });
    expect((await merge(randomUUID(), b.id)).errors[0]).toMatchObject({ field: 'id' });
    expect((await merge(a.id, "'; DROP TABLE records; --")).status).toBe(404);
    const unknown = await merge(a.id, b.id, { colour: 'merged', city: 'both' });
    expect(unknown.status).toBe(422);
    expect(unknown.errors.map((e) => [e.field, e.code])).toEqual([
      ['choices/colour', 'unknown_field'],
      ['choices/city', 'enum'],
    ]);
    expect(await records.get(actor.workspaceId, 'company', a.id)).toEqual(a);
    expect(await records.get(actor.workspaceId, 'company', b.id)).toEqual(b);
  });

  it('two concurrent merges of the same pair: one wins, the other finds the merged record gone', async () => {
    const a = await records.create(actor, 'company', { name: 'Race A' });
    const b = await records.create(actor, 'company', { name: 'Race B' });
    const latest = await meta.getPublished(actor.workspaceId, 'crm');
    const outcomes = await Promise.allSettled([
      mergeRecords(database.db, latest, actor, 'company', a.id, b.id, {}),
      mergeRecords(database.db, latest, actor, 'company', b.id, a.id, {}),
    ]);
    const won = outcomes.filter((o): o is PromiseFulfilledResult<ApiRecord> => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ status: 404 });
    const survivorId = won[0]!.value.id;
    expect(await records.get(actor.workspaceId, 'company', survivorId)).toMatchObject({ version: 2 });
  });
});
