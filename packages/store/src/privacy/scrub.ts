import { sql, type Kysely, type Transaction } from 'kysely';
import type { SystemDatabase } from '../db/schema';

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

export const ERASED = '[erased]';

interface TextColumn {
  table: string;
  column: string;
  json: boolean;
}

/** Tables of metadata and bookkeeping: an app's design is not personal data, and rewriting it would break the app. */
const NOT_PERSONAL_TABLES = new Set(['workspaces', 'apps', 'app_versions', 'field_indexes', 'autonumber_counters']);
/** Columns holding codes and keys, never free text about a person. */
const CODE_COLUMNS = new Set([
  'object_id', 'kind', 'status', 'action', 'source', 'key', 'app_key', 'flow_key', 'node_id', 'role_key', 'target_type',
  'token_hash', 'password_hash', 'idempotency_key', 'job_kind', 'arrived_by', 'locale', 'access', 'result_variable',
]);
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Every text and jsonb column of every workspace-scoped table, found in the catalog, so a
 * table added later is covered without changing this code.
 */
export async function personalTextColumns(db: Db, options: { includeUsers?: boolean } = {}): Promise<TextColumn[]> {
  const rows = await sql<{ table_name: string; column_name: string; data_type: string }>`
    SELECT c.table_name, c.column_name, c.data_type
    FROM information_schema.columns c
    WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'jsonb')
      AND EXISTS (SELECT 1 FROM information_schema.columns w
                  WHERE w.table_schema = c.table_schema AND w.table_name = c.table_name AND w.column_name = 'workspace_id')
    ORDER BY c.table_name, c.column_name`.execute(db);
  return rows.rows
    .filter((r) => IDENTIFIER.test(r.table_name) && IDENTIFIER.test(r.column_name))
    .filter((r) => !NOT_PERSONAL_TABLES.has(r.table_name) && !CODE_COLUMNS.has(r.column_name))
    .filter((r) => options.includeUsers || r.table_name !== 'users')
    .map((r) => ({ table: r.table_name, column: r.column_name, json: r.data_type === 'jsonb' }));
}

/**
 * Replaces each occurrence of the strings (case-insensitively, as whole words where they
 * begin or end with a letter or digit, so erasing li@x.cn leaves wangli@x.cn alone) by
 * `[erased]` in every personal text column of the workspace. Returns rows changed per table.
 */
export async function scrubStrings(db: Db, workspaceId: string, strings: string[]): Promise<Record<string, number>> {
  const wanted = usable(strings);
  const changed: Record<string, number> = {};
  if (wanted.length === 0) return changed;
  const byTable = new Map<string, TextColumn[]>();
  for (const c of await personalTextColumns(db)) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
  const plain = alternation(wanted, false);
  const json = alternation(wanted, true);
  for (const [table, columns] of byTable) {
    // one statement per table, so each row is counted once whatever number of its columns held a mention
    const text = (c: TextColumn) => sql.raw(`"${c.column}"${c.json ? '::text' : ''}`);
    const matches = (c: TextColumn) => sql`${text(c)} ~* ${c.json ? json : plain}`;
    const sets = columns.map((c) => {
      const replaced = sql`regexp_replace(${text(c)}, ${c.json ? json : plain}, ${ERASED}, 'gi')`;
      return sql`${sql.raw(`"${c.column}"`)} = CASE WHEN ${matches(c)} THEN ${c.json ? sql`${replaced}::jsonb` : replaced} ELSE ${sql.raw(`"${c.column}"`)} END`;
    });
    const result = await sql`UPDATE ${sql.raw(`"${table}"`)} SET ${sql.join(sets, sql`, `)}
      WHERE workspace_id = ${workspaceId} AND (${sql.join(columns.map(matches), sql` OR `)})`.execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    if (n > 0) changed[table] = n;
  }
  return changed;
}

/** Where any of the strings still appears (case-insensitive substring) in the workspace's rows: `table.column` -> rows. */
export async function findStrings(db: Db, workspaceId: string, strings: string[], options: { includeUsers?: boolean } = {}): Promise<Record<string, number>> {
  const wanted = usable(strings);
  const found: Record<string, number> = {};
  if (wanted.length === 0) return found;
  for (const c of await personalTextColumns(db, options)) {
    const target = sql.raw(`"${c.table}"."${c.column}"${c.json ? '::text' : ''}`);
    const needles = c.json ? wanted.map((s) => JSON.stringify(s).slice(1, -1)) : wanted;
    const result = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.raw(`"${c.table}"`)}
      WHERE workspace_id = ${workspaceId} AND (${sql.join(needles.map((s) => sql`strpos(lower(${target}), lower(${s})) > 0`), sql` OR `)})`.execute(db);
    const n = result.rows[0]?.n ?? 0;
    if (n > 0) found[`${c.table}.${c.column}`] = n;
  }
  return found;
}

/** Blank and one-character strings would erase half the database. */
function usable(strings: string[]): string[] {
  return [...new Set(strings.map((s) => s.trim()).filter((s) => [...s].length >= 2))];
}

/** One regular expression for all the strings, as they appear in plain text or inside JSON text. */
function alternation(strings: string[], json: boolean): string {
  return strings
    .map((s) => (json ? JSON.stringify(s).slice(1, -1) : s))
    .sort((a, b) => b.length - a.length)
    .map(bounded)
    .join('|');
}

const WORDISH = /[A-Za-z0-9]/;

function bounded(text: string): string {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // not glued to more of an address or word; a full stop ending a sentence is not glue
  const before = WORDISH.test(text[0]!) ? '(?<![A-Za-z0-9._%+-])' : '';
  const after = WORDISH.test(text[text.length - 1]!) ? '(?![A-Za-z0-9_%+-]|[.@][A-Za-z0-9])' : '';
  return `${before}${escaped}${after}`;
}
