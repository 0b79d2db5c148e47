import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AppDocument } from '@tessera/metadata';
import {
  AuditLog,
  KeyRing,
  MetadataRepository,
  RecordRepository,
  UserRepository,
  erasePerson,
  exportPersonalData,
  openTestDatabase,
  refusal,
  type Actor,
  type Database,
} from '../src/index';
import { newWorkspace } from './fixtures';

const ring = KeyRing.parse(`k1:${randomBytes(32).toString('base64')}`);
const PERSON = { email: 'Wang.Fang@example.cn', name: '王芳', phone: '+86 138 0013 8000', idNumber: '110101199003071234' };
const NEIGHBOUR = { email: 'wang.fang.jr@example.cn', name: '李雷' };

function crm(): AppDocument {
  return {
    objects: [
      {
        key: 'contact',
        label: { en: 'Contact' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name' }, required: true },
          { key: 'email', type: 'email', label: { en: 'Email' } },
          { key: 'phone', type: 'phone', label: { en: 'Phone' }, encrypted: true },
          { key: 'id_number', type: 'text', label: { en: 'ID number' }, encrypted: true },
          { key: 'score', type: 'number', label: { en: 'Score' } },
        ],
      },
      {
        key: 'deal',
        label: { en: 'Deal' },
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title' }, required: true },
          { key: 'notes', type: 'longtext', label: { en: 'Notes' } },
          { key: 'contact', type: 'relation', target: 'contact', label: { en: 'Contact' } },
        ],
      },
    ],
  };
}

/** Every text or jsonb value of every table that has this workspace's rows, with no exceptions. */
async function everyText(database: Database, workspaceId: string): Promise<string> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name FROM information_schema.columns c
    WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'jsonb', 'character varying')
      AND EXISTS (SELECT 1 FROM information_schema.columns w WHERE w.table_schema = c.table_schema AND w.table_name = c.table_name AND w.column_name = 'workspace_id')`.execute(database.db);
  const parts: string[] = [];
  for (const { table_name, column_name } of columns.rows) {
    const rows = await sql<{ v: string | null }>`SELECT ${sql.ref(`${table_name}.${column_name}`)}::text AS v FROM ${sql.table(table_name)} WHERE workspace_id = ${workspaceId}`.execute(database.db);
    parts.push(...rows.rows.map((r) => `${table_name}.${column_name}: ${r.v ?? ''}`));
  }
  return parts.join('\n');
}

describe('personal data requests', () => {
  let database: Database;
  let admin: Actor;
  let personId: string;
  let contactId: string;
  let neighbourId: string;
  let dealId: string;
  let records: RecordRepository;

  beforeAll(async () => {
    database = await openTestDatabase();
    admin = { ...(await newWorkspace(database)), ip: '192.0.2.1', userAgent: 'admin-browser' };
    const users = new UserRepository(database.db);
    personId = (await users.create(admin.workspaceId, { email: PERSON.email, name: PERSON.name, passwordHash: 'x' })).id;
    const asPerson: Actor = { workspaceId: admin.workspaceId, userId: personId, source: 'ui', ip: '198.51.100.23', userAgent: 'person-phone' };
    const meta = new MetadataRepository(database.db);
    await meta.createApp(admin, { key: 'crm', draft: crm() });
    await meta.publish(admin, 'crm');
    records = new RecordRepository(database.db, await meta.getPublished(admin.workspaceId, 'crm'), { encryption: ring });
    const contact = await records.create(admin, 'contact', { name: PERSON.name, email: PERSON.email.toLowerCase(), phone: PERSON.phone, id_number: PERSON.idNumber, score: 7 });
    contactId = contact.id;
    await records.update(asPerson, 'contact', contactId, { name: `${PERSON.name} (VIP)` }, 1);
    neighbourId = (await records.create(admin, 'contact', { name: NEIGHBOUR.name, email: NEIGHBOUR.email })).id;
    dealId = (await records.create(asPerson, 'deal', { title: 'Renewal', notes: `Call ${PERSON.name} at ${PERSON.email} or ${NEIGHBOUR.email}.`, contact: contactId })).id;
    await database.db.insertInto('tasks').values({ workspace_id: admin.workspaceId, id: randomUUID(), user_id: admin.userId!, title: `Follow up with ${PERSON.name}`, record_id: contactId, object_id: 'x' } as never).execute();
    await database.db.insertInto('notifications').values({ workspace_id: admin.workspaceId, id: randomUUID(), user_id: personId, message: 'Your deal moved' } as never).execute();
    await new AuditLog(database.db).append({ ...asPerson, userId: null }, { action: 'auth.login_failed', targetType: 'user', targetId: personId, details: { email: PERSON.email } });
  });
  afterAll(async () => database?.close());

  it('exports everything stored about the person, decrypted, by email, user or record', async () => {
    const byEmail = await exportPersonalData(database.db, admin, { email: PERSON.email }, { encryption: ring });
    expect(byEmail.identifiers.userIds).toEqual([personId]);
    expect(byEmail.users).toEqual([expect.objectContaining({ id: personId, email: PERSON.email })]);
    const contact = byEmail.records.find((r) => r.record.id === contactId);
    expect(contact).toMatchObject({ relation: 'is_person', record: { phone: PERSON.phone, id_number: PERSON.idNumber } });
    expect(byEmail.records.find((r) => r.record.id === dealId)?.relation).toBe('owned');
    expect(byEmail.records.some((r) => r.record.id === neighbourId)).toBe(false);
    expect(byEmail.history[0]!.entries.map((e) => e.action)).toEqual(['create', 'update']);
    expect(byEmail.history[0]!.entries[0]!.changes.id_number).toEqual({ before: null, after: PERSON.idNumber });
    expect(byEmail.actions.length).toBe(2);
    expect(byEmail.audit).toContainEqual(expect.objectContaining({ action: 'auth.login_failed' }));
    expect(byEmail.notifications).toHaveLength(1);
    expect(byEmail.tasks).toHaveLength(1);

    const byRecord = await exportPersonalData(database.db, admin, { recordRef: { app: 'crm', object: 'contact', id: contactId } }, { encryption: ring });
    expect(byRecord.identifiers.userIds).toEqual([personId]);
    const byUser = await exportPersonalData(database.db, admin, { userId: personId }, { encryption: ring });
    expect(byUser.records.map((r) => r.record.id).sort()).toEqual(byEmail.records.map((r) => r.record.id).sort());
    const logged = await new AuditLog(database.db).query(admin.workspaceId, { action: 'privacy.export' });
    expect(logged.items).toHaveLength(3);
    expect(JSON.stringify(logged.items)).not.toContain(PERSON.email);
  });

  it('refuses unknown subjects clearly', async () => {
    expect((await refusal(exportPersonalData(database.db, admin, { userId: randomUUID() }))).status).toBe(404);
    expect((await refusal(exportPersonalData(database.db, admin, { userId: 'nope' }))).errors[0]?.field).toBe('userId');
    expect((await refusal(exportPersonalData(database.db, admin, { recordRef: { app: 'nope', object: 'contact', id: contactId } }))).status).toBe(404);
  });

  it('erases the person from every table in one transaction, leaves others alone, and says only that it happened', async () => {
    const before = await everyText(database, admin.workspaceId);
    expect(before.toLowerCase()).toContain(PERSON.email.toLowerCase());
    const result = await erasePerson(database.db, admin, { email: PERSON.email }, { encryption: ring });
    // the contact anonymised, the deal that mentioned the person scrubbed
    expect(result.rows.records).toBe(2);
    expect(result.rows.users).toBe(1);

    const after = await everyText(database, admin.workspaceId);
    for (const secret of [PERSON.email, PERSON.email.toLowerCase(), PERSON.name, PERSON.phone, PERSON.idNumber, '198.51.100.23', 'person-phone']) {
      expect(after.toLowerCase(), secret).not.toContain(secret.toLowerCase());
    }
    // the neighbour, whose address contains the person's, is untouched
    expect(after).toContain(NEIGHBOUR.email);
    expect((await records.get(admin.workspaceId, 'contact', neighbourId)).email).toBe(NEIGHBOUR.email);
    // the contact that was the person keeps its id, relations and numbers, not its text
    const anonymised = await records.get(admin.workspaceId, 'contact', contactId);
    expect(anonymised).toMatchObject({ name: '[erased]', score: 7 });
    expect(anonymised).not.toHaveProperty('phone');
    expect(anonymised).not.toHaveProperty('email');
    expect((await records.get(admin.workspaceId, 'deal', dealId)).notes).toBe(`Call [erased] at [erased] or ${NEIGHBOUR.email}.`);
    const account = await database.db.selectFrom('users').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
    expect(account).toMatchObject({ name: '', password_hash: null });
    expect(account.disabled_at).not.toBeNull();

    const entry = (await new AuditLog(database.db).query(admin.workspaceId, { action: 'privacy.erase' })).items[0]!;
    expect(entry).toMatchObject({ actorId: admin.userId, ip: '192.0.2.1', details: { subject: 'email', rows: result.rows } });
    // finding them again finds nobody
    expect((await exportPersonalData(database.db, admin, { email: PERSON.email }, { encryption: ring })).records.filter((r) => r.relation === 'is_person')).toEqual([]);
  });

  it('changes nothing when the erasure fails part-way', async () => {
    const ws = await newWorkspace(database);
    const users = new UserRepository(database.db);
    const id = (await users.create(ws.workspaceId, { email: 'kept@example.com', name: 'Kept Person', passwordHash: 'x' })).id;
    await database.db.insertInto('notifications').values({ workspace_id: ws.workspaceId, id: randomUUID(), user_id: id, message: 'hello Kept Person' } as never).execute();
    // fault injection: the tasks step, which runs after the accounts were rewritten, fails
    await sql`CREATE FUNCTION test_fail_tasks() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END; $$`.execute(database.db);
    await sql`CREATE TRIGGER test_fail_tasks BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION test_fail_tasks()`.execute(database.db);
    await database.db.insertInto('tasks').values({ workspace_id: ws.workspaceId, id: randomUUID(), user_id: id, title: 'Kept Person todo' } as never).execute();
    const before = await everyText(database, ws.workspaceId);
    await expect(erasePerson(database.db, ws, { userId: id }, { encryption: null })).rejects.toThrow(/injected failure/);
    await sql`DROP TRIGGER test_fail_tasks ON tasks`.execute(database.db);
    expect(await everyText(database, ws.workspaceId)).toBe(before);
  });
});
