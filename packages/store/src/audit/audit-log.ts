import type { Kysely, Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { ProblemError } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { isoString, type Actor } from '../common/actor';
import { UUID } from '../auth/workspace-repository';

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

/** What happened, besides who and from where (those come from the Actor). */
export interface AuditEvent {
  /** dotted verb, e.g. `auth.login`, `app.publish`, `record.decrypt`, `privacy.erase` */
  action: string;
  targetType?: string;
  targetId?: string;
  /** facts about the event; never secrets, never erased personal values */
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  source: string;
  ip: string | null;
  userAgent: string | null;
  details: unknown;
}

export interface AuditQuery {
  /** a user's id: entries where they acted or their account was the target */
  user?: string;
  /** an exact action, or a prefix ending in `.` (e.g. `auth.`) */
  action?: string;
  /** ISO timestamps, inclusive from, exclusive to */
  from?: string;
  to?: string;
  cursor?: string;
  /** 1..500, default 100 */
  limit?: number;
}

export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;
const MAX_TEXT = 500;

/**
 * The append-only audit log (migrations/0007_audit.sql refuses UPDATE and DELETE on it).
 * Record writes are audited in record_history by the record repository; this log holds
 * everything else. Append inside the transaction of the change it describes, so the
 * change and its audit row commit or roll back together.
 */
export class AuditLog {
  constructor(private readonly db: Kysely<SystemDatabase>) {}

  append(actor: Actor, event: AuditEvent, db: Db = this.db): Promise<void> {
    return appendAudit(db, actor, event);
  }

  /** Newest first, keyset-paginated by the time-ordered id. */
  async query(workspaceId: string, query: AuditQuery = {}): Promise<AuditPage> {
    const limit = auditLimit(query.limit);
    let q = this.db.selectFrom('audit_log').selectAll().where('workspace_id', '=', workspaceId);
    if (query.user !== undefined) {
      // what the user did, and what was done to their account (failed logins, unlocks)
      const user = checkedUuid(query.user, 'user');
      q = q.where((eb) => eb.or([eb('actor_id', '=', user), eb.and([eb('target_type', '=', 'user'), eb('target_id', '=', user)])]));
    }
    if (query.action) {
      q = query.action.endsWith('.') ? q.where('action', 'like', escapeLike(query.action) + '%') : q.where('action', '=', query.action);
    }
    if (query.from) q = q.where('at', '>=', checkedTime(query.from, 'from'));
    if (query.to) q = q.where('at', '<', checkedTime(query.to, 'to'));
    if (query.cursor) q = q.where('id', '<', checkedUuid(query.cursor, 'cursor'));
    const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    return { items: page.map(toEntry), nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
  }
}

export async function appendAudit(db: Db, actor: Actor, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      workspace_id: actor.workspaceId,
      id: uuidv7(),
      actor_id: actor.userId,
      action: event.action,
      target_type: event.targetType ?? null,
      target_id: event.targetId ?? null,
      source: actor.source,
      ip: clip(actor.ip),
      user_agent: clip(actor.userAgent),
      details: JSON.stringify(event.details ?? {}),
    })
    .execute();
}

function toEntry(row: {
  id: string;
  at: Date | string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  source: string;
  ip: string | null;
  user_agent: string | null;
  details: unknown;
}): AuditEntry {
  return {
    id: row.id,
    at: isoString(row.at) ?? '',
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    source: row.source,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
  };
}

export function auditLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ProblemError('bad_request', 'Invalid limit', [{ field: 'limit', code: 'range', message: `limit must be an integer from 1 to ${MAX_LIMIT}` }]);
  }
  return limit;
}

export function checkedUuid(value: string, field: string): string {
  if (!UUID.test(value)) throw new ProblemError('bad_request', `Invalid ${field}`, [{ field, code: 'invalid', message: 'expected a UUID' }]);
  return value.toLowerCase();
}

function checkedTime(value: string, field: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new ProblemError('bad_request', `Invalid ${field}`, [{ field, code: 'invalid', message: 'expected an ISO 8601 timestamp' }]);
  }
  return time;
}

function clip(text: string | null | undefined): string | null {
  return text == null ? null : text.slice(0, MAX_TEXT);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}
