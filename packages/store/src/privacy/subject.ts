import type { Kysely } from 'kysely';
import { ProblemError, liveFields, liveObjects, type FieldDef, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { MetadataRepository } from '../metadata/metadata-repository';
import { RecordRepository, type ApiRecord } from '../records/record-repository';
import type { KeyRing } from '../crypto/key-ring';
import { UUID } from '../auth/workspace-repository';

/** Who a personal-data request is about: a user account, an email address, or a record that is the person (a contact). */
export type PrivacySubject = { userId: string } | { email: string } | { recordRef: { app: string; object: string; id: string } };

/** A record that is the person: its email or phone field holds one of their addresses, or it was named. */
export interface PersonRecord {
  app: PublishedApp;
  object: ObjectDef;
  record: ApiRecord;
}

/** Everything that identifies the person, and where they are. */
export interface Person {
  userIds: string[];
  emails: string[];
  phones: string[];
  names: string[];
  records: PersonRecord[];
  apps: PublishedApp[];
}

const PERSON_FIELD_TYPES = new Set(['email', 'phone']);
const PAGE = 200;

/**
 * Resolves a subject to the person: their user accounts, addresses and names, and every
 * record in every published app whose email or phone field holds one of their addresses
 * (encrypted fields included: the match goes through the blind index). Reads through
 * `db`, so inside the erasure's transaction it sees what the erasure will change.
 */
export async function resolvePerson(db: Kysely<SystemDatabase>, workspaceId: string, subject: PrivacySubject, encryption: KeyRing | null | undefined): Promise<Person> {
  const person: Person = { userIds: [], emails: [], phones: [], names: [], records: [], apps: [] };
  const metadata = new MetadataRepository(db, { pointerTtlMs: 0 });
  for (const summary of await metadata.listApps(workspaceId)) {
    if (summary.currentVersion != null) person.apps.push(await metadata.getPublished(workspaceId, summary.key));
  }
  const repository = (app: PublishedApp) => new RecordRepository(db, app, encryption === undefined ? {} : { encryption });

  if ('userId' in subject) {
    if (typeof subject.userId !== 'string' || !UUID.test(subject.userId)) throw badSubject('userId', 'expected a user id (UUID)');
    await addUsers(db, workspaceId, person, { ids: [subject.userId] });
    if (person.userIds.length === 0) throw new ProblemError('not_found', `User ${subject.userId} not found`);
  } else if ('email' in subject) {
    if (typeof subject.email !== 'string' || !subject.email.includes('@')) throw badSubject('email', 'expected an email address');
    add(person.emails, subject.email.trim());
  } else {
    const ref = subject.recordRef;
    const app = person.apps.find((a) => a.appKey === ref?.app);
    if (!app) throw new ProblemError('not_found', `App "${String(ref?.app)}" not found or not published`, [{ field: 'recordRef/app', code: 'not_found', message: 'no such published app' }]);
    const records = repository(app);
    const object = records.object(ref.object);
    addPersonRecord(person, { app, object, record: await records.get(workspaceId, ref.object, ref.id) });
  }
  // addresses lead to accounts, and accounts to addresses
  await addUsers(db, workspaceId, person, { emails: person.emails });
  for (const app of person.apps) {
    for (const object of liveObjects(app.document)) {
      const filter = personFilter(object, person);
      if (!filter) continue;
      for (const record of await listAll(repository(app), workspaceId, object, filter)) addPersonRecord(person, { app, object, record });
    }
  }
  return person;
}

/** Adds the accounts with these ids or (case-insensitively) these emails. */
async function addUsers(db: Kysely<SystemDatabase>, workspaceId: string, person: Person, by: { ids?: string[]; emails?: string[] }): Promise<void> {
  const ids = by.ids ?? [];
  const emails = (by.emails ?? []).map((e) => e.toLowerCase());
  if (ids.length === 0 && emails.length === 0) return;
  const rows = await db
    .selectFrom('users')
    .select(['id', 'email', 'name'])
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(emails.length ? [eb(eb.fn('lower', ['email']), 'in', emails)] : [])]))
    .execute();
  for (const row of rows) {
    add(person.userIds, row.id);
    add(person.emails, row.email);
    if (row.name.trim()) add(person.names, row.name.trim());
  }
}

function addPersonRecord(person: Person, found: PersonRecord): void {
  if (person.records.some((r) => r.record.id === found.record.id)) return;
  person.records.push(found);
  for (const field of liveFields(found.object)) {
    const value = found.record[field.key];
    if (typeof value !== 'string' || !value.trim()) continue;
    if (field.type === 'email') add(person.emails, value.trim());
    else if (field.type === 'phone') add(person.phones, value.trim());
    else if (field.key === found.object.titleField) add(person.names, value.trim());
  }
}

/** `email in [...] or phone in [...]` over the object's email and phone fields; null when it has none or there is nothing to match. */
function personFilter(object: ObjectDef, person: Person): unknown {
  const terms = liveFields(object)
    .filter((f) => PERSON_FIELD_TYPES.has(f.type))
    .map((f: FieldDef) => ({ field: f, values: f.type === 'email' ? emailVariants(person.emails) : person.phones }))
    .filter((t) => t.values.length > 0)
    .map((t) => ({ in: [{ var: t.field.key }, t.values] }));
  return terms.length === 0 ? null : { or: terms };
}

/** Stored emails keep the case they were typed in; match the usual ones. */
function emailVariants(emails: string[]): string[] {
  return [...new Set(emails.flatMap((e) => [e, e.toLowerCase()]))];
}

async function listAll(records: RecordRepository, workspaceId: string, object: ObjectDef, filter: unknown): Promise<ApiRecord[]> {
  const out: ApiRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await records.list(workspaceId, object.key, { filter, limit: PAGE, ...(cursor ? { cursor } : {}) }, { now: new Date() });
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

function add(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function badSubject(field: string, message: string): ProblemError {
  return new ProblemError('unprocessable', 'Invalid personal-data request', [{ field, code: 'invalid', message }]);
}
