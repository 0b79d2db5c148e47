/**
 * Benchmark: record creation over HTTP on an object with 10 formulas and 10 validation
 * rules, against the same object with none, in the same run, through the same server
 * process, database and closed-loop client (bench/create's load generator). The figure
 * is the throughput ratio ruled / plain (target >= 0.8).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/rules/create-with-rules.ts
 *   (BENCH_SECONDS per round, default 15; BENCH_CONCURRENCY, default 16)
 */
import type { ChildProcess } from 'node:child_process';
import type { AppDocument, FieldDef, ValidationRule } from '@tessera/metadata';
import { bootstrap } from '@tessera/server';
import { MetadataRepository } from '@tessera/store';
import { createBenchDatabase, DEFAULT_DATABASE_URL, serverFacts } from '../lib/database';
import { machine, table } from '../lib/report';
import { ms, ratio } from '../lib/stats';
import { BENCH_ADMIN, login, startServer, stopServer } from '../lib/server-process';
import { runLoad, type LoadResult } from '../create/load';

const WARMUP_SECONDS = 3;
type Side = 'plain' | 'ruled';
// ABBA, so drift (table and index growth, autovacuum) weighs on both sides alike
const ORDER: Side[] = ['plain', 'ruled', 'ruled', 'plain'];

const label = (en: string) => ({ en, zh: en });

const INPUTS: FieldDef[] = [
  { key: 'title', type: 'text', label: label('Title'), required: true },
  { key: 'customer', type: 'text', label: label('Customer') },
  { key: 'email', type: 'email', label: label('Email') },
  { key: 'amount', type: 'currency', label: label('Amount') },
  { key: 'quantity', type: 'number', label: label('Quantity') },
  { key: 'discount', type: 'percent', label: label('Discount') },
  { key: 'close_date', type: 'date', label: label('Close date') },
  {
    key: 'stage',
    type: 'select',
    label: label('Stage'),
    options: ['new', 'qualified', 'won', 'lost'].map((value) => ({ value, label: label(value) })),
  },
];

/** Ten formulas of the kinds a CRM uses: arithmetic, conditions, text and dates. */
const FORMULAS: Array<[string, FieldDef['resultType'], unknown]> = [
  ['net', 'currency', { '*': [{ var: 'amount' }, { '-': [1, { '/': [{ var: 'discount' }, 100] }] }] }],
  ['unit_price', 'currency', { if: [{ '>': [{ var: 'quantity' }, 0] }, { '/': [{ var: 'amount' }, { var: 'quantity' }] }, 0] }],
  ['big', 'boolean', { '>': [{ var: 'amount' }, 500000] }],
  ['tier', 'text', { if: [{ '>': [{ var: 'amount' }, 500000] }, 'key', { '>': [{ var: 'amount' }, 50000] }, 'mid', 'small'] }],
  ['label', 'text', { concat: [{ upper: [{ var: 'stage' }] }, ' · ', { var: 'title' }] }],
  ['title_length', 'number', { length: [{ var: 'title' }] }],
  ['follow_up', 'date', { addDays: [{ var: 'close_date' }, 7] }],
  ['days_left', 'number', { diffDays: [{ today: [] }, { var: 'close_date' }] }],
  ['rounded', 'number', { round: [{ '*': [{ var: 'amount' }, 0.13] }, 2] }],
  ['open', 'boolean', { in: [{ var: 'stage' }, ['new', 'qualified']] }],
];

/** Ten validation rules, all of which the generated bodies satisfy (so every request is a 201). */
const VALIDATIONS: Array<[string, unknown]> = [
  ['amount_positive', { '>': [{ var: 'amount' }, 0] }],
  ['quantity_positive', { '>=': [{ var: 'quantity' }, 1] }],
  ['discount_range', { between: [{ var: 'discount' }, 0, 50] }],
  ['title_present', { '!': [{ isEmpty: [{ var: 'title' }] }] }],
  ['title_short', { '<=': [{ length: [{ var: 'title' }] }, 200] }],
  ['email_valid', { or: [{ isEmpty: [{ var: 'email' }] }, { isEmail: [{ var: 'email' }] }] }],
  ['close_after_2020', { '>': [{ var: 'close_date' }, '2020-01-01'] }],
  ['customer_given', { '!!': [{ var: 'customer' }] }],
  ['lost_has_no_amount_cap', { or: [{ '!=': [{ var: 'stage' }, 'lost'] }, { '<': [{ var: 'amount' }, 100000000] }] }],
  ['net_not_negative', { '>=': [{ var: 'net' }, 0] }],
];

function benchApp(): AppDocument {
  const formulas: FieldDef[] = FORMULAS.map(([key, resultType, formula]) => ({ key, type: 'formula', resultType, formula, label: label(key) }));
  const validations: ValidationRule[] = VALIDATIONS.map(([key, assert]) => ({ key, assert, severity: 'error', message: { zh: key, en: key }, fields: [] }));
  return {
    objects: [
      { key: 'plain', label: label('Plain'), fields: structuredClone(INPUTS) },
      { key: 'ruled', label: label('Ruled'), fields: [...structuredClone(INPUTS), ...formulas], validations },
    ],
  };
}

function body(i: number): Record<string, unknown> {
  return {
    title: `华东 Acme 采购 #${i}`,
    customer: `客户 ${i % 97}`,
    email: `buyer${i % 1000}@example.com`,
    amount: (1 + ((i * 7919) % 20_000_000) / 100).toFixed(2),
    quantity: 1 + (i % 20),
    discount: i % 30,
    close_date: `2026-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
    stage: ['new', 'qualified', 'won', 'lost'][i % 4],
  };
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const seconds = Number(process.env.BENCH_SECONDS ?? 15);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const bench = await createBenchDatabase(serverUrl, 'rules');
  let child: ChildProcess | undefined;
  try {
    const admin = await bootstrap(bench.database, { adminEmail: BENCH_ADMIN.email, adminPassword: BENCH_ADMIN.password, print: () => undefined });
    const actor = { workspaceId: admin.workspaceId, userId: null, source: 'api' as const };
    const metadata = new MetadataRepository(bench.database.db);
    await metadata.createApp(actor, { key: 'crm', name: { en: 'Bench' }, draft: benchApp() });
    await metadata.publish(actor, 'crm');
    const started = await startServer('ours', bench.url);
    child = started.child;
    const token = await login(started.port);
    const rounds: Array<{ side: Side; result: LoadResult }> = [];
    for (const side of ORDER) {
      const target = {
        port: started.port,
        path: `/api/apps/crm/records/${side}`,
        headers: { authorization: `Bearer ${token}` },
        concurrency,
        maxRequests: 500_000,
        body,
        expectStatus: 201,
      };
      const warm = await runLoad({ ...target, seconds: WARMUP_SECONDS });
      if (warm.failed > 0) throw new Error(`${side} failed during warm-up: ${warm.firstFailure}`);
      const result = await runLoad({ ...target, seconds });
      if (result.failed > 0) throw new Error(`${side} answered ${result.failed} requests with an error, e.g. ${result.firstFailure}`);
      console.log(`rules: ${side}: ${ms(result.throughput, 0)} req/s (p50 ${ms(result.p50)} ms, p95 ${ms(result.p95)} ms)`);
      rounds.push({ side, result });
    }
    await checkComputed(bench.pool);
    const mean = (side: Side) => {
      const of = rounds.filter((r) => r.side === side).map((r) => r.result.throughput);
      return of.reduce((a, b) => a + b, 0) / of.length;
    };
    console.log(`\nMachine: ${machine()}\nPostgreSQL: ${await serverFacts(bench.pool)}\nconcurrency ${concurrency}, ${seconds} s per round after ${WARMUP_SECONDS} s warm-up, ABBA\n`);
    console.log(table(['round', 'object', 'req/s', 'requests', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)'], rounds.map((r, i) => [
      String(i + 1), r.side, ms(r.result.throughput, 0), String(r.result.ok), ms(r.result.p50), ms(r.result.p95), ms(r.result.p99),
    ])));
    console.log(`\nmean: plain ${ms(mean('plain'), 0)} req/s, 10 formulas + 10 validations ${ms(mean('ruled'), 0)} req/s, ratio ruled / plain ${ratio(mean('ruled'), mean('plain'))} (target >= 0.8)`);
  } finally {
    if (child) await stopServer(child);
    await bench.drop();
  }
}

/** The rules really ran: every ruled record carries its formulas, no plain one does. */
async function checkComputed(pool: import('pg').Pool): Promise<void> {
  const result = await pool.query<{ n: string; computed: string }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE jsonb_typeof(data) = 'object' AND (SELECT count(*) FROM jsonb_object_keys(data)) >= 18) AS computed
     FROM records r JOIN (SELECT DISTINCT jsonb_array_elements(document->'objects')->>'id' AS id, jsonb_array_elements(document->'objects')->>'key' AS key FROM app_versions) o ON o.id = r.object_id
     WHERE o.key = 'ruled'`,
  );
  const row = result.rows[0];
  if (!row || Number(row.n) === 0 || row.n !== row.computed) throw new Error(`rules: ${row?.computed}/${row?.n} ruled records carry their formulas`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
