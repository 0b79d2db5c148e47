import { sql, type Kysely } from 'kysely';
import { ProblemError, liveFields, type FieldDef, type ObjectDef } from '@tessera/metadata';
import type { SqlFragment } from '@tessera/expr';
import { fragmentToSql } from '../records/sql-fragment';
import type { SystemDatabase } from '../db/schema';
import { isoString } from '../common/actor';
import { auditLimit, checkedUuid } from './audit-log';

export interface HistoryEntry {
  id: string;
  version: number;
  action: string;
  at: string;
  actorId: string | null;
  /** the door the write came through: ui, api, flow, import, system */
  source: string;
  ip: string | null;
  userAgent: string | null;
  /** by field KEY; fields the reader may not see are absent */
  changes: Record<string, { before: unknown; after: unknown }>;
  /** notes that are not field changes (e.g. `$merge`) */
  notes?: Record<string, unknown>;
}

export interface HistoryOptions {
  /** a field the reader may not read is left out of every entry */
  canReadField?: (field: FieldDef) => boolean;
  /** turns a stored value into what the reader sees (decryption of encrypted fields) */
  reveal?: (field: FieldDef, value: unknown) => unknown;
  /** the reader's record scope (AccessPolicy.recordScope 'read'); a record outside it has no history for them */
  scope?: SqlFragment | null;
  cursor?: string;
  limit?: number;
}

export interface HistoryPage {
  items: HistoryEntry[];
  nextCursor: string | null;
}

/** One record's history, oldest first, with field ids translated to the current keys. */
export async function readRecordHistory(
  db: Kysely<SystemDatabase>,
  workspaceId: string,
  object: ObjectDef,
  recordId: string,
  options: HistoryOptions = {},
): Promise<HistoryPage> {
  const limit = auditLimit(options.limit);
  await assertVisible(db, workspaceId, object, checkedUuid(recordId, 'id'), options.scope ?? null);
  let q = db
    .selectFrom('record_history')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('object_id', '=', object.id!)
    .where('record_id', '=', checkedUuid(recordId, 'id'));
  if (options.cursor) q = q.where('id', '>', checkedUuid(options.cursor, 'cursor'));
  const rows = await q.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const byId = new Map(liveFields(object).map((f) => [f.id!, f]));
  const items = page.map((row): HistoryEntry => {
    const changes: HistoryEntry['changes'] = {};
    const notes: Record<string, unknown> = {};
    for (const [id, change] of Object.entries((row.changes ?? {}) as Record<string, { before?: unknown; after?: unknown }>)) {
      if (id.startsWith('$')) {
        notes[id] = change;
        continue;
      }
      const field = byId.get(id);
      if (!field || (options.canReadField && !options.canReadField(field))) continue;
      const reveal = options.reveal ?? ((_f: FieldDef, v: unknown) => v);
      changes[field.key] = { before: reveal(field, change.before ?? null), after: reveal(field, change.after ?? null) };
    }
    return {
      id: row.id,
      version: row.version,
      action: row.action,
      at: isoString(row.at) ?? '',
      actorId: row.actor_id,
      source: row.source,
      ip: row.ip,
      userAgent: row.user_agent,
      changes,
      ...(Object.keys(notes).length > 0 ? { notes } : {}),
    };
  });
  return { items, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
}

/** Deleted records keep their history (it says who deleted them); records outside the scope are "not found". */
async function assertVisible(db: Kysely<SystemDatabase>, workspaceId: string, object: ObjectDef, id: string, scope: SqlFragment | null): Promise<void> {
  const found = await sql<{ id: string }>`
    SELECT id FROM records
    WHERE workspace_id = ${workspaceId} AND object_id = ${object.id!} AND id = ${id}
      ${scope ? sql`AND (${fragmentToSql(scope)})` : sql``}`.execute(db);
  if (found.rows.length === 0) throw new ProblemError('not_found', `No ${object.key} record with id ${id}`);
}
