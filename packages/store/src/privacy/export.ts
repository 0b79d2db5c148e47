import { sql, type Kysely } from 'kysely';
import type { SystemDatabase } from '../db/schema';
import { isoString, type Actor } from '../common/actor';
import { appendAudit } from '../audit/audit-log';
import { readRecordHistory, type HistoryEntry } from '../audit/record-history';
import { FieldSealer } from '../crypto/field-sealer';
import { environmentKeyRing, type KeyRing } from '../crypto/key-ring';
import { RecordRepository, type ApiRecord } from '../records/record-repository';
import { resolvePerson, type Person, type PrivacySubject } from './subject';

export interface PersonalDataExport {
  exportedAt: string;
  identifiers: { userIds: string[]; emails: string[]; phones: string[]; names: string[] };
  users: unknown[];
  /** records that are the person, and records they own */
  records: Array<{ app: string; object: string; relation: 'is_person' | 'owned'; record: ApiRecord }>;
  /** the full history of each record that is the person */
  history: Array<{ app: string; object: string; recordId: string; entries: HistoryEntry[] }>;
  /** record writes the person made (what and when, without other people's values) */
  actions: unknown[];
  audit: unknown[];
  tasks: unknown[];
  notifications: unknown[];
}

export interface PrivacyOptions {
  /** the key ring of encrypted fields; the environment's by default */
  encryption?: KeyRing | null;
}

const OWNED_PAGE = 200;

/**
 * Everything stored about a person, as JSON (PIPL/GDPR access request). Encrypted values
 * are decrypted (and so audited, as every decrypting read is); the request itself is
 * audited without the identifiers it named.
 */
export async function exportPersonalData(db: Kysely<SystemDatabase>, actor: Actor, subject: PrivacySubject, options: PrivacyOptions = {}): Promise<PersonalDataExport> {
  const ws = actor.workspaceId;
  const person = await resolvePerson(db, ws, subject, options.encryption);
  const ring = options.encryption === undefined ? environmentKeyRing() : options.encryption;
  const out: PersonalDataExport = {
    exportedAt: new Date().toISOString(),
    identifiers: { userIds: person.userIds, emails: person.emails, phones: person.phones, names: person.names },
    users: await rows(db, sql`SELECT id, email, name, is_admin, locale, created_at, disabled_at, manager_id FROM users WHERE workspace_id = ${ws} AND id = ANY(${person.userIds}::uuid[])`),
    records: person.records.map((r) => ({ app: r.app.appKey, object: r.object.key, relation: 'is_person' as const, record: r.record })),
    history: [],
    actions: await rows(db, sql`SELECT id, record_id, object_id, version, action, source, ip, user_agent, at FROM record_history
      WHERE workspace_id = ${ws} AND actor_id = ANY(${person.userIds}::uuid[]) ORDER BY id`),
    audit: await rows(db, sql`SELECT id, at, actor_id, action, target_type, target_id, source, ip, user_agent, details FROM audit_log
      WHERE workspace_id = ${ws} AND (actor_id = ANY(${person.userIds}::uuid[]) OR (target_type = 'user' AND target_id = ANY(${person.userIds}::text[]))) ORDER BY id`),
    tasks: await rows(db, sql`SELECT * FROM tasks WHERE workspace_id = ${ws} AND (user_id = ANY(${person.userIds}::uuid[]) OR record_id = ANY(${recordIds(person)}::uuid[])) ORDER BY id`),
    notifications: await rows(db, sql`SELECT * FROM notifications WHERE workspace_id = ${ws} AND (user_id = ANY(${person.userIds}::uuid[]) OR record_id = ANY(${recordIds(person)}::uuid[])) ORDER BY id`),
  };
  for (const { app, object, record } of person.records) {
    const sealer = FieldSealer.for(app, ring);
    const page = await readRecordHistory(db, ws, object, record.id, {
      limit: 500,
      ...(sealer ? { reveal: (field, value) => sealer.reveal(object, field, value, record.id) } : {}),
    });
    out.history.push({ app: app.appKey, object: object.key, recordId: record.id, entries: page.items });
  }
  await addOwnedRecords(db, ws, person, out, options);
  await appendAudit(db, actor, {
    action: 'privacy.export',
    details: { subject: subjectKind(subject), users: out.users.length, records: out.records.length, auditEntries: out.audit.length },
  });
  return out;
}

async function addOwnedRecords(db: Kysely<SystemDatabase>, ws: string, person: Person, out: PersonalDataExport, options: PrivacyOptions): Promise<void> {
  if (person.userIds.length === 0) return;
  for (const app of person.apps) {
    const records = new RecordRepository(db, app, options.encryption === undefined ? {} : { encryption: options.encryption });
    for (const object of app.document.objects) {
      if (object.deleted) continue;
      let cursor: string | undefined;
      do {
        const page = await records.list(ws, object.key, { filter: { in: [{ var: 'owner_id' }, person.userIds] }, limit: OWNED_PAGE, ...(cursor ? { cursor } : {}) }, { now: new Date() });
        for (const record of page.items) {
          if (!out.records.some((r) => r.record.id === record.id)) out.records.push({ app: app.appKey, object: object.key, relation: 'owned', record });
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
  }
}

export function subjectKind(subject: PrivacySubject): string {
  return 'userId' in subject ? 'user' : 'email' in subject ? 'email' : 'record';
}

function recordIds(person: Person): string[] {
  return person.records.map((r) => r.record.id);
}

async function rows(db: Kysely<SystemDatabase>, query: ReturnType<typeof sql>): Promise<unknown[]> {
  const result = await query.execute(db);
  return (result.rows as Array<Record<string, unknown>>).map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? isoString(v) : v;
    return out;
  });
}
