import { sql, type Kysely } from 'kysely';
import type { AppDocument, ObjectDef, PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { appendAudit } from '../audit/audit-log';
import { FieldSealer } from './field-sealer';
import { ciphertextKeyId, type KeyRing } from './key-ring';

export interface RotationResult {
  /** records whose encrypted values were rewritten under the ring's first key */
  records: number;
  /** history rows whose encrypted before/after values were rewritten */
  history: number;
}

const BATCH = 500;

/**
 * Rewrites every encrypted value (records and their history) that is not under the ring's
 * first key — values under an older key, and values stored before the field was marked
 * encrypted — so the older keys can then be removed from the ring. Each batch is one
 * transaction; a record written concurrently is left alone (its next write seals it with
 * the first key anyway). Safe to run again: it only touches what still needs it.
 */
export async function rotateEncryptedValues(db: Kysely<SystemDatabase>, ring: KeyRing): Promise<RotationResult> {
  const total: RotationResult = { records: 0, history: 0 };
  const apps = await db
    .selectFrom('apps as a')
    .innerJoin('app_versions as v', (j) => j.onRef('v.workspace_id', '=', 'a.workspace_id').onRef('v.app_id', '=', 'a.id').onRef('v.version', '=', 'a.current_version'))
    .select(['a.workspace_id', 'a.id', 'a.key', 'v.version', 'v.document'])
    .execute();
  for (const app of apps) {
    const published: PublishedApp = { appId: app.id, appKey: app.key, version: app.version, document: app.document as AppDocument };
    const sealer = FieldSealer.for(published, ring);
    if (!sealer) continue;
    const done: RotationResult = { records: 0, history: 0 };
    for (const object of published.document.objects) {
      if (sealer.fieldsOf(object).length === 0) continue;
      done.records += await rotateRecords(db, app.workspace_id, object, sealer, ring);
      done.history += await rotateHistory(db, app.workspace_id, object, sealer, ring);
    }
    if (done.records + done.history > 0) {
      await appendAudit(db, { workspaceId: app.workspace_id, userId: null, source: 'system' }, {
        action: 'crypto.rotate',
        targetType: 'app',
        targetId: app.key,
        details: { keyId: ring.currentKeyId, ...done },
      });
    }
    total.records += done.records;
    total.history += done.history;
  }
  return total;
}

function stale(sealer: FieldSealer, object: ObjectDef, ring: KeyRing, values: (id: string) => unknown[]): boolean {
  return sealer.fieldsOf(object).some((f) => values(f.id!).some((v) => v != null && ciphertextKeyId(v) !== ring.currentKeyId));
}

/** Walks one object's rows of a table in id order, a batch at a time, until `rewrite` has seen them all. */
async function inBatches<T extends { id: string }>(read: (after: string) => Promise<T[]>, rewrite: (rows: T[]) => Promise<number>): Promise<number> {
  let rewritten = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await read(after);
    if (rows.length === 0) return rewritten;
    after = rows[rows.length - 1]!.id;
    rewritten += await rewrite(rows);
  }
}

async function rotateRecords(db: Kysely<SystemDatabase>, workspaceId: string, object: ObjectDef, sealer: FieldSealer, ring: KeyRing): Promise<number> {
  const read = (after: string) =>
    db.selectFrom('records').select(['id', 'data']).where('workspace_id', '=', workspaceId).where('object_id', '=', object.id!).where('id', '>', after).orderBy('id').limit(BATCH).execute();
  return inBatches(read, async (rows) => {
    let rewritten = 0;
    const todo = rows.filter((r) => stale(sealer, object, ring, (id) => [r.data[id]]));
    await db.transaction().execute(async (trx) => {
      for (const row of todo) {
        const next = sealer.seal(object, sealer.open(object, row.data, row.id));
        // compare-and-set: a concurrent write wins and seals with the first key itself
        const result = await sql`UPDATE records SET data = ${JSON.stringify(next)}::jsonb
          WHERE workspace_id = ${workspaceId} AND id = ${row.id} AND data = ${JSON.stringify(row.data)}::jsonb`.execute(trx);
        rewritten += Number(result.numAffectedRows ?? 0);
      }
    });
    return rewritten;
  });
}

async function rotateHistory(db: Kysely<SystemDatabase>, workspaceId: string, object: ObjectDef, sealer: FieldSealer, ring: KeyRing): Promise<number> {
  const read = (after: string) =>
    db
      .selectFrom('record_history')
      .select(['id', 'record_id', 'changes'])
      .where('workspace_id', '=', workspaceId)
      .where('object_id', '=', object.id!)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
  return inBatches(read, async (rows) => {
    let rewritten = 0;
    const changesOf = (r: (typeof rows)[number]) => (r.changes ?? {}) as Record<string, { before?: unknown; after?: unknown } | undefined>;
    const todo = rows.filter((r) => stale(sealer, object, ring, (id) => [changesOf(r)[id]?.before, changesOf(r)[id]?.after]));
    if (todo.length === 0) return 0;
    await db.transaction().execute(async (trx) => {
      // the documented exception to append-only history: values re-encrypted, nothing else
      await sql`SELECT set_config('tessera.audit_rewrite', 'rekey', true)`.execute(trx);
      for (const row of todo) {
        const changes = changesOf(row);
        const plain: Record<string, unknown> = { ...changes };
        for (const field of sealer.fieldsOf(object)) {
          const change = changes[field.id!];
          if (!change) continue;
          plain[field.id!] = {
            before: sealer.reveal(object, field, change.before ?? null, row.record_id),
            after: sealer.reveal(object, field, change.after ?? null, row.record_id),
          };
        }
        await trx
          .updateTable('record_history')
          .set({ changes: JSON.stringify(sealer.sealChanges(object, plain)) })
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', row.id)
          .execute();
        rewritten += 1;
      }
    });
    return rewritten;
  });
}
