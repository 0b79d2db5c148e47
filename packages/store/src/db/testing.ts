import { ProblemError } from '@tessera/metadata';
import pg from 'pg';
import { openDatabase, type Database } from './connection';
import { migrate } from '../migrations/runner';

/**
 * A fresh, migrated database for one test file: in-memory PGlite by default, or a new
 * database on the server named by DATABASE_URL (dropped again by `close`). The suite
 * runs once each way in CI.
 */
export async function openTestDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const database = await openDatabase();
    await migrate(database);
    return database;
  }
  const name = `tessera_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const database = await openDatabase({ url: target.toString(), maxConnections: 20 });
  await migrate(database);
  return {
    ...database,
    close: async () => {
      await database.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      // pg's pool.end() resolves before its sockets have closed; forcing the drop while they
      // close makes the server kill them, and pg reports that as an unhandled error.
      for (let i = 0; i < 50; i++) {
        const open = await dropper.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if ((open.rows[0] as { n: number } | undefined)?.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

/**
 * The ProblemError a refused operation rejected with; fails (throws) when the operation
 * succeeded or failed with anything else, so a test asserting a refusal cannot pass by
 * accident.
 */
export async function refusal(operation: Promise<unknown>): Promise<ProblemError> {
  const outcome = await operation.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error('expected the operation to be refused, it succeeded');
  if (!(outcome.error instanceof ProblemError)) throw outcome.error;
  return outcome.error;
}
