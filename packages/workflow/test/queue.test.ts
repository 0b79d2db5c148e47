import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { openTestDatabase, type Database } from '@tessera/store';
import { JobQueue, type ClaimedJob, type JobSpec } from '../src/index';
import { LostLease } from '../src/queue/job-queue';

describe('the SQL job queue', () => {
  let database: Database;
  let workspaceId: string;
  const clock = { now: new Date('2026-03-02T00:00:00Z') };
  const queue = (workerId: string, leaseMs = 10_000) => new JobQueue(database.db, () => clock.now, workerId, leaseMs);
  const spec = (extra: Partial<JobSpec> = {}): JobSpec => ({ workspaceId, kind: 'step', payload: {}, runAt: clock.now, ...extra });

  beforeAll(async () => {
    database = await openTestDatabase();
    workspaceId = randomUUID();
  });
  afterAll(() => database.close());

  async function enqueue(specs: JobSpec[]): Promise<void> {
    await database.db.transaction().execute((trx) => queue('producer').enqueue(trx, specs));
  }
  async function finish(q: JobQueue, job: ClaimedJob): Promise<void> {
    await database.db.transaction().execute((trx) => q.finishIn(trx, job));
  }
  async function clear(): Promise<void> {
    await sql`DELETE FROM jobs`.execute(database.db);
    await sql`DELETE FROM incidents`.execute(database.db);
  }

  it('concurrent workers claiming at once never get the same job, and between them claim all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 2, maxLength: 5 }), async (jobs, batches) => {
        await clear();
        await enqueue(Array.from({ length: jobs }, () => spec()));
        const workers = batches.map((batch, i) => ({ q: queue(`w${i}`), batch, got: [] as string[] }));
        // every worker claims in a loop until the queue is empty, all at the same time
        await Promise.all(
          workers.map(async (w) => {
            for (;;) {
              const claimed = await w.q.claim(w.batch);
              if (claimed.length === 0) return;
              w.got.push(...claimed.map((j) => j.id));
              for (const job of claimed) await finish(w.q, job);
            }
          }),
        );
        const all = workers.flatMap((w) => w.got);
        expect(new Set(all).size).toBe(all.length);
        expect(all).toHaveLength(jobs);
        const left = await database.db.selectFrom('jobs').select('id').execute();
        expect(left).toEqual([]);
      }),
      { numRuns: 12 },
    );
  });

  it('a future job is not due until the clock reaches it', async () => {
    await clear();
    await enqueue([spec({ runAt: new Date(clock.now.getTime() + 60_000) })]);
    expect(await queue('a').claim(10)).toEqual([]);
    clock.now = new Date(clock.now.getTime() + 60_000);
    expect(await queue('a').claim(10)).toHaveLength(1);
  });

  it('a leased job is nobody else\'s until the lease expires; then the late worker\'s commit is refused', async () => {
    await clear();
    await enqueue([spec()]);
    const a = queue('a', 5_000);
    const b = queue('b', 5_000);
    const [job] = await a.claim(1);
    expect(await b.claim(1)).toEqual([]);
    clock.now = new Date(clock.now.getTime() + 5_001);
    const [taken] = await b.claim(1);
    expect(taken?.id).toBe(job!.id);
    expect(taken?.attempts).toBe(2);
    await expect(finish(a, job!)).rejects.toBeInstanceOf(LostLease);
    await finish(b, taken!);
    expect(await database.db.selectFrom('jobs').select('id').execute()).toEqual([]);
  });

  it('work rolled back leaves the job to run again; work committed never runs again', async () => {
    await clear();
    await enqueue([spec()]);
    const a = queue('a', 1_000);
    const [job] = await a.claim(1);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await a.finishIn(trx, job!);
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    clock.now = new Date(clock.now.getTime() + 1_001);
    const [again] = await queue('b').claim(1);
    expect(again?.id).toBe(job!.id);
    await finish(queue('b'), again!);
    clock.now = new Date(clock.now.getTime() + 60_000);
    expect(await queue('c').claim(1)).toEqual([]);
  });

  it('a failing job is retried after its delay, parked with an incident after its last attempt, and revived by a retry', async () => {
    await clear();
    await enqueue([spec({ maxAttempts: 2, instanceId: randomUUID() })]);
    const a = queue('a');
    const [first] = await a.claim(1);
    expect(await a.fail(first!, 'boom 1', { retryable: true, delayMs: 30_000 })).toBeNull();
    expect(await a.claim(1)).toEqual([]);
    clock.now = new Date(clock.now.getTime() + 30_000);
    const [second] = await a.claim(1);
    expect(second).toMatchObject({ id: first!.id, attempts: 2 });
    const incident = await a.fail(second!, 'boom 2', { retryable: true, delayMs: 30_000, nodeId: 'n1' });
    expect(incident).not.toBeNull();
    clock.now = new Date(clock.now.getTime() + 3_600_000);
    expect(await a.claim(1)).toEqual([]);
    const row = await database.db.selectFrom('incidents').selectAll().where('id', '=', incident!).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ job_id: first!.id, error: 'boom 2', attempts: 2, node_id: 'n1', status: 'open' });
    await database.db.transaction().execute((trx) => a.revive(trx, workspaceId, first!.id));
    const [revived] = await a.claim(1);
    expect(revived).toMatchObject({ id: first!.id, attempts: 1 });
  });

  it('a failure no retry can fix is parked at the first attempt', async () => {
    await clear();
    await enqueue([spec({ maxAttempts: 5 })]);
    const a = queue('a');
    const [job] = await a.claim(1);
    expect(await a.fail(job!, 'no such node', { retryable: false, delayMs: 0 })).not.toBeNull();
    const parked = await database.db.selectFrom('jobs').select(['status', 'last_error']).executeTakeFirstOrThrow();
    expect(parked).toEqual({ status: 'failed', last_error: 'no such node' });
  });

  it('a keyed job is enqueued once while it is pending', async () => {
    await clear();
    await enqueue([spec({ key: 'schedule:x' })]);
    await enqueue([spec({ key: 'schedule:x' }), spec({ key: 'schedule:y' })]);
    const keys = await database.db.selectFrom('jobs').select('key').orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['schedule:x', 'schedule:y']);
  });
});
