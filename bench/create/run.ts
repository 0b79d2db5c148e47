import { bootstrap } from '@tessera/server';
import { MetadataRepository, type Actor } from '@tessera/store';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { STAGES, dealApp } from '../lib/deal-app';
import { loadAverage, machine, table, writeSection } from '../lib/report';
import { ms, ratio } from '../lib/stats';
import { BENCH_ADMIN, login, startServer, stopServer } from '../lib/server-process';
import { TYPED_TABLE_DDL } from './baseline-server';
import { runLoad, type LoadResult } from './load';
import { breakdown, type Step } from './breakdown';

export interface CreateOptions {
  serverUrl: string;
  seconds: number;
  concurrency: number;
  command: string;
}

type Side = 'ours' | 'baseline';
interface Round {
  side: Side;
  result: LoadResult;
}

const WARMUP_SECONDS = 3;
const MAX_REQUESTS = 500_000;
/**
 * The measured time per side is cut into slices run in ABBA order, so background load on
 * the machine and the slow drift of a growing table weigh on both sides alike.
 */
const SLICES_PER_SIDE = 4;
const ORDER: Side[] = ['ours', 'baseline', 'baseline', 'ours', 'baseline', 'ours', 'ours', 'baseline'];

/**
 * Benchmark 2: creating records over HTTP with validation. Ours is the platform server
 * (Bearer token, metadata-driven validation, one transaction with the history row); the
 * baseline is a bare fastify + pg route with a JSON body schema INSERTing into a typed
 * table. Each runs in its own child process, one after the other, against the same
 * PostgreSQL, driven by the same closed-loop client.
 */
export async function runCreate(options: CreateOptions): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await createBenchDatabase(options.serverUrl, 'create');
  console.log(`create: database ${bench.name}`);
  try {
    const actor = await prepare(bench);
    const rounds = await measure(bench, options);
    for (const side of ['ours', 'baseline'] as const) {
      const failed = rounds.filter((r) => r.side === side).find((r) => r.result.failed > 0);
      if (failed) throw new Error(`create: ${side} answered ${failed.result.failed} requests with an error, e.g. ${failed.result.firstFailure}`);
    }
    await checkStored(bench, rounds);
    const steps = await breakdown(bench, actor);
    await writeSection('create', render(options, rounds, steps, await serverFacts(bench.pool), `${loadAtStart} at start, ${loadAverage()} at end`));
    console.log('create: wrote docs/benchmarks.md');
  } finally {
    await bench.drop();
  }
}

async function prepare(bench: BenchDatabase): Promise<Actor & { userId: string }> {
  const admin = await bootstrap(bench.database, { adminEmail: BENCH_ADMIN.email, adminPassword: BENCH_ADMIN.password, print: () => undefined });
  const user = await bench.pool.query<{ id: string }>('SELECT id FROM users WHERE workspace_id = $1', [admin.workspaceId]);
  const userId = user.rows[0]?.id;
  if (!userId) throw new Error('create: bootstrap made no admin');
  const actor = { workspaceId: admin.workspaceId, userId, source: 'api' as const };
  const metadata = new MetadataRepository(bench.database.db);
  await metadata.createApp(actor, { key: 'crm', name: { en: 'Bench' }, draft: dealApp() });
  await metadata.publish(actor, 'crm');
  for (const ddl of TYPED_TABLE_DDL) await bench.pool.query(ddl);
  return actor;
}

/** A varied but valid deal per request: every field the object declares except the owner. */
function deal(i: number): Record<string, unknown> {
  const day = 1 + (i % 28);
  return {
    title: `华东 Acme 采购 #${i}`,
    stage: STAGES[i % STAGES.length],
    amount: (((i * 7919) % 20_000_000) / 100).toFixed(2),
    close_date: `2025-${String(1 + (i % 12)).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    probability: i % 101,
  };
}

/** Both servers are started up front but only one is ever under load at a time. */
async function measure(bench: BenchDatabase, options: CreateOptions): Promise<Round[]> {
  const servers = { ours: await startServer('ours', bench.url), baseline: await startServer('baseline', bench.url) };
  try {
    const token = await login(servers.ours.port);
    const target = (side: Side) => ({
      port: servers[side].port,
      path: side === 'ours' ? '/api/apps/crm/records/deal' : '/deals',
      headers: side === 'ours' ? { authorization: `Bearer ${token}` } : ({} as Record<string, string>),
      concurrency: options.concurrency,
      maxRequests: MAX_REQUESTS,
      body: deal,
      expectStatus: 201,
    });
    for (const side of ['ours', 'baseline'] as const) {
      const warm = await runLoad({ ...target(side), seconds: WARMUP_SECONDS });
      if (warm.failed > 0) throw new Error(`create: ${side} failed during warm-up: ${warm.firstFailure}`);
    }
    const rounds: Round[] = [];
    for (const side of ORDER) {
      const result = await runLoad({ ...target(side), seconds: options.seconds / SLICES_PER_SIDE });
      console.log(`create: ${side}: ${ms(result.throughput, 0)} req/s (p50 ${ms(result.p50)} ms, p95 ${ms(result.p95)} ms, ${result.failed} failed)`);
      rounds.push({ side, result });
    }
    return rounds;
  } finally {
    await stopServer(servers.ours.child);
    await stopServer(servers.baseline.child);
  }
}




/** Every 201 must have left a row behind, on both sides (warm-up rows included, hence >=). */
async function checkStored(bench: BenchDatabase, rounds: Round[]): Promise<void> {
  const acknowledged = (side: Side) => rounds.filter((r) => r.side === side).reduce((n, r) => n + r.result.ok, 0);
  const ours = await bench.pool.query<{ n: string }>('SELECT count(*) AS n FROM records');
  const history = await bench.pool.query<{ n: string }>('SELECT count(*) AS n FROM record_history');
  const baseline = await bench.pool.query<{ n: string }>('SELECT count(*) AS n FROM deal_typed');
  if (Number(ours.rows[0]?.n) < acknowledged('ours') || Number(history.rows[0]?.n) < acknowledged('ours')) {
    throw new Error('create: fewer records or history rows stored than 201s received');
  }
  if (Number(baseline.rows[0]?.n) < acknowledged('baseline')) throw new Error('create: fewer baseline rows stored than 201s received');
}

function render(options: CreateOptions, rounds: Round[], steps: Step[], facts: string, load: string): string {
  // requests over time across the slices, i.e. the throughput of the side's whole measured time
  const mean = (side: Side) => {
    const of = rounds.filter((r) => r.side === side);
    return of.reduce((n, r) => n + r.result.ok, 0) / of.reduce((t, r) => t + r.result.seconds, 0);
  };
  const rows = rounds.map((r, i) => [
    String(i + 1),
    r.side,
    ms(r.result.throughput, 0),
    String(r.result.ok),
    ms(r.result.p50),
    ms(r.result.p95),
    ms(r.result.p99),
  ]);
  return `## 2. Create: record creation over HTTP with validation

- Command: \`${options.command}\`
- Date: ${new Date().toISOString()}
- Machine: ${machine()}; 1-minute load average ${load}; the client, the server under test and PostgreSQL share these cores
- PostgreSQL: ${facts}

**What is measured.** Throughput of \`POST\` requests each creating one deal (title, stage,
amount as a decimal string, close_date, probability). *Ours* is the platform server
(\`buildServer\`): Bearer token check, the record schema compiled from the published
metadata, normalisation to field ids, and one statement inserting the record and its
history row into the generic \`records\` table (which carries the primary key, the object
index, the trigram search index and one partial expression index per indexed field).
*Baseline* is a bare fastify route with a JSON body schema and a single \`INSERT ...
RETURNING *\` through pg into a typed \`deal_typed\` table with the same four btree indexes
(no auth, no history). Each server runs alone in its own Node process on 127.0.0.1, with a
pg pool of 10, against the same PostgreSQL. The client is a closed loop of
${options.concurrency} keep-alive connections (node:http): ${WARMUP_SECONDS} s warm-up each, then
${options.seconds} s measured per side, cut into ${SLICES_PER_SIDE} slices run in the order
${ORDER.map((s) => (s === 'ours' ? 'A' : 'B')).join('')} (A ours, B baseline) so that background
load weighs on both alike; only one server is under load at a time. Every request must
answer 201; the stored row counts are checked afterwards. Target: ratio >= 0.6.

${table(['slice', 'server', 'req/s', 'requests', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)'], rows)}

Mean throughput: ours **${ms(mean('ours'), 0)} req/s**, baseline **${ms(mean('baseline'), 0)} req/s**,
ratio ours / baseline **${ratio(mean('ours'), mean('baseline'))}**.

### Where the time goes

The same steps driven in-process (no HTTP), ${16} concurrent callers, 5 s each, on the same
database right after the rounds above (operations per second):

${table(['step', 'per second'], steps.map((s) => [s.name, ms(s.perSecond, 0)]))}`;
}
