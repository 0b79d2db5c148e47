import type pg from 'pg';
import type { PublishedApp } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import { unrestrictedPolicy } from '@tessera/store';
import { compileReport, runReport, type ReportDef, type ReportResult } from '@tessera/reports';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { createTenant, dealIds, publishDealApp, STAGES, type Tenant } from '../lib/deal-app';
import { loadAverage, machine, table, writeSection } from '../lib/report';
import { median, ms, ratio, timed } from '../lib/stats';
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
    // `owner` is not an indexed field, so nothing gave the planner its number of distinct
    // values and the pivot is planned for 1M groups (sort to disk instead of a hash table);
    // the index manager creates such statistics for indexed fields. Measure with them too.
    const owner = app.document.objects.find((o) => o.key === 'deal')!.fields.find((f) => f.key === 'owner')!;
    await bench.pool.query(`CREATE STATISTICS bench_owner_stats ON (${fieldSqlExpression(owner)}) FROM records`);
    await bench.pool.query('ANALYZE records');
    const withStats = await measure(bench, tenant, app, SHAPES.find((s) => s.name.startsWith('pivot'))!, options);
    const facts = await serverFacts(bench.pool);
    await writeSection('reports', render(options, results, withStats, facts, `${loadAtStart} at start, ${loadAverage()} at end`));
    console.log('reports: wrote docs/benchmarks.md');
  } finally {
    await bench.drop();
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
  const plan = await explain(bench.pool, compiled.text, compiled.values);
  const baselinePlan = await explain(bench.pool, shape.baselineSql, shape.baselineParams);
  const names = ['ours', 'statement', 'baseline'] as const;
  for (let i = 0; i < options.warmup; i++) for (const name of names) await runs[name]();
  const samples: Record<(typeof names)[number], number[]> = { ours: [], statement: [], baseline: [] };
  const deadline = Date.now() + SHAPE_BUDGET_MS;
  for (let i = 0; i < options.iterations && (i < MIN_ROUNDS || Date.now() < deadline); i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      samples[name].push((await timed(runs[name])).ms);
    }
  }
  console.log(
    `reports: ${shape.name}: ours p50 ${ms(median(samples.ours))} ms (statement ${ms(median(samples.statement))} ms), baseline p50 ${ms(median(samples.baseline))} ms, ratio ${ratio(median(samples.ours), median(samples.baseline))}`,
  );
  return { shape, ...samples, plan, baselinePlan };
}

async function explain(pool: pg.Pool, text: string, params: unknown[]): Promise<string> {
  const result = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

function render(options: ReportsBenchOptions, results: ShapeResult[], withStats: ShapeResult, facts: string, load: string): string {
  const rows = results.map((r) => [
    r.shape.name,
    ms(median(r.ours)),
    ms(median(r.statement)),
    ms(median(r.baseline)),
    `**${ratio(median(r.ours), median(r.baseline))}**`,
    String(r.ours.length),
  ]);
  return `## Reports (issue 5)

\`${options.command}\` — ${new Date().toISOString().slice(0, 10)}, ${options.records.toLocaleString('en')} deals, ${machine()}; ${facts}; load ${load}.

runReport (validation, compile, one statement through kysely, rows read into a ReportResult
with a drill filter per row) against hand-written SQL over \`deal_typed\` (real columns, the
same btree indexes) answering the same question; both answers are compared before timing.
"statement" is our compiled SQL alone through pg. p50 in ms; target: ratio <= 1.3 and p50 < 500 ms.

${table(['shape', 'ours p50', 'statement p50', 'baseline p50', 'ratio', 'rounds'], rows)}

With expression statistics on \`owner\` (as an indexed field gets): pivot ours p50
${ms(median(withStats.ours))} ms, baseline ${ms(median(withStats.baseline))} ms, ratio **${ratio(median(withStats.ours), median(withStats.baseline))}**.

### What the plans show

- **Run of 2026-12-01: not met, ratio 1.6 to 2.4 and p50 over 500 ms** (with a load average of 15 to 20 on 2
  cores during the run; the baselines themselves took 280 to 480 ms). Every shape reads
  the whole object, and the cost that remains is structural to the generic store: a
  \`records\` row is ~390 bytes against ~120 in \`deal_typed\` (2.4x the pages to scan), and
  each value is pulled out of \`data\` with \`->>\` and cast, about 0.5 µs a row for the first
  field touched. The funnel comes closest (1.6) because it reads one field.
- **Fixed: planner estimates.** GROUP BY over a JSON expression without statistics is
  planned for one group per row: PostgreSQL sorted a million rows to disk instead of
  hashing a few hundred groups, and the high cost estimate switched on JIT (265 ms of
  compilation). A date bucket is now grouped in two steps, by stored date (which the
  field's expression statistics describe) and then by bucket: the monthly series went from
  2.89 (1,692 ms) to 2.37 (660 ms). Totals and subtotals of counts, sums, minima and maxima
  are rolled up from the detail groups, so the records are aggregated by a plain GROUP BY
  that runs in parallel workers (GROUPING SETS over the records cannot).
- **Open: fields without statistics.** \`owner\` is not an indexed field, so nothing gives
  the planner its distinct count and the pivot sorts to disk (5.5); with \`CREATE STATISTICS\`
  on its expression — what the index manager does for indexed fields — the same pivot is
  2.3. Next step (store): create expression statistics for every select, user, relation and
  date field at publish, not only indexed ones; they cost an ANALYZE, not an index.

<details><summary>plans (EXPLAIN ANALYZE, first run of each)</summary>

${[...results, { ...withStats, shape: { ...withStats.shape, name: `${withStats.shape.name} (with statistics on owner)` } }].map((r) => `### ${r.shape.name}\n\nours:\n\n\`\`\`\n${r.plan}\n\`\`\`\n\nbaseline:\n\n\`\`\`\n${r.baselinePlan}\n\`\`\``).join('\n\n')}

</details>`;
}
