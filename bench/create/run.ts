import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap } from '@tessera/server';
import { MetadataRepository } from '@tessera/store';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { STAGES, dealApp } from '../lib/deal-app';
import { machine, table, writeSection } from '../lib/report';
import { ms, ratio } from '../lib/stats';
import { TYPED_TABLE_DDL } from './baseline-server';
import { runLoad, type LoadResult } from './load';

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

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const ADMIN = { email: 'bench@tessera.local', password: 'bench-password-0123456789' };
const WARMUP_SECONDS = 3;
const MAX_REQUESTS = 500_000;
// ABBA, so a slow drift (table and index growth, autovacuum) weighs on both sides alike
const ORDER: Side[] = ['ours', 'baseline', 'baseline', 'ours'];

/**
 * Benchmark 2: creating records over HTTP with validation. Ours is the platform server
 * (Bearer token, metadata-driven validation, one transaction with the history row); the
 * baseline is a bare fastify + pg route with a JSON body schema INSERTing into a typed
 * table. Each runs in its own child process, one after the other, against the same
 * PostgreSQL, driven by the same closed-loop client.
 */
export async function runCreate(options: CreateOptions): Promise<void> {
  const bench = await createBenchDatabase(options.serverUrl, 'create');
  console.log(`create: database ${bench.name}`);
  try {
    await prepare(bench);
    const rounds: Round[] = [];
    for (const side of ORDER) {
      const result = await measure(bench, side, options);
      console.log(`create: ${side}: ${ms(result.throughput, 0)} req/s (p50 ${ms(result.p50)} ms, p95 ${ms(result.p95)} ms, ${result.failed} failed)`);
      if (result.failed > 0) throw new Error(`create: ${side} answered ${result.failed} requests with an error, e.g. ${result.firstFailure}`);
      rounds.push({ side, result });
    }
    await checkStored(bench, rounds);
    await writeSection('create', render(options, rounds, await serverFacts(bench.pool)));
    console.log('create: wrote docs/benchmarks.md');
  } finally {
    await bench.drop();
  }
}

async function prepare(bench: BenchDatabase): Promise<void> {
  const admin = await bootstrap(bench.database, { adminEmail: ADMIN.email, adminPassword: ADMIN.password, print: () => undefined });
  const user = await bench.pool.query<{ id: string }>('SELECT id FROM users WHERE workspace_id = $1', [admin.workspaceId]);
  const actor = { workspaceId: admin.workspaceId, userId: user.rows[0]?.id ?? null, source: 'api' as const };
  const metadata = new MetadataRepository(bench.database.db);
  await metadata.createApp(actor, { key: 'crm', name: { en: 'Bench' }, draft: dealApp() });
  await metadata.publish(actor, 'crm');
  for (const ddl of TYPED_TABLE_DDL) await bench.pool.query(ddl);
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

async function measure(bench: BenchDatabase, side: Side, options: CreateOptions): Promise<LoadResult> {
  const { child, port } = await startServer(side, bench.url);
  try {
    const headers: Record<string, string> = side === 'ours' ? { authorization: `Bearer ${await login(port)}` } : {};
    const target = {
      port,
      path: side === 'ours' ? '/api/apps/crm/records/deal' : '/deals',
      headers,
      concurrency: options.concurrency,
      maxRequests: MAX_REQUESTS,
      body: deal,
      expectStatus: 201,
    };
    const warm = await runLoad({ ...target, seconds: WARMUP_SECONDS });
    if (warm.failed > 0) throw new Error(`create: ${side} failed during warm-up: ${warm.firstFailure}`);
    return await runLoad({ ...target, seconds: options.seconds });
  } finally {
    await stopServer(child);
  }
}

function startServer(side: Side, url: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(HERE, 'serve.ts'), [side, url], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message) => resolve({ child, port: (message as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`create: the ${side} server exited early (code ${code})`)));
    child.once('error', reject);
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.disconnect();
  });
}

async function login(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (!response.ok) throw new Error(`create: login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
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

function render(options: CreateOptions, rounds: Round[], facts: string): string {
  const mean = (side: Side) => {
    const of = rounds.filter((r) => r.side === side).map((r) => r.result.throughput);
    return of.reduce((a, b) => a + b, 0) / of.length;
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
- Machine: ${machine()} — the client, the server under test and PostgreSQL share these cores
- PostgreSQL: ${facts}

**What is measured.** Throughput of \`POST\` requests each creating one deal (title, stage,
amount as a decimal string, close_date, probability). *Ours* is the platform server
(\`buildServer\`): Bearer token check, the record schema compiled from the published
metadata, normalisation to field ids, and one transaction inserting the record and its
history row into the generic \`records\` table (which carries the primary key, the object
index, the trigram search index and one partial expression index per indexed field).
*Baseline* is a bare fastify route with a JSON body schema and a single \`INSERT ...
RETURNING *\` through pg into a typed \`deal_typed\` table with the same four btree indexes
(no auth, no history). Each server runs alone in its own Node process on 127.0.0.1, with a
pg pool of 10, against the same PostgreSQL. The client is a closed loop of
${options.concurrency} keep-alive connections (node:http), ${WARMUP_SECONDS} s warm-up then
${options.seconds} s measured, per round; rounds run in ABBA order. Every request must
answer 201; the stored row counts are checked afterwards. Target: ratio >= 0.6.

${table(['round', 'server', 'req/s', 'requests', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)'], rows)}

Mean throughput: ours **${ms(mean('ours'), 0)} req/s**, baseline **${ms(mean('baseline'), 0)} req/s**,
ratio ours / baseline **${ratio(mean('ours'), mean('baseline'))}**.`;
}
