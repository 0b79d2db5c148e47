import type pg from 'pg';
import type { PublishedApp } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import { MetadataRepository, unrestrictedPolicy } from '@tessera/store';
import { compileReport, runReport, type ReportDef, type ReportResult } from '@tessera/reports';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { createTenant, dealIds, publishDealApp, STAGES, type Tenant } from '../lib/deal-app';
import { loadAverage, machine, table, writeSection } from '../lib/report';
import { interleavedSamples, median, ms, ratio, timed } from '../lib/stats';
import { createTypedBaseline, seedRecords } from '../list/seed';

export interface ReportsBenchOptions {
  serverUrl: string;
  records: number;
  iterations: number;
  warmup: number;
  command: string;
}

const env = { now: new Date('2024-06-15T04:00:00.000Z'), timezone: 'Asia/Shanghai' };
/** per shape; a slow plan stops at this instead of the round count */
const SHAPE_BUDGET_MS = 90_000;
const MIN_ROUNDS = 5;

interface Shape {
  name: string;
  report: ReportDef;
  /** the same question over the typed table, written by hand */
  baselineSql: string;
  baselineParams: unknown[];
  /** the figures both answers must agree on: [group key, value] pairs */
  ours(result: ReportResult): string[];
  baseline(rows: Record<string, unknown>[]): string[];
}

const money = (v: unknown) => (v === null || v === undefined ? 'null' : Number(v).toFixed(2));

const SHAPES: Shape[] = [
  {
    name: 'grouped: count and sum by stage',
    report: {
      key: 'by_stage',
      name: { en: 'By stage' },
      kind: 'summary',
      object: 'deal',
      dimensions: [{ field: 'stage' }],
      measures: [
        { key: 'n', aggregate: 'count' },
        { key: 'total', aggregate: 'sum', field: 'amount' },
      ],
    },
    baselineSql: `SELECT stage, count(*) AS n, sum(amount) AS total FROM deal_typed GROUP BY stage ORDER BY array_position($1::text[], stage::text), stage`,
    baselineParams: [STAGES],
    ours: (r) => r.rows.map((x) => `${String(x.values.stage)} ${String(x.values.n)} ${money(x.values.total)}`),
    baseline: (rows) => rows.map((x) => `${String(x.stage)} ${String(x.n)} ${money(x.total)}`),
  },
  {
    name: 'time series: 2024 by month, month-over-month change',
    report: {
      key: 'monthly',
      name: { en: 'Monthly' },
      kind: 'timeseries',
      object: 'deal',
      filter: { between: [{ var: 'close_date' }, '2024-01-01', '2024-12-31'] },
      measures: [
        { key: 'n', aggregate: 'count' },
        { key: 'total', aggregate: 'sum', field: 'amount' },
      ],
      timeseries: { dateField: 'close_date', bucket: 'month', compare: 'previous' },
    },
    baselineSql: `SELECT to_char(month, 'YYYY-MM-DD') AS month, n, total, (total - lag(total) OVER (ORDER BY month)) / NULLIF(lag(total) OVER (ORDER BY month), 0) AS change
      FROM (SELECT date_trunc('month', close_date)::date AS month, count(*) AS n, sum(amount) AS total FROM deal_typed
            WHERE close_date BETWEEN $1 AND $2 GROUP BY 1) m ORDER BY month`,
    baselineParams: ['2024-01-01', '2024-12-31'],
    ours: (r) => r.rows.map((x) => `${String(x.values.period)} ${String(x.values.n)} ${money(x.values.total)}`),
    baseline: (rows) => rows.map((x) => `${String(x.month)} ${String(x.n)} ${money(x.total)}`),
  },
  {
    name: 'pivot: sum by stage × owner',
    report: {
      key: 'pivot',
      name: { en: 'Pivot' },
      kind: 'pivot',
      object: 'deal',
      dimensions: [{ field: 'owner' }, { field: 'stage' }],
      measures: [{ key: 'total', aggregate: 'sum', field: 'amount' }],
    },
    baselineSql: `SELECT owner_id::text AS owner, stage, sum(amount) AS total FROM deal_typed GROUP BY owner_id, stage
      ORDER BY owner_id::text COLLATE "C", array_position($1::text[], stage::text), stage`,
    baselineParams: [STAGES],
    ours: (r) => r.rows.map((x) => `${String(x.values.owner)} ${String(x.values.stage)} ${money(x.values.total)}`),
    baseline: (rows) => rows.map((x) => `${String(x.owner)} ${String(x.stage)} ${money(x.total)}`),
  },
  {
    name: 'funnel: reached count per stage with conversion',
    report: {
      key: 'funnel',
      name: { en: 'Funnel' },
      kind: 'funnel',
      object: 'deal',
      funnel: { stageField: 'stage', stages: ['new', 'qualified', 'proposal', 'negotiation', 'won'] },
    },
    baselineSql: `WITH s AS (SELECT value, pos FROM unnest($1::text[]) WITH ORDINALITY AS s(value, pos)),
      c AS (SELECT s.value AS stage, s.pos, count(d.stage) AS n FROM s LEFT JOIN deal_typed d ON d.stage = s.value GROUP BY s.value, s.pos),
      r AS (SELECT *, sum(n) OVER (ORDER BY pos ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS reached FROM c)
      SELECT stage, n, reached, reached / NULLIF(lag(reached) OVER (ORDER BY pos), 0) AS conversion,
             reached / NULLIF(first_value(reached) OVER (ORDER BY pos), 0) AS overall FROM r ORDER BY pos`,
    baselineParams: [['new', 'qualified', 'proposal', 'negotiation', 'won']],
    ours: (r) => r.rows.map((x) => `${String(x.values.stage)} ${String(x.values.count)} ${String(x.values.reached)}`),
    baseline: (rows) => rows.map((x) => `${String(x.stage)} ${String(x.n)} ${String(x.reached)}`),
  },
];

interface ShapeResult {
  shape: Shape;
  ours: number[];
  statement: number[];
  baseline: number[];
  plan: string;
  baselinePlan: string;
}

/**
 * Reports over a million deals: runReport (validate, compile, one statement, read into
 * a ReportResult) against hand-written SQL over a typed table holding the same deals
 * with the same indexes, for four shapes. Rounds interleave the sides, rotating which
 * goes first.
 */
export async function runReports(options: ReportsBenchOptions): Promise<void> {
  const loadAtStart = loadAverage();
  const bench = await createBenchDatabase(options.serverUrl, 'reports');
  console.log(`reports: database ${bench.name}`);
  try {
    const tenant = await createTenant(bench.database);
    const app = await publishDealApp(bench.database, tenant, 'crm');
    const seeded = await timed(async () => {
      await seedRecords(bench.pool, tenant.workspaceId, dealIds(app), options.records, (done) => console.log(`reports: seeded ${done} records`));
      await createTypedBaseline(bench.pool, dealIds(app));
      await bench.pool.query('VACUUM (ANALYZE) records');
      await bench.pool.query('VACUUM (ANALYZE) deal_typed');
    });
    console.log(`reports: seeded and analyzed in ${ms(seeded.ms / 1000, 1)} s`);
    const results: ShapeResult[] = [];
    for (const shape of SHAPES) results.push(await measure(bench, tenant, app, shape, options));
    // `owner` is a user field without an index: the statistics the publish created for it
    // are what let the planner hash-aggregate the pivot (planned for 1M groups without them)
    const owner = app.document.objects.find((o) => o.key === 'deal')!.fields.find((f) => f.key === 'owner')!;
    await assertStatistics(bench.pool, fieldSqlExpression(owner));
    const floors: FloorResult[] = [];
    for (const floor of FLOORS) floors.push(await measureFloor(bench, tenant, app, floor, options));
    const addField = await publishWithNewSelectField(bench, tenant);
    const facts = await serverFacts(bench.pool);
    await writeSection('reports', render(options, results, floors, addField, facts, `${loadAtStart} at start, ${loadAverage()} at end`));
    await writeSection('reports-plans', renderPlans(results));
    console.log('reports: wrote docs/benchmarks.md');
  } finally {
    // BENCH_KEEP_DATABASE=1 leaves the seeded database for trying statements by hand (drop it after)
    if (process.env.BENCH_KEEP_DATABASE === '1') console.log(`reports: kept database ${bench.name}`);
    else await bench.drop();
  }
}

async function measure(bench: BenchDatabase, tenant: Tenant, app: PublishedApp, shape: Shape, options: ReportsBenchOptions): Promise<ShapeResult> {
  const policy = unrestrictedPolicy({ workspaceId: tenant.workspaceId, userId: tenant.userId, isAdmin: true });
  const compiled = compileReport(app, shape.report, { policy, env });
  const runs: Record<'ours' | 'statement' | 'baseline', () => Promise<unknown>> = {
    ours: () => runReport(bench.database.db, app, shape.report, { policy, env }),
    statement: () => bench.pool.query(compiled.text, compiled.values),
    baseline: () => bench.pool.query(shape.baselineSql, shape.baselineParams),
  };
  const ours = shape.ours(await runReport(bench.database.db, app, shape.report, { policy, env }));
  const baseline = shape.baseline((await bench.pool.query(shape.baselineSql, shape.baselineParams)).rows as Record<string, unknown>[]);
  if (ours.join('\n') !== baseline.join('\n')) throw new Error(`reports: "${shape.name}" answers differ:\nours\n${ours.join('\n')}\nbaseline\n${baseline.join('\n')}`);
  if (process.env.BENCH_KEEP_DATABASE === '1') console.log(`reports: ${shape.name} statement: ${JSON.stringify({ text: compiled.text, values: compiled.values })}`);
  const plan = await explain(bench.pool, compiled.text, compiled.values);
  const baselinePlan = await explain(bench.pool, shape.baselineSql, shape.baselineParams);
  const names = ['ours', 'statement', 'baseline'] as const;
  const samples = await interleavedSamples(runs, names, { warmup: options.warmup, iterations: options.iterations, minRounds: MIN_ROUNDS, budgetMs: SHAPE_BUDGET_MS });
  console.log(
    `reports: ${shape.name}: ours p50 ${ms(median(samples.ours))} ms (statement ${ms(median(samples.statement))} ms), baseline p50 ${ms(median(samples.baseline))} ms, ratio ${ratio(median(samples.ours), median(samples.baseline))}`,
  );
  return { shape, ...samples, plan, baselinePlan };
}

/**
 * What the generic store costs before any report logic: the same scan over `records`
 * (workspace, object, live) and over `deal_typed`, reading no field, one field, two.
 * The reports' ratios cannot go below these.
 */
interface Floor {
  name: string;
  /** SQL over the deals in `records`; {stage} and {amount} stand for the fields' expressions */
  ours: string;
  baseline: string;
}

const FLOORS: Floor[] = [
  { name: 'scan only: count the deals', ours: 'SELECT count(*) FROM records WHERE workspace_id = $1 AND object_id = $2 AND deleted_at IS NULL', baseline: 'SELECT count(*) FROM deal_typed' },
  {
    name: 'one field: count, max(stage)',
    ours: 'SELECT count(*), max({stage}) FROM records WHERE workspace_id = $1 AND object_id = $2 AND deleted_at IS NULL',
    baseline: 'SELECT count(*), max(stage) FROM deal_typed',
  },
  {
    name: 'two fields: count, max(stage), sum(amount)',
    ours: 'SELECT count(*), max({stage}), sum({amount}) FROM records WHERE workspace_id = $1 AND object_id = $2 AND deleted_at IS NULL',
    baseline: 'SELECT count(*), max(stage), sum(amount) FROM deal_typed',
  },
];

interface FloorResult {
  floor: Floor;
  ours: number[];
  baseline: number[];
}

async function measureFloor(bench: BenchDatabase, tenant: Tenant, app: PublishedApp, floor: Floor, options: ReportsBenchOptions): Promise<FloorResult> {
  const deal = app.document.objects.find((o) => o.key === 'deal')!;
  const expression = (key: string) => fieldSqlExpression(deal.fields.find((f) => f.key === key)!);
  const ours = floor.ours.replace('{stage}', expression('stage')).replace('{amount}', expression('amount'));
  const runs = {
    ours: () => bench.pool.query(ours, [tenant.workspaceId, deal.id]),
    baseline: () => bench.pool.query(floor.baseline),
  };
  const samples = { ours: [] as number[], baseline: [] as number[] };
  for (const run of Object.values(runs)) await run();
  for (let i = 0; i < options.iterations; i++) {
    const order = i % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
    for (const name of order) samples[name].push((await timed(runs[name])).ms);
  }
  console.log(`reports: floor ${floor.name}: ours p50 ${ms(median(samples.ours))} ms, baseline p50 ${ms(median(samples.baseline))} ms`);
  return { floor, ...samples };
}

async function assertStatistics(pool: pg.Pool, expression: string): Promise<void> {
  const field = /'(f_[a-z0-9_]+)'/.exec(expression)![1]!;
  const found = await pool.query<{ expr: string }>(`SELECT pg_get_statisticsobjdef_expressions(oid)::text AS expr FROM pg_statistic_ext`);
  if (!found.rows.some((r) => r.expr.includes(field))) throw new Error(`reports: publishing created no statistics for ${expression}`);
}

/** What adding a select field costs on the 1M-deal object now that it brings statistics: one publish. */
async function publishWithNewSelectField(bench: BenchDatabase, tenant: Tenant): Promise<number> {
  const metadata = new MetadataRepository(bench.database.db);
  const draft = await metadata.getDraft(tenant.workspaceId, 'crm');
  draft.objects.find((o) => o.key === 'deal')!.fields.push({ key: 'region', type: 'select', label: { en: 'Region' }, options: [{ value: 'east', label: { en: 'East' } }] });
  await metadata.saveDraft(tenant.actor, 'crm', draft);
  const published = await timed(() => metadata.publish(tenant.actor, 'crm'));
  console.log(`reports: publish adding a select field: ${ms(published.ms)} ms`);
  return published.ms;
}

async function explain(pool: pg.Pool, text: string, params: unknown[]): Promise<string> {
  const result = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

function render(options: ReportsBenchOptions, results: ShapeResult[], floors: FloorResult[], addField: number, facts: string, load: string): string {
  const rows = results.map((r) => [
    r.shape.name,
    ms(median(r.ours)),
    ms(median(r.statement)),
    ms(median(r.baseline)),
    `**${ratio(median(r.ours), median(r.baseline))}**`,
    String(r.ours.length),
  ]);
  const floorRows = floors.map((f) => [f.floor.name, ms(median(f.ours)), ms(median(f.baseline)), ratio(median(f.ours), median(f.baseline)), String(f.ours.length)]);
  return `## Reports (issue 5)

\`${options.command}\` — ${new Date().toISOString().slice(0, 10)}, ${options.records.toLocaleString('en')} deals, ${machine()}; ${facts}; load ${load}.

runReport (validation, compile, one statement through kysely, rows read into a ReportResult
with a drill filter per row) against hand-written SQL over \`deal_typed\` (real columns, the
same btree indexes) answering the same question; both answers are compared before timing.
"statement" is our compiled SQL alone through pg. p50 in ms; target: ratio <= 1.3 and p50 < 500 ms.
Every field reports group by has expression statistics (created at publish).

${table(['shape', 'ours p50', 'statement p50', 'baseline p50', 'ratio', 'rounds'], rows)}

The floor: the same scan with no report logic, reading no field, one, two (hand-written
SQL over \`records\` with the compiler's field expressions, against \`deal_typed\`):

${table(['floor', 'records p50', 'deal_typed p50', 'ratio', 'rounds'], floorRows)}

Publishing a version that adds a select field to this object (its expression statistics
created, then \`ANALYZE records\`, a sample of 30,000 rows): ${ms(addField)} ms.`;
}

function renderPlans(results: ShapeResult[]): string {
  return `<details><summary>Reports: plans (EXPLAIN ANALYZE, first run of each)</summary>

${results.map((r) => `### ${r.shape.name}\n\nours:\n\n\`\`\`\n${r.plan}\n\`\`\`\n\nbaseline:\n\n\`\`\`\n${r.baselinePlan}\n\`\`\``).join('\n\n')}

</details>`;
}
