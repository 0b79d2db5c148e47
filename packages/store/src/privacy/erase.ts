import { sql, type Kysely, type Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { isSearchable, type FieldDef, type ObjectDef } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import type { Actor } from '../common/actor';
import { appendAudit } from '../audit/audit-log';
import { blindIndexKey } from '../crypto/field-sealer';
import { ERASED, scrubStrings } from './scrub';
import { resolvePerson, type Person, type PersonRecord, type PrivacySubject } from './subject';
import { subjectKind, type PrivacyOptions } from './export';

export interface ErasureResult {
  /** rows changed per table; nothing says what they held */
  rows: Record<string, number>;
}

/** Field types whose values are text a person typed: names, addresses, numbers, notes. */
const TEXT_TYPES = new Set(['text', 'longtext', 'email', 'phone', 'url']);
/** Kept as `[erased]` so required text fields still hold a value; the others are removed. */
const REPLACED_TYPES = new Set(['text', 'longtext']);

/**
 * Erases a person (PIPL/GDPR erasure request) in ONE transaction: records that are the
 * person are anonymised (their text fields replaced or removed, encrypted values and blind
 * indexes removed) and so are their history's values; the person's accounts are
 * anonymised, disabled and signed out; their notifications deleted, their tasks' text
 * replaced; the addresses from which they acted forgotten; then every remaining mention of
 * their addresses and names in any workspace text is replaced by `[erased]`. The only
 * trace left is an audit entry saying that an erasure happened, who asked and how many
 * rows changed. Record history and the audit log are append-only except for this path
 * (and key rotation), which the database allows only inside the transaction that sets
 * `tessera.audit_rewrite`.
 */
export async function erasePerson(db: Kysely<SystemDatabase>, actor: Actor, subject: PrivacySubject, options: PrivacyOptions = {}): Promise<ErasureResult> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('tessera.audit_rewrite', 'erasure', true)`.execute(trx);
    const person = await resolvePerson(trx, actor.workspaceId, subject, options.encryption);
    const rows: Record<string, number> = {};
    const count = (table: string, n: number | bigint | undefined) => {
      if (Number(n ?? 0) > 0) rows[table] = (rows[table] ?? 0) + Number(n);
    };
    for (const found of person.records) {
      count('records', await anonymiseRecord(trx, actor, found));
      count('record_history', await anonymiseHistory(trx, actor.workspaceId, found));
    }
    await erasePeopleRows(trx, actor.workspaceId, person, count);
    const strings = [...person.emails, ...person.phones, ...person.names];
    for (const [table, n] of Object.entries(await scrubStrings(trx, actor.workspaceId, strings))) count(table, n);
    await appendAudit(trx, actor, { action: 'privacy.erase', details: { subject: subjectKind(subject), rows } });
    return { rows };
  });
}

/** The record keeps its id, relations, numbers and dates; every text value goes. */
async function anonymiseRecord(trx: Transaction<SystemDatabase>, actor: Actor, found: PersonRecord): Promise<number> {
  const { object, record } = found;
  const row = await trx
    .selectFrom('records')
    .select(['data', 'version'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', record.id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const data: Record<string, unknown> = { ...row.data };
  for (const field of textFields(object)) {
    const id = field.id!;
    delete data[blindIndexKey(field)];
    if (data[id] == null) continue;
    if (REPLACED_TYPES.has(field.type) && !field.encrypted) data[id] = ERASED;
    else delete data[id];
  }
  const searchText = object.fields
    .filter(isSearchable)
    .map((f) => data[f.id!])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .join('\n')
    .toLowerCase();
  const version = row.version + 1;
  await trx
    .updateTable('records')
    .set({ data: JSON.stringify(data), search_text: searchText, version, updated_at: new Date(), updated_by: actor.userId })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', record.id)
    .execute();
  // the record's own history says it was erased, and by whom, never what it held
  await trx
    .insertInto('record_history')
    .values({
      workspace_id: actor.workspaceId,
      id: uuidv7(),
      record_id: record.id,
      object_id: object.id!,
      version,
      action: 'update',
      changes: JSON.stringify({ $erasure: { requestedBy: actor.userId } }),
      actor_id: actor.userId,
      source: actor.source,
      ip: actor.ip ?? null,
      user_agent: actor.userAgent ?? null,
    })
    .execute();
  return 1;
}

/** Every before/after text value in the record's history becomes `[erased]` (or null for formatted and encrypted values). */
async function anonymiseHistory(trx: Transaction<SystemDatabase>, workspaceId: string, found: PersonRecord): Promise<number> {
  const fields = textFields(found.object);
  const entries = await trx
    .selectFrom('record_history')
    .select(['id', 'changes'])
    .where('workspace_id', '=', workspaceId)
    .where('record_id', '=', found.record.id)
    .execute();
  let changed = 0;
  for (const entry of entries) {
    const changes = { ...((entry.changes ?? {}) as Record<string, { before?: unknown; after?: unknown }>) };
    let touched = false;
    for (const field of fields) {
      const change = changes[field.id!];
      if (!change) continue;
      const erase = (v: unknown) => (v == null ? null : REPLACED_TYPES.has(field.type) && !field.encrypted ? ERASED : null);
      changes[field.id!] = { before: erase(change.before), after: erase(change.after) };
      touched = true;
    }
    if (!touched) continue;
    await trx.updateTable('record_history').set({ changes: JSON.stringify(changes) }).where('workspace_id', '=', workspaceId).where('id', '=', entry.id).execute();
    changed += 1;
  }
  return changed;
}

/** The person's accounts, sessions, notifications, tasks, and the addresses they acted from. */
async function erasePeopleRows(trx: Transaction<SystemDatabase>, ws: string, person: Person, count: (table: string, n: number | bigint | undefined) => void): Promise<void> {
  const users = person.userIds;
  const records = person.records.map((r) => r.record.id);
  if (users.length > 0) {
    const accounts = await sql`UPDATE users SET email = 'erased-' || id || '@erased.invalid', name = '', password_hash = NULL,
        disabled_at = coalesce(disabled_at, now()), failed_logins = 0, failed_login_window_at = NULL, locked_until = NULL
      WHERE workspace_id = ${ws} AND id = ANY(${users}::uuid[])`.execute(trx);
    count('users', accounts.numAffectedRows);
    const tokens = await sql`UPDATE auth_tokens SET revoked_at = coalesce(revoked_at, now()), name = ''
      WHERE workspace_id = ${ws} AND user_id = ANY(${users}::uuid[])`.execute(trx);
    count('auth_tokens', tokens.numAffectedRows);
    const whence = await sql`UPDATE audit_log SET ip = NULL, user_agent = NULL
      WHERE workspace_id = ${ws} AND (ip IS NOT NULL OR user_agent IS NOT NULL)
        AND (actor_id = ANY(${users}::uuid[]) OR (target_type = 'user' AND target_id = ANY(${users}::text[])))`.execute(trx);
    count('audit_log', whence.numAffectedRows);
    const written = await sql`UPDATE record_history SET ip = NULL, user_agent = NULL
      WHERE workspace_id = ${ws} AND actor_id = ANY(${users}::uuid[]) AND (ip IS NOT NULL OR user_agent IS NOT NULL)`.execute(trx);
    count('record_history', written.numAffectedRows);
  }
  const notifications = await sql`DELETE FROM notifications
    WHERE workspace_id = ${ws} AND (user_id = ANY(${users}::uuid[]) OR record_id = ANY(${records}::uuid[]))`.execute(trx);
  count('notifications', notifications.numAffectedRows);
  const tasks = await sql`UPDATE tasks SET title = ${ERASED}
    WHERE workspace_id = ${ws} AND (user_id = ANY(${users}::uuid[]) OR record_id = ANY(${records}::uuid[])) AND title <> ${ERASED}`.execute(trx);
  count('tasks', tasks.numAffectedRows);
}

/** Every text-like field the object ever had (deleted ones still hold values). */
function textFields(object: ObjectDef): FieldDef[] {
  return object.fields.filter((f) => f.id && TEXT_TYPES.has(f.type));
}
