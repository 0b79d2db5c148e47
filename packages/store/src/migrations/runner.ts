import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from '../db/connection';

/** The repository's top-level migrations/ folder: ordered, plain SQL, applied once each. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../migrations');

export interface Migration {
  name: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * Applies the migrations not yet recorded, each in one transaction together with its
 * bookkeeping row, so a crash leaves all of a migration or none of it. A session-level
 * advisory lock keeps two servers starting at once from applying the same migration.
 */
export async function migrate(database: Database, migrations = loadMigrations()): Promise<string[]> {
  const applied: string[] = [];
  await database.withScriptSession(async (run) => {
    await run('SELECT pg_advisory_lock(7462001)');
    try {
      await run('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const m of migrations) {
        if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(m.name)) throw new Error(`bad migration name ${m.name}`);
        const done = await sql<{ n: number }>`SELECT count(*)::int AS n FROM schema_migrations WHERE name = ${m.name}`.execute(database.db);
        if ((done.rows[0]?.n ?? 0) > 0) continue;
        try {
          // The name is checked against the pattern above, so quoting it into the script is safe.
          await run(`BEGIN;\n${m.sql}\n;\nINSERT INTO schema_migrations (name) VALUES ('${m.name}');\nCOMMIT;`);
        } catch (e) {
          await run('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
        }
        applied.push(m.name);
      }
    } finally {
      await run('SELECT pg_advisory_unlock(7462001)');
    }
  });
  return applied;
}
