import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { AppDocument } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, openTestDatabase, type Actor, type Database } from '../src/index';
import { dealApp, newWorkspace } from './fixtures';

/** The field ids whose expressions a workspace's field statistics cover. */
async function statisticsFieldIds(database: Database, workspaceId: string): Promise<string[]> {
  const rows = await sql<{ description: string; expr: string }>`
    SELECT d.description, pg_get_statisticsobjdef_expressions(s.oid)::text AS expr FROM pg_statistic_ext s
    JOIN pg_description d ON d.objoid = s.oid AND d.classoid = 'pg_statistic_ext'::regclass
    WHERE d.description LIKE ${`% ${workspaceId} %`}`.execute(database.db);
  for (const row of rows.rows) expect(row.expr).toContain(row.description.split(' ').at(-1)); // the comment names the field it covers
  return rows.rows.map((r) => r.description.split(' ').at(-1)!).sort();
}

function fieldId(document: AppDocument, objectKey: string, fieldKey: string): string {
  return document.objects.find((o) => o.key === objectKey)!.fields.find((f) => f.key === fieldKey)!.id!;
}

/** The planner's estimate of the number of groups of `GROUP BY <field expression>` over the deals. */
async function estimatedGroups(database: Database, workspaceId: string, id: string): Promise<number> {
  const explained = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) SELECT (data->>${sql.raw(`'${id}'`)}) COLLATE "C" AS v, count(*)
    FROM records WHERE workspace_id = ${workspaceId} GROUP BY 1`.execute(database.db);
  const plan = explained.rows[0]!['QUERY PLAN'];
  const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: { 'Plan Rows': number } }[];
  return parsed[0]!.Plan['Plan Rows'];
}

describe('expression statistics of grouped fields', () => {
  let database: Database;
  let actor: Actor;
  let meta: MetadataRepository;

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: dealApp() });
    await meta.publish(actor, 'crm');
  });
  afterAll(async () => {
    await database.close();
  });

  it('publishing creates statistics for select, multiselect, relation and date fields, not for text, boolean or indexed fields', async () => {
    const document = (await meta.getPublished(actor.workspaceId, 'crm')).document;
    const expected = ['close_date', 'company', 'tags'].map((k) => fieldId(document, 'deal', k)).sort();
    expect(await statisticsFieldIds(database, actor.workspaceId)).toEqual(expected);
    // an indexed field (stage) has its index's statistics instead; text fields are not grouped by
    const all = await sql<{ expr: string }>`SELECT pg_get_statisticsobjdef_expressions(oid)::text AS expr FROM pg_statistic_ext`.execute(database.db);
    const stageId = fieldId(document, 'deal', 'stage');
    expect(all.rows.filter((r) => r.expr.includes(stageId))).toHaveLength(1);
    expect(all.rows.some((r) => r.expr.includes(fieldId(document, 'deal', 'notes')))).toBe(false);
    // a boolean is estimated at two groups without statistics, and its cast must never fail an ANALYZE
    expect(all.rows.some((r) => r.expr.includes(fieldId(document, 'deal', 'hot')))).toBe(false);
  });

  it('the planner learns how many groups a field has once a publish has analyzed the new statistics', async () => {
    const published = await meta.getPublished(actor.workspaceId, 'crm');
    const records = new RecordRepository(database.db, published);
    const dates = ['2026-01-15', '2026-02-15', '2026-03-15'];
    for (let i = 0; i < 300; i++) await records.create(actor, 'deal', { title: `d${i}`, close_date: dates[i % 3] });

    const draft = await meta.getDraft(actor.workspaceId, 'crm');
    draft.objects[1]!.fields.push({ key: 'region', type: 'select', label: { en: 'Region' }, options: [{ value: 'east', label: { en: 'East' } }] });
    await meta.saveDraft(actor, 'crm', draft);
    await meta.publish(actor, 'crm'); // a new statistics object: the publish runs ANALYZE

    const closeDate = fieldId(published.document, 'deal', 'close_date');
    expect(await estimatedGroups(database, actor.workspaceId, closeDate)).toBe(3);
  });

  it("a deleted field's statistics go, other workspaces' stay", async () => {
    const other = await newWorkspace(database);
    await meta.createApp(other, { key: 'crm', draft: dealApp() });
    await meta.publish(other, 'crm');
    const othersBefore = await statisticsFieldIds(database, other.workspaceId);
    expect(othersBefore).toHaveLength(3);

    const draft = await meta.getDraft(actor.workspaceId, 'crm');
    const deal = draft.objects.find((o) => o.key === 'deal')!;
    const closeDateId = deal.fields.find((f) => f.key === 'close_date')!.id!;
    const tagsId = deal.fields.find((f) => f.key === 'tags')!.id!;
    const companyId = deal.fields.find((f) => f.key === 'company')!.id!;
    deal.fields = deal.fields.filter((f) => f.key !== 'close_date'); // removed
    deal.fields.find((f) => f.key === 'tags')!.deleted = true; // soft-deleted
    deal.fields.find((f) => f.key === 'company')!.indexed = true; // now has an index, and its statistics
    await meta.saveDraft(actor, 'crm', draft);
    await meta.publish(actor, 'crm');

    const left = await statisticsFieldIds(database, actor.workspaceId);
    expect(left).not.toContain(closeDateId);
    expect(left).not.toContain(tagsId);
    expect(left).not.toContain(companyId);
    expect(left).toHaveLength(1); // region
    expect(await statisticsFieldIds(database, other.workspaceId)).toEqual(othersBefore);
  });
});
