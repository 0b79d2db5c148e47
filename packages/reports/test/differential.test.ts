/**
 * The report engine's promise: what the one SQL statement computes equals a plain JS
 * computation over the same records. Random records (nulls included) × random report
 * definitions (dimensions, date buckets in the viewer's zone, number bins, measures with
 * filters, totals, subtotals, pivot margins, funnels, time series with changes, weighted
 * forecasts), in dimension order. Every row's drill
 * expression, run through the list filter path, must select exactly the records the
 * oracle put in that row. Runs on PGlite and, with DATABASE_URL, on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { compileFilterToSql, evaluateExpression } from '@tessera/expr';
import { fragmentToSql } from '@tessera/store';
import type { AppDocument } from '@tessera/metadata';
import { runReport, type DateBucket, type DimensionDef, type MeasureDef, type ReportDef, type ReportResult, type ReportRow } from '../src/index';
import { label, reportHarness, type ReportHarness } from './report-fixture';

const TZ = 'Asia/Shanghai';
const env = { now: new Date('2024-06-15T04:00:00.000Z'), timezone: TZ };
const OPTIONS = ['a', 'b', 'c'];

function itemApp(): AppDocument {
  return {
    objects: [
      {
        key: 'item',
        label: label('Item'),
        fields: [
          { key: 't', type: 'text', label: label('T') },
          { key: 's', type: 'select', label: label('S'), options: OPTIONS.map((v) => ({ value: v, label: label(v) })) },
          { key: 'n', type: 'number', label: label('N') },
          { key: 'm', type: 'currency', label: label('M'), currency: 'CNY', scale: 2 },
          { key: 'd', type: 'date', label: label('D') },
          { key: 'dt', type: 'datetime', label: label('DT') },
          { key: 'b', type: 'boolean', label: label('B') },
        ],
      },
    ],
  };
}

type Item = { t: string | null; s: string | null; n: number | null; m: string | null; d: string | null; dt: string | null; b: boolean | null };

// ---- random records -------------------------------------------------------------------

const DAY = 86_400_000;
const START = Date.UTC(2023, 10, 20); // buckets across a year end, quarter ends and a leap day
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 5 });
const cents = (c: number) => `${c < 0 ? '-' : ''}${Math.floor(Math.abs(c) / 100)}.${String(Math.abs(c) % 100).padStart(2, '0')}`;
const item: fc.Arbitrary<Item> = fc.record({
  t: nullable(fc.constantFrom('', 'x', 'y', 'Z', '合同')),
  // 'z' is no longer an option: stale values sort after the options
  s: nullable(fc.constantFrom(...OPTIONS, 'z')),
  n: nullable(fc.oneof(fc.integer({ min: -30, max: 60 }), fc.integer({ min: -300, max: 600 }).map((x) => x / 10))),
  m: nullable(fc.integer({ min: -50_000, max: 500_000 }).map(cents)),
  d: nullable(fc.integer({ min: 0, max: 500 }).map((i) => new Date(START + i * DAY).toISOString().slice(0, 10))),
  // instants near local midnights, so a UTC date and the Shanghai date often differ
  dt: nullable(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.constantFrom(15, 16, 17, 0, 8)).map(([i, h]) => new Date(START + i * DAY + h * 3_600_000 + 30 * 60_000).toISOString())),
  b: nullable(fc.boolean()),
});

// ---- random reports -------------------------------------------------------------------

const BUCKETS: DateBucket[] = ['day', 'week', 'month', 'quarter', 'year'];
const FILTERS: unknown[] = [
  { '==': [{ var: 'b' }, true] },
  { '>': [{ var: 'n' }, 5] },
  { in: [{ var: 's' }, ['a', 'c']] },
  { '>=': [{ var: 'd' }, '2024-02-29'] },
  { '!': [{ isEmpty: [{ var: 't' }] }] },
  { '<': [{ var: 'm' }, 1000] },
];
const dimension: fc.Arbitrary<DimensionDef> = fc.oneof(
  fc.constantFrom<DimensionDef>({ field: 't' }, { field: 's' }, { field: 'b' }, { field: 'n' }),
  fc.record({ field: fc.constant('n'), bins: fc.record({ size: fc.constantFrom(5, 10, 2.5), start: fc.constantFrom(0, 3, -1.5) }) }),
  fc.record({ field: fc.constantFrom('d', 'dt'), bucket: fc.constantFrom(...BUCKETS) }),
);
const measure: fc.Arbitrary<Omit<MeasureDef, 'key'>> = fc
  .record({
    pick: fc.constantFrom<Omit<MeasureDef, 'key'>>(
      { aggregate: 'count' },
      { aggregate: 'count', field: 'n' },
      { aggregate: 'countDistinct', field: 's' },
      { aggregate: 'countDistinct', field: 'n' },
      { aggregate: 'sum', field: 'n' },
      { aggregate: 'sum', field: 'm' },
      { aggregate: 'avg', field: 'n' },
      { aggregate: 'avg', field: 'm' },
      { aggregate: 'min', field: 'm' },
      { aggregate: 'max', field: 'n' },
      { aggregate: 'min', field: 'd' },
      { aggregate: 'max', field: 'dt' },
      { aggregate: 'max', field: 't' },
    ),
    filter: fc.option(fc.constantFrom(...FILTERS), { nil: undefined, freq: 2 }),
  })
  .map(({ pick, filter }) => (filter === undefined ? pick : { ...pick, filter }));
const measures = fc.array(measure, { minLength: 1, maxLength: 3 }).map((ms) => ms.map((m, j) => ({ ...m, key: `m${j}` }) as MeasureDef));
const reportFilter = fc.option(fc.constantFrom(...FILTERS), { nil: undefined, freq: 3 });

const summary: fc.Arbitrary<ReportDef> = fc
  .record({
    dims: fc.uniqueArray(dimension, { minLength: 0, maxLength: 2, selector: (d) => `${d.field}_${'bucket' in d ? d.bucket : ''}` }),
    measures,
    filter: reportFilter,
    totals: fc.boolean(),
    subtotals: fc.boolean(),
    pivot: fc.boolean(),
  })
  .map(({ dims, measures, filter, totals, subtotals, pivot }) => ({
    key: 'r',
    name: label('R'),
    kind: pivot && dims.length === 2 ? 'pivot' : 'summary',
    object: 'item',
    dimensions: dims.map((d, i) => ({ ...d, key: `k${i}` })),
    measures,
    totals,
    subtotals,
    ...(filter ? { filter } : {}),
  }));
const funnel: fc.Arbitrary<ReportDef> = fc
  .record({ sum: fc.boolean(), filter: reportFilter, cumulative: fc.boolean() })
  .map(({ sum, filter, cumulative }) => ({
    key: 'f',
    name: label('F'),
    kind: 'funnel',
    object: 'item',
    measures: [sum ? { key: 'v', aggregate: 'sum', field: 'm' } : { key: 'v', aggregate: 'count' }],
    funnel: { stageField: 's', measure: 'v', cumulative },
    ...(filter ? { filter } : {}),
  }));
const timeseries: fc.Arbitrary<ReportDef> = fc
  .record({ field: fc.constantFrom('d', 'dt'), bucket: fc.constantFrom<DateBucket>('week', 'month', 'quarter', 'day'), compare: fc.constantFrom<'previous' | 'yoy'>('previous', 'yoy'), measures, filter: reportFilter })
  .map(({ field, bucket, compare, measures, filter }) => ({
    key: 't',
    name: label('T'),
    kind: 'timeseries',
    object: 'item',
    measures,
    timeseries: { dateField: field, bucket, compare },
    totals: true,
    ...(filter ? { filter } : {}),
  }));

const PROBABILITIES: Record<string, number> = { a: 0.1, b: 0.55, c: 1 };
const forecast: fc.Arbitrary<ReportDef> = fc
  .record({ field: fc.constantFrom('d', 'dt'), bucket: fc.constantFrom<'month' | 'quarter'>('month', 'quarter'), filter: reportFilter, totals: fc.boolean() })
  .map(({ field, bucket, filter, totals }) => ({
    key: 'fc',
    name: label('FC'),
    kind: 'forecast',
    object: 'item',
    forecast: { amountField: 'm', stageField: 's', closeDateField: field, bucket, probabilities: PROBABILITIES },
    totals,
    ...(filter ? { filter } : {}),
  }));

// ---- the oracle -----------------------------------------------------------------------

type Rec = Item & { id: string };
const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });

function dateParts(iso: string): [number, number, number] {
  return [Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10))];
}
const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

function bucketStart(date: string, bucket: DateBucket): string {
  const [y, m, d] = dateParts(date);
  const t = Date.UTC(y, m - 1, d);
  switch (bucket) {
    case 'day':
      return date;
    case 'week':
      return ymd(t - ((new Date(t).getUTCDay() + 6) % 7) * DAY);
    case 'month':
      return ymd(Date.UTC(y, m - 1, 1));
    case 'quarter':
      return ymd(Date.UTC(y, Math.floor((m - 1) / 3) * 3, 1));
    case 'year':
      return ymd(Date.UTC(y, 0, 1));
  }
}

function addBucket(date: string, bucket: DateBucket, n: number): string {
  const [y, m, d] = dateParts(date);
  if (bucket === 'day') return ymd(Date.UTC(y, m - 1, d + n));
  if (bucket === 'week') return ymd(Date.UTC(y, m - 1, d + 7 * n));
  const months = bucket === 'month' ? n : bucket === 'quarter' ? 3 * n : 12 * n;
  return ymd(Date.UTC(y, m - 1 + months, d));
}

/** the same date a year earlier, Feb 29 landing on Feb 28 (as PostgreSQL's date - interval '1 year') */
function yearBack(date: string): string {
  const [y, m, d] = dateParts(date);
  const last = new Date(Date.UTC(y - 1, m, 0)).getUTCDate();
  return ymd(Date.UTC(y - 1, m - 1, Math.min(d, last)));
}

function dimensionValue(rec: Rec, dim: DimensionDef): unknown {
  const v = rec[dim.field as keyof Item];
  if (v === null) return null;
  if (dim.bins) {
    const start = dim.bins.start ?? 0;
    return Math.floor(((v as number) - start) / dim.bins.size) * dim.bins.size + start;
  }
  if (dim.bucket) return bucketStart(dim.field === 'dt' ? localDate.format(new Date(v as string)) : (v as string), dim.bucket);
  return v;
}

const toCents = (m: string) => BigInt(m.replace('.', ''));
const centsText = (c: bigint) => {
  const neg = c < 0n;
  const a = neg ? -c : c;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
};

function measureValue(recs: Rec[], m: MeasureDef): unknown {
  const kept = m.filter === undefined ? recs : recs.filter((r) => evaluateExpression(m.filter, r, env) === true);
  if (m.aggregate === 'count' && !m.field) return kept.length;
  const values = kept.map((r) => r[m.field as keyof Item]).filter((v) => v !== null) as Array<string | number | boolean>;
  switch (m.aggregate) {
    case 'count':
      return values.length;
    case 'countDistinct':
      return new Set(values.map((v) => (m.field === 'm' ? Number(v) : v))).size;
    case 'sum':
      if (values.length === 0) return null;
      return m.field === 'm' ? centsText(values.reduce((a: bigint, v) => a + toCents(v as string), 0n)) : values.reduce((a: number, v) => a + (v as number), 0);
    case 'avg':
      return values.length === 0 ? null : values.reduce((a: number, v) => a + Number(v), 0) / values.length;
    case 'min':
    case 'max': {
      if (values.length === 0) return null;
      const sign = m.aggregate === 'min' ? -1 : 1;
      if (m.field === 'm') return centsText(values.map((v) => toCents(v as string)).reduce((a, b) => (sign * Number(b - a) > 0 ? b : a)));
      if (m.field === 'n') return values.map(Number).reduce((a, b) => (sign * (b - a) > 0 ? b : a));
      return (values as string[]).reduce((a, b) => (sign * (b < a ? -1 : b > a ? 1 : 0) > 0 ? b : a));
    }
  }
}

/** numbers compared to 9 significant digits (SQL numeric vs JS doubles), everything else exactly */
function close(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
  return actual === expected;
}

function expectValues(actual: Record<string, unknown>, expected: Record<string, unknown>, context: unknown): void {
  for (const [key, value] of Object.entries(expected)) {
    if (!close(actual[key], value)) throw new Error(`${key}: got ${JSON.stringify(actual[key])}, expected ${JSON.stringify(value)} in ${JSON.stringify(context)}`);
  }
}

/** nulls after values; numbers by value, text by code unit, false before true */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean') return a ? 1 : -1;
  return (a as string) < (b as string) ? -1 : 1;
}

/**
 * Rows come in dimension order: select options in their defined order (a value no longer
 * among them after them), other values ascending, empty last; a rolled-up row after the
 * rows it sums.
 */
function expectDimensionOrder(rows: ReportRow[], dims: DimensionDef[]): void {
  const keyOf = (row: ReportRow) =>
    dims.flatMap((d) => {
      const rolled = row.subtotal?.rolledUp?.includes(d.key!) ?? false;
      const v = rolled ? null : row.values[d.key!];
      const position = d.field === 's' && typeof v === 'string' && OPTIONS.includes(v) ? OPTIONS.indexOf(v) : null;
      return d.field === 's' ? [position, v, rolled ? 1 : 0] : [v, rolled ? 1 : 0];
    });
  for (let i = 1; i < rows.length; i++) {
    const a = keyOf(rows[i - 1]!);
    const b = keyOf(rows[i]!);
    const c = a.map((x, k) => compareValues(x, b[k])).find((x) => x !== 0) ?? 0;
    if (c > 0) throw new Error(`rows out of order: ${JSON.stringify(rows[i - 1]!.values)} before ${JSON.stringify(rows[i]!.values)}`);
  }
}

function groupBy(recs: Rec[], keyOf: (r: Rec) => unknown[]): Map<string, { key: unknown[]; recs: Rec[] }> {
  const groups = new Map<string, { key: unknown[]; recs: Rec[] }>();
  for (const r of recs) {
    const key = keyOf(r);
    const k = JSON.stringify(key);
    const g = groups.get(k) ?? { key, recs: [] };
    g.recs.push(r);
    groups.set(k, g);
  }
  return groups;
}

// ---- the harness ----------------------------------------------------------------------

let h: ReportHarness;
beforeAll(async () => {
  h = await reportHarness(itemApp());
}, 60_000);
afterAll(() => h?.close());

async function load(items: Item[]): Promise<Rec[]> {
  await sql`DELETE FROM records WHERE workspace_id = ${h.actor.workspaceId}`.execute(h.database.db);
  const ids = await h.insert('item', items);
  return items.map((it, i) => ({ ...it, id: ids[i]! }));
}

async function idsOf(drill: unknown): Promise<string[]> {
  const where = compileFilterToSql(drill, { object: h.object('item'), app: h.app.document }, env);
  const r = await sql<{ id: string }>`SELECT id::text AS id FROM records WHERE workspace_id = ${h.actor.workspaceId} AND object_id = ${h.object('item').id!} AND deleted_at IS NULL AND ${fragmentToSql(where)}`.execute(h.database.db);
  return r.rows.map((x) => x.id).sort();
}

async function expectDrill(row: ReportRow, recs: Rec[], context: unknown): Promise<void> {
  const expected = recs.map((r) => r.id).sort();
  const actual = await idsOf(row.drill);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`drill ${JSON.stringify(row.drill)} selects ${actual.length} records, expected ${expected.length} in ${JSON.stringify(context)}`);
}

const run = (report: ReportDef): Promise<ReportResult> => runReport(h.database.db, h.app, report, { policy: h.policy, env });
const passing = (report: ReportDef, recs: Rec[]) => (report.filter === undefined ? recs : recs.filter((r) => evaluateExpression(report.filter, r, env) === true));
const records = fc.array(item, { minLength: 0, maxLength: 40 });

describe('reports agree with a JS computation over the same records', () => {
  it('summaries and pivots: groups, buckets, bins, filtered measures, totals, subtotals and margins', async () => {
    await fc.assert(
      fc.asyncProperty(records, summary, async (items, report) => {
        const recs = passing(report, await load(items));
        const result = await run(report);
        const dims = report.dimensions!;
        const n = dims.length;
        const sets = n === 0 ? [[]] : [[...Array(n).keys()]];
        // a pivot's margins: the row dimension alone and the column dimension alone
        if (report.kind === 'pivot' && (report.totals || report.subtotals)) sets.push([0], [1]);
        else if (n > 0 && report.subtotals) for (let k = n - 1; k >= 1; k--) sets.push([...Array(k).keys()]);
        if (n > 0 && report.totals) sets.push([]);
        const expectedRows: Array<{ values: Record<string, unknown>; recs: Rec[]; rolled: string }> = [];
        for (const set of sets) {
          // the empty grouping set is one row even over no records (a total of nothing is 0)
          const groups = set.length === 0 ? [{ key: [], recs }] : groupBy(recs, (r) => set.map((i) => dimensionValue(r, dims[i]!))).values();
          for (const g of groups) {
            const values: Record<string, unknown> = {};
            dims.forEach((d, i) => (values[d.key!] = set.includes(i) ? g.key[set.indexOf(i)] : null));
            for (const m of report.measures!) values[m.key] = measureValue(g.recs, m);
            expectedRows.push({ values, recs: g.recs, rolled: dims.filter((_, i) => !set.includes(i)).map((d) => d.key).join() });
          }
        }
        expectDimensionOrder(result.rows, dims);
        const actualRows = [...result.rows, ...(result.totals ? [result.totals] : [])];
        const rolledOf = (row: ReportRow) => (row === result.totals ? dims.map((d) => d.key).join() : (row.subtotal?.rolledUp ?? []).join());
        expect(actualRows.length).toBe(expectedRows.length);
        for (const e of expectedRows) {
          const match = actualRows.find((a) => rolledOf(a) === e.rolled && dims.every((d) => close(a.values[d.key!], e.values[d.key!])));
          if (!match) throw new Error(`missing row ${JSON.stringify(e.values)} (${e.rolled}) in ${JSON.stringify(result.rows.map((r) => r.values))}`);
          expectValues(match.values, e.values, report);
          await expectDrill(match, e.recs, report);
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('funnels: stages in option order, reached values and conversion rates', async () => {
    await fc.assert(
      fc.asyncProperty(records, funnel, async (items, report) => {
        const recs = passing(report, await load(items));
        const result = await run(report);
        const m = report.measures![0]!;
        const atStage = OPTIONS.map((s) => recs.filter((r) => r.s === s));
        const value = (rs: Rec[]) => {
          const v = measureValue(rs, m);
          return v === null ? 0 : typeof v === 'string' ? Number(v) : (v as number);
        };
        const reached = atStage.map((_, i) => (report.funnel!.cumulative === false ? value(atStage[i]!) : value(atStage.slice(i).flat())));
        expect(result.rows.map((r) => r.values.s)).toEqual(OPTIONS);
        for (const [i, row] of result.rows.entries()) {
          const measured = measureValue(atStage[i]!, m);
          expectValues(
            { ...row.values, reached: Number(row.values.reached) },
            {
              v: m.aggregate === 'sum' && measured === null ? null : measured,
              reached: reached[i],
              conversion: i === 0 || reached[i - 1] === 0 ? null : reached[i]! / reached[i - 1]!,
              overall: reached[0] === 0 ? null : reached[i]! / reached[0]!,
            },
            report,
          );
          await expectDrill(row, atStage[i]!, report);
        }
      }),
      { numRuns: 50 },
    );
  }, 120_000);

  it('forecasts: amount × stage probability by close period, rounded like money', async () => {
    await fc.assert(
      fc.asyncProperty(records, forecast, async (items, report) => {
        const f = report.forecast!;
        const recs = passing(report, await load(items)).filter((r) => r[f.closeDateField as keyof Item] !== null);
        const result = await run(report);
        const dim: DimensionDef = { field: f.closeDateField, bucket: f.bucket };
        // amount in cents × probability in hundredths: exact in 1/10,000, then rounded half away from zero
        const weighted = (rs: Rec[]) => {
          const amounts = rs.filter((r) => r.m !== null);
          if (amounts.length === 0) return null;
          const units = amounts.reduce((a, r) => a + toCents(r.m!) * BigInt(Math.round((PROBABILITIES[r.s ?? ''] ?? 0) * 100)), 0n);
          const neg = units < 0n;
          const abs = neg ? -units : units;
          return centsText((neg ? -1n : 1n) * ((abs + 50n) / 100n));
        };
        const expected = (rs: Rec[]) => ({ count: rs.length, pipeline: measureValue(rs, { key: 'p', aggregate: 'sum', field: 'm' }), weighted: weighted(rs) });
        const groups = [...groupBy(recs, (r) => [dimensionValue(r, dim)]).values()].sort((a, b) => compareValues(a.key[0], b.key[0]));
        expect(result.rows.map((r) => r.values.period)).toEqual(groups.map((g) => g.key[0]));
        for (const [i, g] of groups.entries()) {
          expectValues(result.rows[i]!.values, expected(g.recs), report);
          await expectDrill(result.rows[i]!, g.recs, report);
        }
        if (report.totals) {
          expectValues(result.totals!.values, expected(recs), report);
          await expectDrill(result.totals!, recs, report);
        } else expect(result.totals).toBeUndefined();
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('time series: gap-filled buckets and period-over-period changes', async () => {
    await fc.assert(
      fc.asyncProperty(records, timeseries, async (items, report) => {
        const ts = report.timeseries!;
        const recs = passing(report, await load(items)).filter((r) => r[ts.dateField as keyof Item] !== null);
        const result = await run(report);
        const dim: DimensionDef = { field: ts.dateField, bucket: ts.bucket };
        const groups = groupBy(recs, (r) => [dimensionValue(r, dim)]);
        const buckets = [...groups.values()].map((g) => g.key[0] as string).sort();
        const series: string[] = [];
        if (buckets.length > 0) for (let b = buckets[0]!; b <= buckets[buckets.length - 1]!; b = addBucket(b, ts.bucket, 1)) series.push(b);
        expect(result.rows.map((r) => r.values.period)).toEqual(series);
        const inBucket = (b: string) => groups.get(JSON.stringify([b]))?.recs ?? [];
        const earlier = (b: string) => (ts.compare === 'yoy' ? (ts.bucket === 'week' ? addBucket(b, 'day', -364) : yearBack(b)) : addBucket(b, ts.bucket, -1));
        for (const [i, row] of result.rows.entries()) {
          const b = series[i]!;
          const expected: Record<string, unknown> = { period: b };
          for (const m of report.measures!) {
            const cur = measureValue(inBucket(b), m);
            expected[m.key] = cur;
            if (m.aggregate === 'min' || m.aggregate === 'max' ? m.field === 'n' || m.field === 'm' : true) {
              const e = earlier(b);
              const prev = series.includes(e) ? measureValue(inBucket(e), m) : null;
              const num = (x: unknown) => (x === null ? null : Number(x));
              const p = num(prev);
              const c = num(cur);
              expected[`${m.key}_change`] = p === null || p === 0 || c === null ? null : (c - p) / p;
            }
          }
          expectValues(row.values, expected, report);
          await expectDrill(row, inBucket(b), report);
        }
        const totals: Record<string, unknown> = {};
        for (const m of report.measures!) totals[m.key] = measureValue(recs, m);
        expectValues(result.totals!.values, totals, report);
        await expectDrill(result.totals!, recs, report);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
