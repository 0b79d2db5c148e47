import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AppDocument } from '@tessera/metadata';
import { MetadataRepository, openTestDatabase, type Actor, type Database } from '@tessera/store';
import { crmWithRules } from './crm-rules';
import { problemOf } from './fixture';

describe('publishing checks every expression', () => {
  let database: Database;
  let actor: Actor;
  let metadata: MetadataRepository;
  beforeAll(async () => {
    database = await openTestDatabase();
    actor = { workspaceId: randomUUID(), userId: null, source: 'api' };
    await database.db.insertInto('workspaces').values({ workspace_id: actor.workspaceId, name: 'check' }).execute();
    metadata = new MetadataRepository(database.db);
    await metadata.createApp(actor, { key: 'crm', draft: crmWithRules() });
    await metadata.publish(actor, 'crm');
  });
  afterAll(async () => {
    await database?.close();
  });

  const objectIndex = (doc: AppDocument, key: string) => doc.objects.findIndex((o) => o.key === key);

  it('refuses a draft that deletes a field expressions read, naming the path of each broken expression', async () => {
    const draft = structuredClone(await metadata.getDraft(actor.workspaceId, 'crm'));
    const deal = draft.objects[objectIndex(draft, 'deal')]!;
    deal.fields = deal.fields.filter((f) => f.key !== 'amount');
    const p = await problemOf(metadata.saveDraft(actor, 'crm', draft));
    expect(p.status).toBe(422);
    const paths = p.errors.map((e) => e.field);
    const d = objectIndex(draft, 'deal');
    const big = deal.fields.findIndex((f) => f.key === 'big');
    expect(paths).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^objects/${d}/fields/${big}/formula`)), expect.stringMatching(new RegExp(`^objects/${d}/validations/0/assert`))]));
    // the stored draft is untouched, and publishing it still works
    expect((await metadata.getDraft(actor.workspaceId, 'crm')).objects[d]!.fields.some((f) => f.key === 'amount')).toBe(true);
  });

  it('refuses a relation path to a field the parent no longer has', async () => {
    const draft = structuredClone(await metadata.getDraft(actor.workspaceId, 'crm'));
    const company = draft.objects[objectIndex(draft, 'company')]!;
    company.fields = company.fields.filter((f) => f.key !== 'industry');
    const p = await problemOf(metadata.saveDraft(actor, 'crm', draft));
    expect(p.errors.map((e) => e.field)).toEqual(expect.arrayContaining([expect.stringMatching(/^objects\/\d+\/fields\/\d+\/formula/)]));
  });
});
