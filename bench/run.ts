import { DEFAULT_DATABASE_URL } from './lib/database';
import { runList } from './list/run';
import { runCreate } from './create/run';
import { runReports } from './reports/run';
import { runAccess } from './access/run';
import { runWorkflow } from './workflow/run';

/**
 * `pnpm bench <list|create|all>` against PostgreSQL at DATABASE_URL. Run by hand, never
 * in CI: each benchmark takes minutes and its figures only mean something on a quiet machine.
 * Sizes can be lowered for a quick try (BENCH_RECORDS, BENCH_ITERATIONS, BENCH_SECONDS).
 */
const BENCHMARKS = ['list', 'create', 'reports', 'access', 'workflow', 'all'] as const;
type Name = (typeof BENCHMARKS)[number];

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

async function main(): Promise<void> {
  const name = process.argv[2] as Name | undefined;
  if (!name || !BENCHMARKS.includes(name)) {
    console.error(`usage: pnpm bench <${BENCHMARKS.join('|')}>   (DATABASE_URL, default ${DEFAULT_DATABASE_URL})`);
    process.exit(2);
  }
  const serverUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const env = ['BENCH_RECORDS', 'BENCH_ITERATIONS', 'BENCH_SECONDS', 'BENCH_CONCURRENCY', 'BENCH_INSTANCES', 'BENCH_TIMERS', 'BENCH_WORKER_CONCURRENCY', 'BENCH_STEPS_PER_TRANSACTION']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]} `)
    .join('');
  const command = (sub: string) => `${env}pnpm bench ${sub}`;
  if (name === 'list' || name === 'all') {
    await runList({
      serverUrl,
      records: intFromEnv('BENCH_RECORDS', 1_000_000),
      iterations: intFromEnv('BENCH_ITERATIONS', 200),
      warmup: 20,
      command: command('list'),
    });
  }
  if (name === 'reports' || name === 'all') {
    await runReports({
      serverUrl,
      records: intFromEnv('BENCH_RECORDS', 1_000_000),
      iterations: intFromEnv('BENCH_ITERATIONS', 30),
      warmup: 2,
      command: command('reports'),
    });
  }
  if (name === 'access' || name === 'all') {
    await runAccess({
      serverUrl,
      records: intFromEnv('BENCH_RECORDS', 1_000_000),
      iterations: intFromEnv('BENCH_ITERATIONS', 100),
      warmup: 5,
      command: command('access'),
    });
  }
  if (name === 'create' || name === 'all') {
    await runCreate({
      serverUrl,
      seconds: intFromEnv('BENCH_SECONDS', 20),
      concurrency: intFromEnv('BENCH_CONCURRENCY', 16),
      command: command('create'),
    });
  }
  if (name === 'workflow' || name === 'all') {
    await runWorkflow({
      serverUrl,
      instances: intFromEnv('BENCH_INSTANCES', 3000),
      timers: intFromEnv('BENCH_TIMERS', 1000),
      seconds: intFromEnv('BENCH_SECONDS', 60),
      concurrency: intFromEnv('BENCH_CONCURRENCY', 8),
      workerConcurrency: intFromEnv('BENCH_WORKER_CONCURRENCY', 8),
      stepsPerTransaction: intFromEnv('BENCH_STEPS_PER_TRANSACTION', 50),
      command: command('workflow'),
    });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
