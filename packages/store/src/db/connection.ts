import { Kysely, PostgresDialect, sql } from 'kysely';
import { SerializedPGliteDialect } from './pglite-serialized';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import type { SystemDatabase } from './schema';

export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseConfig {
  /** PostgreSQL connection string; when absent the embedded PGlite is used. */
  url?: string;
  /** PGlite data folder; absent means in memory (tests). */
  dataDir?: string;
  /** pool size for PostgreSQL */
  maxConnections?: number;
}

export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Kysely<SystemDatabase>;
  /**
   * Runs `fn` on one dedicated session that accepts multi-statement scripts without
   * parameters (migrations, DDL). Not for record traffic: that goes through `db`.
   */
  withScriptSession<T>(fn: (run: (script: string) => Promise<void>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// pg returns int8 and numeric as strings by default; counts are int8 and must be numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase(config: DatabaseConfig = {}): Promise<Database> {
  if (config.url) {
    const pool = new pg.Pool({ connectionString: config.url, max: config.maxConnections ?? 10 });
    const db = new Kysely<SystemDatabase>({ dialect: new PostgresDialect({ pool }) });
    await sql`select 1`.execute(db);
    return {
      kind: 'postgres',
      db,
      withScriptSession: async (fn) => {
        const client = await pool.connect();
        try {
          return await fn(async (script) => {
            await client.query(script);
          });
        } finally {
          client.release();
        }
      },
      close: () => db.destroy(),
    };
  }
  const pglite = await PGlite.create({
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    extensions: { pg_trgm },
    parsers: { 20: (v: string) => Number(v) },
  });
  const db = new Kysely<SystemDatabase>({ dialect: new SerializedPGliteDialect({ pglite }) });
  return {
    kind: 'pglite',
    db,
    withScriptSession: (fn) =>
      fn(async (script) => {
        await pglite.exec(script);
      }),
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}
