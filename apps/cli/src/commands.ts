import { mkdirSync } from 'node:fs';
import { MetadataRepository, migrate, openDatabase, type Database } from '@tessera/store';
import { bootstrap, buildServer, createWorkflowEngine, startWorkers, type WorkerSettings } from '@tessera/server';
import type { StartConfig } from './config';

/** PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite in the data folder. */
export async function openConfiguredDatabase(config: StartConfig): Promise<Database> {
  if (config.databaseUrl) return openDatabase({ url: config.databaseUrl });
  mkdirSync(config.dataDir, { recursive: true });
  return openDatabase({ dataDir: config.dataDir });
}

export async function migrateCommand(config: StartConfig): Promise<void> {
  const database = await openConfiguredDatabase(config);
  try {
    const applied = await migrate(database);
    console.log(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'The database is up to date.');
  } finally {
    await database.close();
  }
}

/**
 * The embedded database runs its statements in this thread, one at a time, and each blocks
 * the event loop while it runs: one worker slot is all it can use, and polling less often
 * when idle keeps the loop free for requests and signals (tsx, which runs the CLI, kills a
 * child that does not answer a signal within 60 ms). PostgreSQL takes the configured slots.
 */
function workerSettings(database: Database, config: StartConfig): WorkerSettings {
  if (database.kind === 'pglite') return { concurrency: 1, pollMs: 500, startAfterMs: 2000 };
  return { concurrency: config.workerConcurrency };
}

export async function startCommand(config: StartConfig): Promise<() => Promise<void>> {
  const database = await openConfiguredDatabase(config);
  await migrate(database);
  await bootstrap(database, {
    ...(config.adminEmail ? { adminEmail: config.adminEmail } : {}),
    ...(config.adminPassword ? { adminPassword: config.adminPassword } : {}),
  });
  const app = buildServer({
    database,
    logger: { level: process.env.LOG_LEVEL || 'info' },
    // stopped with the server: app.close() lets running flow steps commit before the database closes
    workers: config.workers ? workerSettings(database, config) : false,
    ...(config.flowStepsPerTransaction ? { flowStepsPerTransaction: config.flowStepsPerTransaction } : {}),
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const where = database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL';
  console.log(`Tessera is listening on http://localhost:${port} (database: ${where}); API docs at http://localhost:${port}/docs`);
  let stopping: Promise<void> | null = null;
  return () => {
    // in-flight requests finish before the database closes
    stopping ??= app.close().then(() => database.close());
    return stopping;
  };
}

/**
 * Flow workers only, no HTTP: more of them on one PostgreSQL database scale flow execution
 * out (jobs are claimed with FOR UPDATE SKIP LOCKED, so each step runs once). The database
 * must be migrated (`tessera migrate` or a `start`). Stopping lets the running steps commit.
 */
export async function workerCommand(config: StartConfig): Promise<() => Promise<void>> {
  if (!config.databaseUrl) {
    // the embedded database belongs to one process: its flows run inside `tessera start`
    throw new Error('tessera worker needs PostgreSQL (DATABASE_URL); with the embedded database, `tessera start` runs the flow workers');
  }
  const database = await openConfiguredDatabase(config);
  const engine = createWorkflowEngine(database, new MetadataRepository(database.db), config.flowStepsPerTransaction ? { stepsPerTransaction: config.flowStepsPerTransaction } : {});
  const workers = startWorkers(engine, { concurrency: config.workerConcurrency });
  console.log(`Tessera flow worker running on PostgreSQL, ${config.workerConcurrency} steps at once`);
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= workers.stop().then(() => database.close());
    return stopping;
  };
}
