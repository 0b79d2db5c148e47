import type pg from 'pg';
import { MetadataRepository, RecordRepository } from '@tessera/store';
import { WorkflowEngine } from '@tessera/workflow';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { createTenant, dealIds, type Tenant } from '../lib/deal-app';
import { loadAverage, machine, table, writeSection } from '../lib/report';
import { ms, percentile } from '../lib/stats';
import { runBpmnEngineBaseline, type BaselineResult } from './bpmn-engine-baseline';
import { BENCH_FLOW, TIMER_FLOW, benchFlowApp } from './diagram';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './workers';
import { profileOneInstance, type InstanceProfile } from './profile';
import { runSqlBaseline, type SqlBaselineResult } from './sql-baseline';

export interface WorkflowBenchOptions {
  serverUrl: string;
  /** instances per throughput round */
  instances: number;
  /** timers scheduled, due evenly over `seconds` */
  timers: number;
  seconds: number;
  /** instances the bench starts at once (API callers) */
  concurrency: number;
  /** steps each worker process runs at once */
  workerConcurrency: number;
  /** the batched rounds' stepsPerTransaction (the engine's default, 1, is measured too) */
  stepsPerTransaction: number;
  command: string;
}

const APP = 'bench';

interface ThroughputRound {
  workers: number;
  stepsPerTransaction: number;
  instances: number;
  seconds: number;
  perSecond: number;
  /** of the instances, how many completed at the long path's end (all, or the run is wrong) */
  completed: number;
  /** the update step ran exactly once per instance */
  updatesPerInstance: number;
}

interface TimerRound {
  timers: number;
  seconds: number;
  lateness: number[];
  /** timers whose instance was started (and the timer set) only after it was due: their lateness includes that */
  setLate: number;
}

/**
 * Benchmark: completed flow instances per second on PostgreSQL, durable (every step one
 * transaction), with one and with two `tessera worker` processes, next to bpmn-engine
 * running the same diagram in memory; then timer lateness at `timers` due over `seconds`.
 */
export async function runWorkflow(options: WorkflowBenchOptions): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await createBenchDatabase(options.serverUrl, 'workflow');
  console.log(`workflow: database ${bench.name}`);
  try {
    const tenant = await createTenant(bench.database);
    const metadata = new MetadataRepository(bench.database.db);
    await metadata.createApp(tenant.actor, { key: APP, name: { en: 'Bench' }, draft: benchFlowApp() });
    await metadata.publish(tenant.actor, APP);
    // Starting with stepsPerTransaction 1 commits the start alone and leaves every following
    // step to the worker processes; with more, the starting call runs the automatic steps itself.
    const starter = new WorkflowEngine(bench.database.db, { metadata, stepsPerTransaction: 1 });
    const inline = new WorkflowEngine(bench.database.db, { metadata, stepsPerTransaction: options.stepsPerTransaction });
    const profiles = [
      { stepsPerTransaction: 1, profile: await profileOneInstance(bench.database, starter, metadata, tenant, APP) },
      { stepsPerTransaction: options.stepsPerTransaction, profile: await profileOneInstance(bench.database, inline, metadata, tenant, APP) },
    ];
    const rounds: ThroughputRound[] = [];
    rounds.push(await throughputRound(bench, tenant, metadata, inline, 0, options.stepsPerTransaction, options));
    for (const steps of [1, options.stepsPerTransaction]) {
      for (const workers of [1, 2]) rounds.push(await throughputRound(bench, tenant, metadata, starter, workers, steps, options));
    }
    console.log(`workflow: hand-written SQL baseline, ${options.instances} instances`);
    const published = await metadata.getPublished(tenant.workspaceId, APP);
    const sqlBaseline = await runSqlBaseline(bench.pool, tenant.workspaceId, await createDeals(bench, tenant, metadata, options.instances), dealIds(published).stage, options.concurrency);
    console.log(`workflow: bpmn-engine baseline, ${options.instances} instances`);
    const baseline = await runBpmnEngineBaseline(options.instances, options.concurrency);
    const timers = await timerRound(bench, tenant, inline, options);
    const facts = await serverFacts(bench.pool);
    await writeSection('workflow', render(options, profiles, rounds, sqlBaseline, baseline, timers, facts, `${loadAtStart} at start, ${loadAverage()} at end`));
    console.log('workflow: wrote docs/benchmarks.md');
  } finally {
    await bench.drop();
  }
}

async function throughputRound(
  bench: BenchDatabase,
  tenant: Tenant,
  metadata: MetadataRepository,
  /** starts the instances: with workers, one that leaves the steps to them */
  engine: WorkflowEngine,
  /** 0: the starting calls run the flow themselves */
  workers: number,
  stepsPerTransaction: number,
  options: WorkflowBenchOptions,
): Promise<ThroughputRound> {
  const recordIds = await createDeals(bench, tenant, metadata, options.instances);
  console.log(`workflow: ${workers} worker process(es), stepsPerTransaction ${stepsPerTransaction}, ${options.instances} instances`);
  const processes: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) processes.push(await startWorkerProcess(bench.url, options.workerConcurrency, stepsPerTransaction));
    const started = process.hrtime.bigint();
    const instanceIds: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < recordIds.length) {
          const recordId = recordIds[next++]!;
          instanceIds.push((await engine.startInstance(tenant.actor, APP, BENCH_FLOW.key, { recordId })).id);
        }
      }),
    );
    const completed = await waitUntilEnded(bench.pool, instanceIds, 600_000);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const updates = await bench.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM flow_events WHERE node_id = 'update' AND action = 'executed' AND instance_id = ANY($1::uuid[])`,
      [instanceIds],
    );
    const result: ThroughputRound = {
      workers,
      stepsPerTransaction,
      instances: instanceIds.length,
      seconds,
      perSecond: completed / seconds,
      completed,
      updatesPerInstance: updates.rows[0]!.n / instanceIds.length,
    };
    console.log(`workflow: ${workers} worker(s): ${result.perSecond.toFixed(0)} completed/s`);
    return result;
  } finally {
    for (const p of processes) await stopWorkerProcess(p);
  }
}

/** Deals above the gateway's threshold, so every instance takes the long path. */
async function createDeals(bench: BenchDatabase, tenant: Tenant, metadata: MetadataRepository, count: number): Promise<string[]> {
  const app = await metadata.getPublished(tenant.workspaceId, APP);
  const records = new RecordRepository(bench.database.db, app);
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        ids.push((await records.create(tenant.actor, 'deal', { title: `Deal ${i}`, stage: 'new', amount: String(1000 + i) })).id);
      }
    }),
  );
  return ids;
}

/** Polls until every instance has ended; returns how many completed at the long path's end. */
async function waitUntilEnded(pool: pg.Pool, ids: string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await pool.query<{ ended: number; done: number }>(
      `SELECT count(*) FILTER (WHERE status <> 'running')::int AS ended, count(*) FILTER (WHERE status = 'completed' AND result = 'done')::int AS done
         FROM flow_instances WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const { ended, done } = rows.rows[0]!;
    if (ended === ids.length) return done;
    if (Date.now() > deadline) throw new Error(`only ${ended} of ${ids.length} instances ended in ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `timers` instances each wait at a timer due at its own instant, spread evenly over
 * `seconds` (starting a few seconds out, so starting them all is done before the first is
 * due); lateness is when the worker fired it (its timeline entry) minus when it was due.
 */
async function timerRound(bench: BenchDatabase, tenant: Tenant, engine: WorkflowEngine, options: WorkflowBenchOptions): Promise<TimerRound> {
  console.log(`workflow: ${options.timers} timers over ${options.seconds} s, 1 worker process`);
  const worker = await startWorkerProcess(bench.url, options.workerConcurrency, options.stepsPerTransaction);
  try {
    // lead time to start them all before the first is due (about 100 starts a second here)
    const base = Date.now() + Math.max(5_000, options.timers * 15);
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.timers) {
          const i = next++;
          const due = new Date(base + Math.floor((i * options.seconds * 1000) / options.timers)).toISOString();
          ids.push((await engine.startInstance(tenant.actor, APP, TIMER_FLOW.key, { variables: { due } })).id);
        }
      }),
    );
    await waitUntilEnded(bench.pool, ids, options.seconds * 1000 + 120_000);
    const rows = await bench.pool.query<{ late_ms: number; set_late: boolean }>(
      `SELECT (extract(epoch FROM f.at - (s.data->>'due')::timestamptz) * 1000)::float8 AS late_ms, s.at > (s.data->>'due')::timestamptz AS set_late
         FROM flow_events s JOIN flow_events f ON f.instance_id = s.instance_id AND f.action = 'timer_fired'
        WHERE s.action = 'timer_set' AND s.instance_id = ANY($1::uuid[])`,
      [ids],
    );
    return { timers: ids.length, seconds: options.seconds, lateness: rows.rows.map((r) => r.late_ms), setLate: rows.rows.filter((r) => r.set_late).length };
  } finally {
    await stopWorkerProcess(worker);
  }
}

function render(options: WorkflowBenchOptions, profiles: Array<{ stepsPerTransaction: number; profile: InstanceProfile }>, rounds: ThroughputRound[], sqlBaseline: SqlBaselineResult, baseline: BaselineResult, timers: TimerRound, facts: string, load: string): string {
  const one = rounds.find((r) => r.workers === 1 && r.stepsPerTransaction === 1)!;
  const rows = rounds.map((r) => [
    r.workers === 0
      ? `Tessera, run by the starting calls themselves, stepsPerTransaction ${r.stepsPerTransaction}, no worker (PostgreSQL, durable)`
      : `Tessera, ${r.workers} \`tessera worker\` process${r.workers > 1 ? 'es' : ''}, stepsPerTransaction ${r.stepsPerTransaction} (PostgreSQL, durable)`,
    `${r.completed} / ${r.instances}`,
    r.seconds.toFixed(1),
    r.perSecond.toFixed(0),
    r.updatesPerInstance.toFixed(2),
    (r.perSecond / one.perSecond).toFixed(2),
  ]);
  rows.push([
    `hand-written SQL, one transaction per instance, ${options.concurrency} at once (durable; the physical limit)`,
    `${sqlBaseline.instances} / ${sqlBaseline.instances}`,
    sqlBaseline.seconds.toFixed(1),
    sqlBaseline.perSecond.toFixed(0),
    '1.00',
    (sqlBaseline.perSecond / one.perSecond).toFixed(2),
  ]);
  rows.push(['bpmn-engine 25 (in memory, one process, not durable)', `${baseline.updated} / ${baseline.instances}`, baseline.seconds.toFixed(1), baseline.perSecond.toFixed(0), '1.00', (baseline.perSecond / one.perSecond).toFixed(2)]);
  const late = timers.lateness;
  return `## Workflow: completed instances per second, timer lateness

Command: \`${options.command}\`

Machine: ${machine()}. Load average (1 min): ${load}. PostgreSQL: ${facts}.

The flow: start -> exclusive gateway (amount > 100) -> service task (update the deal) ->
parallel fork of two service tasks (set a variable each) -> join -> end, started through
\`WorkflowEngine.startInstance\` (the API's path) by ${options.concurrency} callers at once in the
bench process. In the worker rows the start commits alone (stepsPerTransaction 1 in the
starting process) and \`tessera worker\` child processes (${options.workerConcurrency} steps at once each,
\`TESSERA_FLOW_STEPS_PER_TRANSACTION\` as given) run every following step on the same
database; in the first row the starting call runs the automatic steps itself, in the
start's transaction, as the API does with the engine's batching. The clock runs from the first start to the last instance
ended, so the starts are in the figure. "update steps / instance" counts the update
step's timeline entries: 1.00 means no step ran twice across the worker processes.
bpmn-engine runs the same diagram (same
element ids, its own JavaScript condition and service functions, the "record" a JS
object) with ${options.concurrency} instances at once, the XML parsed once.

${table(['engine', 'completed', 'seconds', 'instances/s', 'update steps / instance', 'vs 1 worker, 1 step per transaction'], rows)}

Target: >= 300 completed instances/s, durable.

What one instance costs the database (one instance alone, caches warm, counted at the pg
client, start included):

${table(
  ['stepsPerTransaction', 'transactions', 'statements', 'ms of round trips'],
  profiles.map(({ stepsPerTransaction, profile }) => [String(stepsPerTransaction), String(profile.transactions), String(profile.statements), profile.roundTripMs.toFixed(0)]),
)}

With 1, each node is its own job and transaction (instance row locked, job deleted, token
moved, timeline entry, next job inserted, commit), so a commit's fsync is paid once per
node; with more, an instance's automatic steps run to its next wait state in one (a step
that fails is isolated by running the transaction again without it, so it fails at its own
node). The workers get it through \`TESSERA_FLOW_STEPS_PER_TRANSACTION\`.

Timers: ${timers.timers} timer events due
evenly over ${timers.seconds} s (one worker process, stepsPerTransaction ${options.stepsPerTransaction}); lateness = when the worker fired
the timer minus when it was due. The instances are started (the timer set in the start's
transaction) ahead of time, as fast as the bench can; "set only after due" counts those
whose start came late, whose lateness includes it.

${table(
  ['timers', 'p50 lateness ms', 'p99 lateness ms', 'max ms', 'set only after due'],
  [[String(late.length), ms(percentile(late, 50), 0), ms(percentile(late, 99), 0), ms(Math.max(...late), 0), String(timers.setLate)]],
)}

Target: p99 < 1,000 ms at 1,000 timers a minute.`;
}
