import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { ID_PATTERN, ProblemError, type AppDocument, type FieldDef, type FieldType, type ObjectDef } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import type { SystemDatabase } from '../db/schema';
import { sqlState } from '../common/actor';

interface WantedIndex {
  name: string;
  objectId: string;
  fieldId: string;
  kind: 'index' | 'unique';
  ddl: string;
  /**
   * Expression statistics for an indexed field. PostgreSQL does not use the statistics it
   * gathers for the expressions of *partial* indexes, so without these every filter on a
   * field is estimated with a default selectivity: a rare value sorted by another field
   * then walks the whole sort index (measured: 2.8 s instead of 0.4 ms on 1M records).
   */
  statistics: string | null;
  fieldKey: string;
  objectKey: string;
}

/**
 * Keeps one partial expression index per indexed or unique field of a published
 * document, over the shared `records` table. The index expression is exactly the one
 * the SQL compiler reads the field with, so filters and sorts on it can use it; an
 * expression statistics object per indexed field gives the planner its value distribution.
 *
 * DDL cannot take bind parameters, so the object and field ids are checked against
 * ID_PATTERN before they are written into the statement.
 */
export async function syncFieldIndexes(db: Kysely<SystemDatabase>, workspaceId: string, document: AppDocument): Promise<void> {
  const wanted = wantedIndexes(workspaceId, document);
  const objectIds = document.objects.map((o) => o.id).filter((id): id is string => typeof id === 'string');
  if (objectIds.length === 0) return;
  const existing = await db
    .selectFrom('field_indexes')
    .select(['name'])
    .where('workspace_id', '=', workspaceId)
    .where('object_id', 'in', objectIds)
    .execute();
  const existingNames = new Set(existing.map((r) => r.name));
  const wantedNames = new Set(wanted.map((w) => w.name));

  for (const name of existingNames) {
    if (wantedNames.has(name)) continue;
    await sql.raw(`DROP INDEX IF EXISTS ${checkedName(name)}`).execute(db);
    await sql.raw(`DROP STATISTICS IF EXISTS ${statisticsName(name)}`).execute(db);
    await db.deleteFrom('field_indexes').where('workspace_id', '=', workspaceId).where('name', '=', name).execute();
  }
  for (const index of wanted) {
    if (existingNames.has(index.name)) continue;
    // A unique index is the guarantee itself, so it exists when the version goes live. A
    // plain index is only speed: it is built after commit, concurrently (buildPendingIndexes).
    if (index.kind === 'unique') await createIndex(db, index);
    await db
      .insertInto('field_indexes')
      .values({
        workspace_id: workspaceId,
        name: index.name,
        object_id: index.objectId,
        field_id: index.fieldId,
        kind: index.kind,
        built_at: index.kind === 'unique' ? new Date() : null,
      })
      .execute();
  }
}

/**
 * Builds the plain field indexes of `document` that are wanted but not built, each with
 * CREATE INDEX CONCURRENTLY outside any transaction: the build reads the whole table but
 * never blocks writers (a plain CREATE INDEX would hold a lock that stops every write to
 * `records`, all objects and tenants, for the length of the build). Also run after a
 * crash left some pending: the next publish or rollback of the app builds them. Returns
 * the names it could not build (left pending, their half-built index dropped).
 * First brings the expression statistics of grouped fields in line with the document
 * (syncFieldStatistics); one ANALYZE at the end fills whatever statistics are new.
 */
export async function buildPendingIndexes(db: Kysely<SystemDatabase>, workspaceId: string, document: AppDocument): Promise<string[]> {
  // after commit, statistics are only speed: a failure must not fail a publish that is live
  const newStatistics = await syncFieldStatistics(db, workspaceId, document).catch(() => false);
  const wanted = wantedIndexes(workspaceId, document).filter((w) => w.kind === 'index');
  if (wanted.length === 0) {
    if (newStatistics) await analyzeRecords(db);
    return [];
  }
  const pending = await db
    .selectFrom('field_indexes')
    .select('name')
    .where('workspace_id', '=', workspaceId)
    .where('built_at', 'is', null)
    .where(
      'name',
      'in',
      wanted.map((w) => w.name),
    )
    .execute();
  const pendingNames = new Set(pending.map((p) => p.name));
  const failed: string[] = [];
  let built = false;
  for (const index of wanted) {
    if (!pendingNames.has(index.name)) continue;
    try {
      // an earlier interrupted build leaves an invalid index under the same name
      await sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${checkedName(index.name)}`).execute(db);
      await sql.raw(index.ddl.replace(/^CREATE INDEX IF NOT EXISTS /, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS ')).execute(db);
      if (index.statistics) await sql.raw(index.statistics).execute(db);
      await db.updateTable('field_indexes').set({ built_at: new Date() }).where('workspace_id', '=', workspaceId).where('name', '=', index.name).execute();
      built = true;
    } catch {
      await sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${checkedName(index.name)}`).execute(db).catch(() => undefined);
      failed.push(index.name);
    }
  }
  if (built || newStatistics) await analyzeRecords(db);
  return failed;
}

/**
 * New statistics are empty until ANALYZE fills them; the planner should not wait for
 * autovacuum. ANALYZE samples 30,000 rows whatever the table size and does not block
 * reads or writes. If it fails, autovacuum's next analyze of `records` fills them.
 */
async function analyzeRecords(db: Kysely<SystemDatabase>): Promise<void> {
  await sql`ANALYZE records`.execute(db).catch(() => undefined);
}

/**
 * Field types reports group by. GROUP BY over a JSON expression the planner knows nothing
 * about is planned for one group per record: it sorts a million rows (to disk) where a
 * hash table of a few hundred groups would do, and the inflated cost switches on JIT.
 * Not boolean: the planner assumes two values for a boolean expression without
 * statistics, and its `::boolean` cast is the one expression here that could fail on a
 * stored value, which would fail every ANALYZE of `records`, for all workspaces.
 */
const GROUPED_FIELD_TYPES = new Set<FieldType>(['select', 'multiselect', 'user', 'relation', 'date', 'datetime']);

const STATISTICS_TAG = 'tessera field statistics';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface WantedStatistics {
  name: string;
  objectId: string;
  ddl: string;
  comment: string;
}

/**
 * Keeps an expression statistics object (`CREATE STATISTICS ... ON (<field expression>)
 * FROM records`) for every live field of a grouped type that has no index of its own (an
 * indexed field gets one with its index), and drops those of fields deleted or changed.
 * Creating one is catalog-only: no table scan, no lock that stops writers; the values are
 * filled by the next ANALYZE (the caller runs one when this returns true).
 *
 * The statistics have no table of their own: each carries a comment naming its workspace,
 * object and field, so the ones of this document's objects can be found and pruned.
 * Run after commit: a failure only costs speed and the next publish retries.
 */
async function syncFieldStatistics(db: Kysely<SystemDatabase>, workspaceId: string, document: AppDocument): Promise<boolean> {
  if (!UUID.test(workspaceId)) throw new Error(`refusing unsafe workspace id in DDL: ${JSON.stringify(workspaceId)}`);
  const wanted = wantedStatistics(workspaceId, document);
  const objectIds = new Set(document.objects.map((o) => o.id).filter((id): id is string => typeof id === 'string'));
  const existing = await sql<{ name: string; description: string }>`
    SELECT s.stxname AS name, d.description FROM pg_statistic_ext s
    JOIN pg_description d ON d.objoid = s.oid AND d.classoid = 'pg_statistic_ext'::regclass
    WHERE d.description LIKE ${`${STATISTICS_TAG} ${workspaceId} %`}`.execute(db);
  const existingNames = new Set<string>();
  const wantedNames = new Set(wanted.map((w) => w.name));
  for (const row of existing.rows) {
    const objectId = row.description.split(' ')[4] ?? '';
    if (!objectIds.has(objectId)) continue; // another app of the workspace
    existingNames.add(row.name);
    if (!wantedNames.has(row.name)) await sql.raw(`DROP STATISTICS IF EXISTS ${checkedStatisticsName(row.name)}`).execute(db);
  }
  let created = false;
  for (const statistics of wanted) {
    if (existingNames.has(statistics.name)) continue;
    try {
      await db.transaction().execute(async (trx) => {
        await sql.raw(statistics.ddl).execute(trx);
        await sql.raw(statistics.comment).execute(trx);
      });
      created = true;
    } catch {
      // e.g. a concurrent publish created it first; it is only speed, the next publish retries
    }
  }
  return created;
}

function wantedStatistics(workspaceId: string, document: AppDocument): WantedStatistics[] {
  const result: WantedStatistics[] = [];
  for (const object of document.objects) {
    if (object.deleted || !object.id) continue;
    for (const field of object.fields) {
      if (field.deleted || !field.id || field.encrypted || !GROUPED_FIELD_TYPES.has(field.type)) continue;
      if (field.indexed && !field.unique) continue; // its index brings the same statistics
      const objectId = checkedId(object.id);
      const fieldId = checkedId(field.id);
      const expression = fieldSqlExpression(field);
      const digest = createHash('sha256').update(`${workspaceId}/${objectId}/${fieldId}/${expression}`).digest('hex').slice(0, 24);
      const name = `rst_${digest}`;
      result.push({
        name,
        objectId,
        ddl: `CREATE STATISTICS IF NOT EXISTS ${name} ON (${expression}) FROM records`,
        comment: `COMMENT ON STATISTICS ${name} IS '${STATISTICS_TAG} ${workspaceId} ${objectId} ${fieldId}'`,
      });
    }
  }
  return result;
}

function checkedStatisticsName(name: string): string {
  if (!/^rst_[0-9a-f]{24}$/.test(name)) throw new Error(`refusing unsafe statistics name: ${JSON.stringify(name)}`);
  return name;
}

async function createIndex(db: Kysely<SystemDatabase>, index: WantedIndex): Promise<void> {
  try {
    await sql.raw(index.ddl).execute(db);
  } catch (e) {
    if (sqlState(e) === '23505') {
      throw new ProblemError('conflict', `Field "${index.fieldKey}" of "${index.objectKey}" cannot be made unique: existing records share a value`, [
        { field: `${index.objectKey}.${index.fieldKey}`, code: 'duplicate_values', message: 'existing records have duplicate values; fix them first' },
      ]);
    }
    throw e;
  }
}

function wantedIndexes(workspaceId: string, document: AppDocument): WantedIndex[] {
  const result: WantedIndex[] = [];
  for (const object of document.objects) {
    if (object.deleted || !object.id) continue;
    for (const field of object.fields) {
      if (field.deleted || !field.id) continue;
      if (field.unique) result.push(indexFor(workspaceId, object, field, 'unique'));
      else if (field.indexed) result.push(indexFor(workspaceId, object, field, 'index'));
    }
  }
  return result;
}

function indexFor(workspaceId: string, object: ObjectDef, field: FieldDef, kind: 'index' | 'unique'): WantedIndex {
  const objectId = checkedId(object.id!);
  const fieldId = checkedId(field.id!);
  const expression = fieldSqlExpression(field);
  const digest = createHash('sha256').update(`${workspaceId}/${objectId}/${fieldId}/${kind}/${expression}`).digest('hex').slice(0, 24);
  const name = `${kind === 'unique' ? 'rux' : 'rix'}_${digest}`;
  // (workspace_id, value, id): equality/range on the value and keyset order by (value, id)
  const columns = kind === 'unique' ? `workspace_id, ${expression}` : `workspace_id, ${expression}, id`;
  const ddl = `CREATE ${kind === 'unique' ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${name} ON records (${columns}) WHERE object_id = '${objectId}' AND deleted_at IS NULL`;
  const statistics = kind === 'index' ? `CREATE STATISTICS IF NOT EXISTS ${statisticsName(name)} ON (${expression}) FROM records` : null;
  return { name, objectId, fieldId, kind, ddl, statistics, fieldKey: field.key, objectKey: object.key };
}

function checkedId(id: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`refusing unsafe id in DDL: ${JSON.stringify(id)}`);
  return id;
}

function checkedName(name: string): string {
  if (!/^r[iu]x_[0-9a-f]{24}$/.test(name)) throw new Error(`refusing unsafe index name: ${JSON.stringify(name)}`);
  return name;
}

/** The statistics object that goes with an index, named after it. */
function statisticsName(indexName: string): string {
  return checkedName(indexName).replace(/^r[iu]x_/, 'rsx_');
}
