import { mkdirSync } from 'node:fs';
import { migrate, openDatabase, type Database } from '@tessera/store';
import { bootstrap, buildServer } from '@tessera/server';
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

export async function startCommand(config: StartConfig): Promise<() => Promise<void>> {
  const database = await openConfiguredDatabase(config);
  await migrate(database);
  await bootstrap(database, {
    ...(config.adminEmail ? { adminEmail: config.adminEmail } : {}),
    ...(config.adminPassword ? { adminPassword: config.adminPassword } : {}),
  });
  const app = buildServer({ database, logger: { level: process.env.LOG_LEVEL || 'info' } });
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
