import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { PublishedApp } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import { MetadataRepository, RecordRepository, type Database, type SystemDatabase } from '@tessera/store';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { createTenant, dealIds, publishDealApp, type Tenant } from '../lib/deal-app';
import { loadAverage, machine, table, writeSection } from '../lib/report';
import { interleavedSamples, median, ms, percentile, ratio, timed } from '../lib/stats';
import { createTypedBaseline, seedRecords } from './seed';
import { SHAPES, type Shape } from './shapes';

export interface ListOptions {
  serverUrl: string;
  records: number;
  iterations: number;
  warmup: number;
  command: string;
}

interface ShapeResult {
  shape: Shape;
  ours: number[];
  baseline: number[];
  /** ours minus the JS around it: the exact statement the repository sends, through pg */
  statement: number[];
  plan: string;
  baselinePlan: string;
}

const SMALL_RECORDS = 1000;
const ADD_FIELD_REPEATS = 5;
/** per query shape; slow plans stop at this instead of the round count */
const SHAPE_BUDGET_MS = 60_000;
const MIN_ROUNDS = 5;
const STATS_ROUNDS = 50;

/**
 * Benchmark 1: the first page of a filtered, sorted list on an object of a million
 * records, through RecordRepository.list (expression compile + SQL + mapping), against
 * hand-written SQL over a typed table with the equivalent btree indexes; then the time
 * to add a field to that object, next to the same on a 1,000-record object.
 */
export async function runList(options: ListOptions): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await createBenchDatabase(options.serverUrl, 'list');
  console.log(`list: database ${bench.name}`);
  try {
    const tenant = await createTenant(bench.database);
    const big = await publishDealApp(bench.database, tenant, 'crm');
    const small = await publishDealApp(bench.database, tenant, 'small');
    const seeding = await seed(bench, tenant, big, small, options.records);
    const results: ShapeResult[] = [];
    for (const shape of SHAPES) results.push(await measureShape(bench, tenant, big, shape, options));
    const withStats = await statisticsExperiment(bench, tenant, big, options);
    const addField = await measureAddField(bench.database, tenant);
    const facts = await serverFacts(bench.pool);
    await writeSection('list', render(options, seeding, results, withStats, addField, facts, `${loadAtStart} at start, ${loadAverage()} at end`));
    console.log('list: wrote docs/benchmarks.md');
  } finally {
    await bench.drop();
  }
}

interface Seeding {
  recordsMs: number;
  baselineMs: number;
  analyzeMs: number;
}

async function seed(bench: BenchDatabase, tenant: Tenant, big: PublishedApp, small: PublishedApp, count: number): Promise<Seeding> {
  const records = await timed(async () => {
    await seedRecords(bench.pool, tenant.workspaceId, dealIds(big), count, (done) => console.log(`list: seeded ${done} records`));
    await seedRecords(bench.pool, tenant.workspaceId, dealIds(small), SMALL_RECORDS);
  });
  const baseline = await timed(() => createTypedBaseline(bench.pool, dealIds(big)));
  // Freshly loaded tables: set hint bits and the visibility map as autovacuum would, and
  // give the planner statistics (expression indexes get theirs from ANALYZE too).
  const analyze = await timed(async () => {
    await bench.pool.query('VACUUM (ANALYZE) records');
    await bench.pool.query('VACUUM (ANALYZE) deal_typed');
  });
  console.log(`list: seeded in ${ms(records.ms / 1000, 1)} s, baseline table in ${ms(baseline.ms / 1000, 1)} s, vacuum+analyze ${ms(analyze.ms / 1000, 1)} s`);
  return { recordsMs: records.ms, baselineMs: baseline.ms, analyzeMs: analyze.ms };
}

async function measureShape(bench: BenchDatabase, tenant: Tenant, app: PublishedApp, shape: Shape, options: ListOptions): Promise<ShapeResult> {
  const repository = new RecordRepository(bench.database.db, app);
  const ours = () => repository.list(tenant.workspaceId, 'deal', shape.query, { now: new Date(), userId: tenant.userId });
  const baseline = async () => {
    const result = await bench.pool.query(shape.baselineSql, shape.baselineParams);
    const hasMore = result.rows.length > shape.query.limit;
    return { rows: result.rows.slice(0, shape.query.limit), hasMore };
  };
  await assertSameAnswer(shape, await ours(), await baseline());
  const captured = await captureStatement(bench, tenant, app, shape);
  const statement = () => bench.pool.query(captured.sql, [...captured.parameters]);
  const plan = await explain(bench.pool, captured.sql, [...captured.parameters]);
  const baselinePlan = await explain(bench.pool, shape.baselineSql, shape.baselineParams);
  const runs: Record<'ours' | 'baseline' | 'statement', () => Promise<unknown>> = { ours, baseline, statement };
  const names = ['ours', 'baseline', 'statement'] as const;
  const samples = await interleavedSamples(runs, names, {
    warmup: options.warmup,
    iterations: options.iterations,
    minRounds: MIN_ROUNDS,
    budgetMs: SHAPE_BUDGET_MS,
    warmupBudgetMs: SHAPE_BUDGET_MS / 4,
  });
  console.log(
    `list: ${shape.name}: ours p50 ${ms(median(samples.ours))} ms (statement alone ${ms(median(samples.statement))} ms), baseline p50 ${ms(median(samples.baseline))} ms, ratio ${ratio(median(samples.ours), median(samples.baseline))}`,
  );
  return { shape, ...samples, plan, baselinePlan };
}

/** Both sides must answer the same question, or the ratio means nothing. */
async function assertSameAnswer(
  shape: Shape,
  ours: { items: { id: string }[]; nextCursor: string | null },
  baseline: { rows: { id: string }[]; hasMore: boolean },
): Promise<void> {
  const a = ours.items.map((r) => r.id).join(',');
  const b = baseline.rows.map((r) => r.id).join(',');
  if (a !== b || (ours.nextCursor !== null) !== baseline.hasMore) {
    throw new Error(`list: "${shape.name}" answers differ between ours and the baseline:\nours     ${a}\nbaseline ${b}`);
  }
}

/** Runs the same list through a logging kysely to get the exact statement the repository sends. */
async function captureStatement(bench: BenchDatabase, tenant: Tenant, app: PublishedApp, shape: Shape): Promise<CompiledQuery> {
  let captured: CompiledQuery | undefined;
  const db = new Kysely<SystemDatabase>({
    dialect: new PostgresDialect({ pool: bench.pool }),
    log: (event) => {
      if (event.level === 'query') captured = event.query;
    },
  });
  await new RecordRepository(db, app).list(tenant.workspaceId, 'deal', shape.query, { now: new Date(), userId: tenant.userId });
  if (!captured) throw new Error('list: the repository ran no query');
  return captured;
}

async function explain(pool: pg.Pool, text: string, params: unknown[]): Promise<string> {
  const result = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

interface StatsResult {
  shape: Shape;
  ours: number[];
  plan: string;
}

/**
 * The proposed fix for the planner's missing statistics, tried on this database only:
 * PostgreSQL ignores the expression statistics of partial indexes, so the filters on
 * fields are estimated with default selectivities. CREATE STATISTICS on each indexed
 * field's expression (PostgreSQL >= 14) gives the planner real ones; then every shape is
 * measured again through the repository.
 */
async function statisticsExperiment(bench: BenchDatabase, tenant: Tenant, app: PublishedApp, options: ListOptions): Promise<StatsResult[]> {
  const object = app.document.objects.find((o) => o.key === 'deal')!;
  for (const field of object.fields.filter((f) => f.indexed)) {
    // ids were checked by fieldSqlExpression against ID_PATTERN; the name is our own
    await bench.pool.query(`CREATE STATISTICS bench_stat_${field.key} ON (${fieldSqlExpression(field)}) FROM records`);
  }
  await bench.pool.query('ANALYZE records');
  const repository = new RecordRepository(bench.database.db, app);
  const results: StatsResult[] = [];
  for (const shape of SHAPES) {
    const ours = () => repository.list(tenant.workspaceId, 'deal', shape.query, { now: new Date(), userId: tenant.userId });
    const deadline = Date.now() + SHAPE_BUDGET_MS / 2;
    for (let i = 0; i < options.warmup && Date.now() < deadline; i++) await ours();
    const samples: number[] = [];
    for (let i = 0; i < STATS_ROUNDS && (i < MIN_ROUNDS || Date.now() < deadline); i++) samples.push((await timed(ours)).ms);
    const captured = await captureStatement(bench, tenant, app, shape);
    const plan = await explain(bench.pool, captured.sql, [...captured.parameters]);
    console.log(`list: with expression statistics: ${shape.name}: ours p50 ${ms(median(samples))} ms`);
    results.push({ shape, ours: samples, plan });
  }
  return results;
}

interface AddFieldResult {
  big: number[];
  small: number[];
  bigIndexed: number;
  smallIndexed: number;
}

/**
 * saveDraft with one more field + publish, repeated on the million-record object and on
 * the 1,000-record one. A plain field must cost the same on both (no rewrite); an indexed
 * field is measured once each for contrast, since building its index reads every row.
 */
async function measureAddField(database: Database, tenant: Tenant): Promise<AddFieldResult> {
  const metadata = new MetadataRepository(database.db);
  const add = async (appKey: string, key: string, indexed: boolean) => {
    const draft = await metadata.getDraft(tenant.workspaceId, appKey);
    const object = draft.objects.find((o) => o.key === 'deal');
    if (!object) throw new Error(`no deal object in ${appKey}`);
    object.fields.push({ key, type: 'text', label: { en: key, zh: key }, indexed });
    const run = await timed(async () => {
      await metadata.saveDraft(tenant.actor, appKey, draft);
      await metadata.publish(tenant.actor, appKey);
    });
    return run.ms;
  };
  const result: AddFieldResult = { big: [], small: [], bigIndexed: 0, smallIndexed: 0 };
  for (let i = 0; i < ADD_FIELD_REPEATS; i++) {
    result.big.push(await add('crm', `extra_${i}`, false));
    result.small.push(await add('small', `extra_${i}`, false));
  }
  result.bigIndexed = await add('crm', 'extra_indexed', true);
  result.smallIndexed = await add('small', 'extra_indexed', true);
  console.log(`list: add field: 1M records median ${ms(median(result.big))} ms, 1k records median ${ms(median(result.small))} ms`);
  return result;
}

function render(options: ListOptions, seeding: Seeding, results: ShapeResult[], withStats: StatsResult[], addField: AddFieldResult, facts: string, load: string): string {
  const rows = results.map((r) => {
    const o50 = median(r.ours);
    const b50 = median(r.baseline);
    const s50 = median(r.statement);
    return [r.shape.name, String(r.ours.length), ms(o50), ms(percentile(r.ours, 95)), ms(b50), ms(percentile(r.baseline, 95)), `**${ratio(o50, b50)}**`, ms(s50), ratio(s50, b50)];
  });
  const plans = results
    .map((r) => `#### ${r.shape.name}\n\nOurs:\n\n\`\`\`\n${r.plan}\n\`\`\`\n\nBaseline:\n\n\`\`\`\n${r.baselinePlan}\n\`\`\``)
    .join('\n\n');
  const list = (values: number[]) => values.map((v) => ms(v, 1)).join(', ');
  return `## 1. List: filter + sort + first page of 50 on ${options.records.toLocaleString('en')} records

- Command: \`${options.command}\`
- Date: ${new Date().toISOString()}
- Machine: ${machine()}; 1-minute load average ${load}
- PostgreSQL: ${facts}

**What is measured.** The first page (50 rows, plus one to know whether there is a next
page) of a \`deal\` object holding ${options.records.toLocaleString('en')} records. *Ours* is
\`RecordRepository.list\` — the real code path: expression type-check and compile to SQL,
the statement over the generic \`records\` table (values in \`data\` jsonb by field id,
per-field partial expression indexes), mapping rows back to API records keyed by field key.
*Baseline* is hand-written SQL through the pg driver over \`deal_typed\`, a table with one
typed column per field holding the same rows, with the equivalent btree index per indexed
field (\`(column, id)\`). Both run on one connection each, alternately, ${options.warmup}
warm-up rounds then ${options.iterations} measured rounds (or as many as fit in
${SHAPE_BUDGET_MS / 1000} s, at least ${MIN_ROUNDS}, for a slow plan); each result set is checked to
be the same rows in the same order before timing. Target: p50 ratio <= 1.3.

${table(['query', 'rounds', 'ours p50 (ms)', 'ours p95 (ms)', 'baseline p50 (ms)', 'baseline p95 (ms)', 'p50 ratio', 'our statement alone p50 (ms)', 'statement / baseline'], rows)}

The last two columns split the ratio: *our statement alone* is the exact SQL the repository
sent, run through the pg driver with no compile and no mapping, so its ratio is what the
generic jsonb storage costs in the database, and the rest is the JavaScript around it.

Seeding (by SQL, \`generate_series\`): ${ms(seeding.recordsMs / 1000, 1)} s for the records (indexes in place),
${ms(seeding.baselineMs / 1000, 1)} s for the typed copy and its indexes, ${ms(seeding.analyzeMs / 1000, 1)} s for VACUUM (ANALYZE) of both.

### Experiment: the same lists with expression statistics

PostgreSQL does not use the statistics ANALYZE gathers for the expressions of *partial*
indexes (selfuncs.c skips partial indexes when it looks for expression statistics), so
every filter on a field is estimated with a default selectivity (0.5% for equality,
1/3 for a range), whatever the data. The experiment adds
\`CREATE STATISTICS ... ON (<field expression>) FROM records\` for each indexed field on
this database only, runs ANALYZE and measures ours again (up to ${STATS_ROUNDS} rounds, not
interleaved with the baseline, whose figure is the one from the table above):

${table(
  ['query', 'ours p50 before (ms)', 'ours p50 with statistics (ms)', 'baseline p50 (ms)', 'ratio with statistics'],
  withStats.map((w, i) => {
    const before = results[i]!;
    return [w.shape.name, ms(median(before.ours)), ms(median(w.ours)), ms(median(before.baseline)), ratio(median(w.ours), median(before.baseline))];
  }),
)}

<details><summary>plans with statistics</summary>

${withStats.map((w) => `#### ${w.shape.name}\n\n\`\`\`\n${w.plan}\n\`\`\``).join('\n\n')}

</details>

### Adding a field

\`saveDraft\` with one more field, then \`publish\` (ms, ${ADD_FIELD_REPEATS} runs each):

${table(
  ['object', 'plain text field: median', 'runs', 'indexed text field (one run)'],
  [
    [`${options.records.toLocaleString('en')} records`, `**${ms(median(addField.big), 1)}**`, list(addField.big), ms(addField.bigIndexed, 1)],
    [`${SMALL_RECORDS.toLocaleString('en')} records`, `**${ms(median(addField.small), 1)}**`, list(addField.small), ms(addField.smallIndexed, 1)],
  ],
)}

A plain field is metadata only: no row is rewritten, so the time does not grow with the
object. An *indexed* field builds its partial expression index inside publish, which reads
every row of the object; that is the one part that grows with the data.

### Plans (EXPLAIN ANALYZE, BUFFERS; ours is the exact statement the repository sent)

<details><summary>plans</summary>

${plans}

</details>`;
}
