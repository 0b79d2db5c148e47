import pg from 'pg';
import { migrate, openDatabase, type Database } from '@tessera/store';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  name: string;
  url: string;
  database: Database;
  /** a plain pg pool on the same database, for seeding and for the baselines */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own on the server at `serverUrl`, so a benchmark
 * never touches anyone's data and leaves nothing behind (`drop`).
 */
export async function createBenchDatabase(serverUrl: string, label: string): Promise<BenchDatabase> {
  const name = `tessera_bench_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  const url = target.toString();
  let database: Database | undefined;
  let pool: pg.Pool | undefined;
  const drop = async () => {
    await pool?.end().catch(() => undefined);
    await database?.close().catch(() => undefined);
    // pools resolve end() before their sockets close; a FORCE drop would then kill a
    // closing client and crash the process with an unhandled pool error, so wait first
    await waitForNoSessions(serverUrl, name);
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    database = await openDatabase({ url, maxConnections: 20 });
    await migrate(database);
    pool = new pg.Pool({ connectionString: url, max: 20 });
    // an idle client dropped by the server (DROP DATABASE ... FORCE) must not crash the run
    pool.on('error', (e) => console.error(`bench: idle connection error: ${e.message}`));
    return { name, url, database, pool, drop };
  } catch (e) {
    await drop();
    throw e;
  }
}

async function waitForNoSessions(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (let i = 0; i < 50; i++) {
      const result = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      if ((result.rows[0]?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await client.end();
  }
}

async function adminQuery(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Server facts worth printing next to the figures, since they move them. */
export async function serverFacts(pool: pg.Pool): Promise<string> {
  const rows = await pool.query<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'random_page_cost', 'max_parallel_workers_per_gather') ORDER BY name`,
  );
  return rows.rows.map((r) => `${r.name}=${r.setting}${r.unit ? (/^[0-9]/.test(r.unit) ? ` x ${r.unit}` : r.unit) : ''}`).join(', ');
}
