import { sql, type Kysely, type Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { SystemDatabase } from '@tessera/store';

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

export type JobKind = 'step' | 'timer' | 'boundary' | 'deliver' | 'start' | 'schedule';

/** A job to enqueue. */
export interface JobSpec {
  workspaceId: string;
  kind: JobKind;
  payload: Record<string, unknown>;
  runAt: Date;
  instanceId?: string | null;
  tokenId?: string | null;
  /** at most one pending job per key and workspace; a second enqueue with it is a no-op */
  key?: string | null;
  maxAttempts?: number;
}

/** A job a worker holds the lease of. */
export interface ClaimedJob {
  workspaceId: string;
  id: string;
  kind: JobKind;
  payload: Record<string, unknown>;
  instanceId: string | null;
  tokenId: string | null;
  key: string | null;
  runAt: Date;
  /** attempts so far, this one included */
  attempts: number;
  maxAttempts: number;
}

/** Thrown inside a job's transaction when another worker took the job over (the lease ran out): the work is rolled back. */
export class LostLease extends Error {
  constructor(job: ClaimedJob) {
    super(`job ${job.id} is no longer held by this worker`);
  }
}

interface JobRow {
  workspace_id: string;
  id: string;
  kind: string;
  payload: unknown;
  instance_id: string | null;
  token_id: string | null;
  key: string | null;
  run_at: Date | string;
  attempts: number;
  max_attempts: number;
}

/**
 * The durable queue in SQL, graphile-worker style. A claim leases due jobs with
 * FOR UPDATE SKIP LOCKED, so concurrent workers never claim the same job; the job's work
 * deletes the job in the same transaction (`finishIn`), so a crash before the commit
 * leaves the job to be reclaimed when its lease expires, and a crash after it can never
 * run it again. "Now" is the engine's clock, so tests decide when timers are due.
 */
export class JobQueue {
  constructor(
    private readonly db: Kysely<SystemDatabase>,
    private readonly clock: () => Date,
    readonly workerId: string,
    readonly leaseMs: number,
  ) {}

  /**
   * Inserts jobs in the caller's transaction. `leased` marks them as already claimed by
   * this worker (a step's next step, which the worker runs right after the commit without
   * another claim); they are returned as claimed jobs for that.
   */
  async enqueue(db: Db, specs: JobSpec[], leased = false): Promise<ClaimedJob[]> {
    if (specs.length === 0) return [];
    const now = this.clock();
    const rows = specs.map((s) => ({
      workspace_id: s.workspaceId,
      id: uuidv7(),
      kind: s.kind,
      payload: JSON.stringify(s.payload),
      instance_id: s.instanceId ?? null,
      token_id: s.tokenId ?? null,
      key: s.key ?? null,
      run_at: s.runAt,
      max_attempts: s.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ...(leased && s.runAt <= now ? { locked_by: this.workerId, locked_until: new Date(now.getTime() + this.leaseMs), attempts: 1 } : {}),
    }));
    const keyed = rows.filter((r) => r.key !== null);
    const plain = rows.filter((r) => r.key === null);
    const inserted: JobRow[] = [];
    if (plain.length > 0) inserted.push(...((await db.insertInto('jobs').values(plain).returningAll().execute()) as JobRow[]));
    for (const row of keyed) {
      const r = await db
        .insertInto('jobs')
        .values(row)
        .onConflict((oc) => oc.columns(['workspace_id', 'key']).where('key', 'is not', null).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (r) inserted.push(r as JobRow);
    }
    return inserted.filter((r) => (r as { locked_by?: string | null }).locked_by === this.workerId).map(toClaimed);
  }

  /** Leases up to `limit` due jobs to this worker. */
  async claim(limit: number): Promise<ClaimedJob[]> {
    const now = this.clock();
    const until = new Date(now.getTime() + this.leaseMs);
    const result = await sql<JobRow>`
      UPDATE jobs SET locked_by = ${this.workerId}, locked_until = ${until}, attempts = attempts + 1
      WHERE (workspace_id, id) IN (
        SELECT workspace_id, id FROM jobs
        WHERE status = 'pending' AND run_at <= ${now} AND (locked_until IS NULL OR locked_until < ${now})
        ORDER BY run_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING workspace_id, id, kind, payload, instance_id, token_id, key, run_at, attempts, max_attempts`.execute(this.db);
    return result.rows.map(toClaimed);
  }

  /**
   * Deletes the job as part of its work's transaction. Run first in that transaction: it
   * locks the row, so a second worker that took the job over after the lease expired
   * either waits for this commit (and then finds the job gone) or has taken it (and this
   * worker's work is refused with LostLease and rolled back).
   */
  async finishIn(trx: Transaction<SystemDatabase>, job: ClaimedJob): Promise<void> {
    const gone = await trx
      .deleteFrom('jobs')
      .where('workspace_id', '=', job.workspaceId)
      .where('id', '=', job.id)
      .where('locked_by', '=', this.workerId)
      .executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) throw new LostLease(job);
  }

  /**
   * Records a failed attempt: the job runs again after `delayMs`, or, when it is out of
   * attempts (or the failure is not worth retrying), it is parked with an open incident.
   * Returns the incident id when one was opened.
   */
  async fail(job: ClaimedJob, error: string, options: { retryable: boolean; delayMs: number; nodeId?: string | null }): Promise<string | null> {
    const now = this.clock();
    const parked = !options.retryable || job.attempts >= job.maxAttempts;
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('jobs')
        .set({
          locked_by: null,
          locked_until: null,
          last_error: error.slice(0, 4000),
          ...(parked ? { status: 'failed' as const } : { run_at: new Date(now.getTime() + options.delayMs) }),
        })
        .where('workspace_id', '=', job.workspaceId)
        .where('id', '=', job.id)
        .where('locked_by', '=', this.workerId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1 || !parked) return null;
      const id = uuidv7();
      await trx
        .insertInto('incidents')
        .values({
          workspace_id: job.workspaceId,
          id,
          job_id: job.id,
          job_kind: job.kind,
          instance_id: job.instanceId,
          node_id: options.nodeId ?? null,
          error: error.slice(0, 4000),
          attempts: job.attempts,
          created_at: now,
        })
        .execute();
      return id;
    });
  }

  /** Gives a parked job a fresh set of attempts, due now (in the caller's transaction). */
  async revive(trx: Transaction<SystemDatabase>, workspaceId: string, jobId: string): Promise<boolean> {
    const result = await trx
      .updateTable('jobs')
      .set({ status: 'pending', attempts: 0, run_at: this.clock(), locked_by: null, locked_until: null })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', jobId)
      .where('status', '=', 'failed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Releases a lease without counting the attempt (a worker shutting down cleanly). */
  async release(job: ClaimedJob): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ locked_by: null, locked_until: null, attempts: Math.max(0, job.attempts - 1) })
      .where('workspace_id', '=', job.workspaceId)
      .where('id', '=', job.id)
      .where('locked_by', '=', this.workerId)
      .execute();
  }
}

export const DEFAULT_MAX_ATTEMPTS = 5;

function toClaimed(row: JobRow): ClaimedJob {
  return {
    workspaceId: row.workspace_id,
    id: row.id,
    kind: row.kind as JobKind,
    payload: (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>,
    instanceId: row.instance_id,
    tokenId: row.token_id,
    key: row.key,
    runAt: row.run_at instanceof Date ? row.run_at : new Date(row.run_at),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
  };
}
