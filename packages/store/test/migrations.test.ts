import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrate, openTestDatabase } from '../src/index';

describe('migrations', () => {
  it('applies every migration once and is safe to run again', async () => {
    const database = await openTestDatabase();
    try {
      const again = await migrate(database);
      expect(again).toEqual([]);
      const tables = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`.execute(database.db);
      const names = tables.rows.map((r) => r.table_name);
      expect(names).toEqual(expect.arrayContaining(['records', 'apps', 'app_versions', 'users', 'workspaces']));
      // every tenant table carries workspace_id
      for (const t of names.filter((n) => n !== 'schema_migrations' && n !== 'workspaces')) {
        const cols = await sql<{ column_name: string }>`
          SELECT column_name FROM information_schema.columns WHERE table_name = ${t} AND column_name = 'workspace_id'`.execute(database.db);
        expect(cols.rows, `${t} has workspace_id`).toHaveLength(1);
      }
      const trgm = await sql<{ ok: boolean }>`SELECT 'CRM 客户管理' ILIKE '%客户%' AS ok`.execute(database.db);
      expect(trgm.rows[0]?.ok).toBe(true);
    } finally {
      await database.close();
    }
  });
});
