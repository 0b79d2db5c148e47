import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { MetadataRepository, migrate, openDatabase, openTestDatabase, type Actor, type Database, type SystemDatabase } from '@tessera/store';
import { WorkerCrash, WorkflowEngine, type FlowDef } from '../src/index';
import { dealApp, end, flow, start } from './support/engine-harness';

/**
 * The crash test: 1,000 instances of a flow with an exclusive gateway, a parallel fork/join
 * and an HTTP side effect run while workers die at random moments. On PostgreSQL the
 * workers are child processes killed with SIGKILL and restarted; PGlite is one process, so
 * there the workers are in-process engines whose fault hook throws a simulated crash at
 * random points (before a commit, after it, after a send), leaving their leases held.
 * Afterwards: every instance completed, every step ran once, every effect was recorded once.
 */

const ON_POSTGRES = Boolean(process.env.DATABASE_URL);
/**
 * PGlite is one single-threaded session (about 150 steps a second here), so the in-process
 * variant runs 250 instances to stay within a minute; PostgreSQL runs the full thousand.
 */
const INSTANCES = Number(process.env.CRASH_INSTANCES ?? (ON_POSTGRES ? 1000 : 250));
const ROOT = resolve(import.meta.dirname, '../../..');
const WORKER = join(import.meta.dirname, 'support/crash-worker.ts');
const LEASE_MS = 3000;
/** workers are killed during this time at most; on an idle 2-core machine the whole test takes well under a minute */
const KILLING_MS = 40_000;
/** a machine shared with other work may be many times slower: the instances get this long to finish before the test fails */
const DEADLINE_MS = 150_000;

/** the timeline every instance must end up with: node:action -> count */
function expectedSteps(size: 'big' | 'small'): Record<string, number> {
  return {
    'start:started': 1,
    'gw:decided': 1,
    [`${size}:executed`]: 1,
    'merge:decided': 1,
    'fork:forked': 1,
    'call:effect_queued': 1,
    'call:delivered': 1,
    'other:executed': 1,
    'join:arrived': 1,
    'join:joined': 1,
    'end:ended': 1,
    '-:completed': 1,
  };
}

function crashFlow(url: string): FlowDef {
  return flow(
    'crash',
    [
      start(),
      { id: 'gw', type: 'exclusiveGateway', default: 'to_small' },
      { id: 'big', type: 'serviceTask', action: { type: 'setVariables', values: { size: 'big' } } },
      { id: 'small', type: 'serviceTask', action: { type: 'setVariables', values: { size: 'small' } } },
      { id: 'merge', type: 'exclusiveGateway' },
      { id: 'fork', type: 'parallelGateway' },
      {
        id: 'call',
        type: 'serviceTask',
        action: { type: 'http', method: 'POST', url, body: { var: '$vars.n' }, resultVariable: 'reply' },
        retry: { maxAttempts: 20, initialDelay: 'PT0.2S' },
      },
      { id: 'other', type: 'serviceTask', action: { type: 'setVariables', values: { other: true } } },
      { id: 'join', type: 'parallelGateway' },
      end(),
    ],
    [
      ['start', 'gw'],
      ['gw', 'big', { id: 'to_big', condition: { '>=': [{ var: '$vars.n' }, 500] } }],
      ['gw', 'small', { id: 'to_small' }],
      ['big', 'merge'],
      ['small', 'merge'],
      ['merge', 'fork'],
      ['fork', 'call'],
      ['fork', 'other'],
      ['call', 'join'],
      ['other', 'join'],
      ['join', 'end'],
    ],
    {
      object: undefined,
      variables: [
        { name: 'n', type: 'number' },
        { name: 'size', type: 'text' },
        { name: 'reply', type: 'text' },
        { name: 'other', type: 'boolean' },
      ],
    },
  );
}

/** The receiving system: counts deliveries per Idempotency-Key and answers with the key. */
function receiver(): Promise<{ server: Server; url: string; seen: Map<string, number> }> {
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key'] ?? '');
    req.resume();
    req.on('end', () => {
      seen.set(key, (seen.get(key) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key }));
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen })));
}

async function setUp(db: Kysely<SystemDatabase>, url: string): Promise<{ actor: Actor; metadata: MetadataRepository }> {
  const workspaceId = randomUUID();
  const userId = randomUUID();
  await db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'crash' }).execute();
  await db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com`, is_admin: true }).execute();
  const actor: Actor = { workspaceId, userId, source: 'api' };
  const metadata = new MetadataRepository(db);
  await metadata.createApp(actor, { key: 'app', draft: dealApp([crashFlow(url)]) });
  await metadata.publish(actor, 'app');
  return { actor, metadata };
}

/**
 * Starts the instances in batches, `pauseMs` apart: the engine runs 1,000 instances in a few
 * seconds on a quiet machine, so without a pace the workers would be done before any of
 * them could be killed mid-work.
 */
async function startAll(engine: WorkflowEngine, actor: Actor, pauseMs = 0): Promise<void> {
  for (let i = 0; i < INSTANCES; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, INSTANCES - i) }, (_, j) => engine.startInstance(actor, 'app', 'crash', { variables: { n: i + j } })));
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

async function completed(db: Kysely<SystemDatabase>, workspaceId: string): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM flow_instances WHERE workspace_id = ${workspaceId} AND status = 'completed'`.execute(db);
  return r.rows[0]!.n;
}

/** Everything the test promises, read back from the database and the receiver. */
async function assertExactlyOnce(db: Kysely<SystemDatabase>, workspaceId: string, seen: Map<string, number>): Promise<{ duplicateSends: number }> {
  const instances = await sql<{ id: string; status: string; variables: { n: number; size: string; reply: { key: string } } }>`
    SELECT id, status, variables FROM flow_instances WHERE workspace_id = ${workspaceId}`.execute(db);
  expect(instances.rows).toHaveLength(INSTANCES);
  const unfinished = instances.rows.filter((r) => r.status !== 'completed');
  if (unfinished.length > 0) {
    // say where they are stuck before failing
    const ids = unfinished.slice(0, 3).map((r) => r.id);
    const where = await db.selectFrom('flow_tokens').select(['instance_id', 'node_id', 'status']).where('instance_id', 'in', ids).execute();
    const jobs = await db.selectFrom('jobs').select(['instance_id', 'kind', 'status', 'attempts', 'locked_by', 'locked_until', 'run_at', 'last_error']).where('instance_id', 'in', ids).execute();
    const incidents = await db.selectFrom('incidents').select(['instance_id', 'error']).where('instance_id', 'in', ids).execute();
    console.error(JSON.stringify({ unfinished: unfinished.length, where, jobs, incidents }, null, 1));
  }
  expect(unfinished).toEqual([]);

  const events = await sql<{ instance_id: string; step: string; n: number }>`
    SELECT instance_id, coalesce(node_id, '-') || ':' || action AS step, count(*)::int AS n
    FROM flow_events WHERE workspace_id = ${workspaceId} GROUP BY instance_id, step`.execute(db);
  const byInstance = new Map<string, Record<string, number>>();
  for (const e of events.rows) {
    const steps = byInstance.get(e.instance_id) ?? {};
    steps[e.step] = e.n;
    byInstance.set(e.instance_id, steps);
  }
  const wrong: string[] = [];
  for (const inst of instances.rows) {
    const size = inst.variables.n >= 500 ? 'big' : 'small';
    expect(inst.variables.size).toBe(size);
    const key = `${inst.id}:call:1`;
    // the result the instance went on with is the receiver's answer to this very key
    expect(inst.variables.reply).toEqual({ key });
    if (JSON.stringify(byInstance.get(inst.id)) !== JSON.stringify(sortKeys(expectedSteps(size), byInstance.get(inst.id)))) wrong.push(inst.id);
  }
  expect(wrong.slice(0, 3).map((id) => ({ id, steps: byInstance.get(id) }))).toEqual([]);

  const outbox = await sql<{ key: string; status: string; attempts: number }>`
    SELECT idempotency_key AS key, status, attempts FROM outbox WHERE workspace_id = ${workspaceId}`.execute(db);
  expect(outbox.rows).toHaveLength(INSTANCES);
  expect(new Set(outbox.rows.map((r) => r.key)).size).toBe(INSTANCES);
  expect(outbox.rows.filter((r) => r.status !== 'delivered')).toEqual([]);
  // at least once at the receiver for every key
  expect(outbox.rows.filter((r) => !seen.has(r.key))).toEqual([]);

  const leftovers = await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE workspace_id = ${workspaceId}`.execute(db);
  expect(leftovers.rows[0]!.n).toBe(0);
  const incidents = await sql<{ error: string }>`SELECT error FROM incidents WHERE workspace_id = ${workspaceId}`.execute(db);
  expect(incidents.rows).toEqual([]);
  return { duplicateSends: [...seen.values()].reduce((sum, n) => sum + n - 1, 0) };
}

/** `expected` with its keys in the order `actual` has them, so the two serialise alike when equal */
function sortKeys(expected: Record<string, number>, actual: Record<string, number> | undefined): Record<string, number> {
  if (!actual) return expected;
  const keys = [...Object.keys(actual).filter((k) => k in expected), ...Object.keys(expected).filter((k) => !(k in actual))];
  return Object.fromEntries(keys.map((k) => [k, expected[k]!]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(ON_POSTGRES)('crash test: worker processes killed with SIGKILL on PostgreSQL', () => {
  let admin: Database;
  let database: Database;
  let dbUrl: string;
  let name: string;
  const workers = new Set<ChildProcess>();

  beforeAll(async () => {
    admin = await openDatabase({ url: process.env.DATABASE_URL!, maxConnections: 1 });
    name = `tessera_crash_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
    const target = new URL(process.env.DATABASE_URL!);
    target.pathname = `/${name}`;
    dbUrl = target.toString();
    database = await openDatabase({ url: dbUrl, maxConnections: 10 });
    await migrate(database);
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await database?.close();
    await sleep(200);
    await sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).execute(admin.db);
    await admin.close();
  });

  it(`${INSTANCES} instances complete with every step once and every effect recorded once`, async () => {
    const { server, url, seen } = await receiver();
    try {
      const { actor, metadata } = await setUp(database.db, url);
      let generation = 0;
      /** when each worker said it was ready: only workers that had time to work are killed */
      const readyAt = new Map<ChildProcess, number>();
      const spawnWorker = () => {
        const child = spawn(process.execPath, ['--import', 'tsx', WORKER, dbUrl, `proc-${generation++}`], {
          cwd: ROOT,
          env: { ...process.env, CRASH_LEASE_MS: String(LEASE_MS) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        child.stdout!.once('data', () => readyAt.set(child, Date.now()));
        workers.add(child);
        child.once('exit', () => {
          workers.delete(child);
          readyAt.delete(child);
        });
      };
      for (let i = 0; i < 3; i++) spawnWorker();
      const starter = new WorkflowEngine(database.db, { metadata, leaseMs: LEASE_MS });
      const began = Date.now();
      // instances are started while workers run and die
      let started = false;
      // ~12 s of starts at least, during which workers are killed every 0.5-1.5 s
      const starting = startAll(starter, actor, 300).then(() => (started = true));
      let kills = 0;
      // kill a random worker that has worked for at least 1 s, every 0.5-1.5 s, and start a
      // fresh one (booting one takes seconds on a busy machine), until nearly all are done
      while (Date.now() - began < DEADLINE_MS) {
        const done = await completed(database.db, actor.workspaceId);
        if (started && done >= INSTANCES) break;
        if (done < INSTANCES * 0.95 && Date.now() - began < KILLING_MS) {
          const victims = [...readyAt].filter(([, at]) => Date.now() - at > 1000).map(([child]) => child);
          const victim = victims[Math.floor(Math.random() * victims.length)];
          if (victim) {
            victim.kill('SIGKILL');
            readyAt.delete(victim);
            kills++;
            spawnWorker();
          }
        }
        await sleep(500 + Math.random() * 1000);
      }
      await starting;
      for (const w of workers) w.kill('SIGKILL');
      expect(kills).toBeGreaterThanOrEqual(3);
      const { duplicateSends } = await assertExactlyOnce(database.db, actor.workspaceId, seen);
      console.info(`crash test (PostgreSQL): ${INSTANCES} instances in ${Date.now() - began} ms, ${kills} workers killed, ${duplicateSends} repeated sends deduplicated by key`);
    } finally {
      server.close();
    }
  }, DEADLINE_MS + 30_000);
});

describe.skipIf(ON_POSTGRES)('crash test: in-process workers aborted at random points on PGlite', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it(`${INSTANCES} instances complete with every step once and every effect recorded once`, async () => {
    const { server, url, seen } = await receiver();
    try {
      const { actor, metadata } = await setUp(database.db, url);
      let generation = 0;
      let crashes = 0;
      const stopAll = new AbortController();
      const lease = 400;
      // each worker dies at a random point with a small probability per point
      const worker = async (): Promise<void> => {
        while (!stopAll.signal.aborted) {
          const engine = new WorkflowEngine(database.db, {
            metadata,
            workerId: `mem-${generation++}`,
            leaseMs: lease,
            faults: (point) => {
              if (Date.now() - began < KILLING_MS && Math.random() < 0.01) throw new WorkerCrash(point);
            },
          });
          try {
            await engine.runWorker({ concurrency: 2, pollMs: 20, signal: stopAll.signal });
          } catch (e) {
            if (!(e instanceof WorkerCrash)) throw e;
            crashes++;
          }
        }
      };
      const began = Date.now();
      const running = [worker(), worker(), worker()];
      await startAll(new WorkflowEngine(database.db, { metadata, leaseMs: lease }), actor);
      while (Date.now() - began < DEADLINE_MS && (await completed(database.db, actor.workspaceId)) < INSTANCES) await sleep(250);
      stopAll.abort();
      await Promise.all(running);
      expect(crashes).toBeGreaterThanOrEqual(3);
      const { duplicateSends } = await assertExactlyOnce(database.db, actor.workspaceId, seen);
      console.info(`crash test (PGlite): ${INSTANCES} instances in ${Date.now() - began} ms, ${crashes} simulated crashes, ${duplicateSends} repeated sends deduplicated by key`);
    } finally {
      server.close();
    }
  }, DEADLINE_MS + 30_000);
});
