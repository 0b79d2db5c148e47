import type { DateBucket } from '../model/report';
import type { ReportColumn, ReportResult } from '../model/result';
import type { KindPlan } from './compile-report';
import { measuresOf, refsOf } from './compile-report';
import type { CompileContext } from './context';
import { Dimension } from './dimensions';
import { readRatio, type Measure } from './measures';
import { drillOf, sourceQuery } from './source';
import { ROLL_UP } from './grouped';
import { joinSql, Sql } from './sql';
import { word } from './words';

/** How far back "a year earlier" is per bucket; weeks compare with the week 52 weeks before, which is a Monday too. */
const YEAR_BACK: Record<DateBucket, string> = { day: '1 year', week: '52 weeks', month: '1 year', quarter: '1 year', year: '1 year' };
const STEP: Record<DateBucket, string> = { day: '1 day', week: '1 week', month: '1 month', quarter: '3 months', year: '1 year' };

/** Changes are computed for measures that are numbers (counts, sums, averages...). */
function hasChange(m: Measure): boolean {
  return m.column.type === 'number' || m.column.type === 'money';
}

/**
 * A time series: one row per bucket from the first to the last one with records (gaps
 * filled with zero counts and null sums, so "previous" is the calendar's previous
 * bucket), records without a date left out. `compare: 'previous'` takes the previous
 * bucket with LAG; `'yoy'` self-joins the bucket a year earlier. A change is
 * (value - earlier) / earlier, null when the earlier value is 0 or missing.
 */
export function compileTimeseries(ctx: CompileContext): KindPlan {
  const ts = ctx.report.timeseries!;
  const period = new Dimension(ctx, { key: 'period', field: ts.dateField, bucket: ts.bucket }, 0, 'timeseries/dateField');
  const measures = measuresOf(ctx);
  const compared = ts.compare ? measures.filter(hasChange) : [];
  const dateSql = ctx.joins.read(period.ref);
  const source = () => sourceQuery(ctx, joinSql([period.source(), ...measures.flatMap((m) => m.source())], ', '), [new Sql().text(`${dateSql} IS NOT NULL`)]);
  const ms = measures.map((m) => `m${m.index}`);
  const filled = measures.map((m) => (m.isCount ? `COALESCE(a.m${m.index}, 0) AS m${m.index}` : `a.m${m.index}`));
  const earlier =
    ts.compare === 'yoy'
      ? `SELECT s.*, ${compared.map((m) => `p.m${m.index} AS p${m.index}`).join(', ') || 'NULL AS p_'} FROM series s LEFT JOIN series p ON p.d0 = (s.d0 - interval '${YEAR_BACK[ts.bucket]}')::date`
      : `SELECT s.*, ${compared.map((m) => `lag(s.m${m.index}) OVER (ORDER BY s.d0) AS p${m.index}`).join(', ') || 'NULL AS p_'} FROM series s`;
  // Without totals, a plain GROUP BY lets PostgreSQL aggregate in parallel workers
  // (GROUPING SETS cannot); totals of counts, sums, minima and maxima are then rolled up
  // from the few bucket rows. Averages and distinct counts need the records: GROUPING SETS.
  const decomposable = measures.every((m) => ROLL_UP[m.def.aggregate] !== undefined);
  const totals = ctx.report.totals === true;
  const groupBy = totals && !decomposable ? ' GROUP BY GROUPING SETS ((d0), ())' : ' GROUP BY d0';
  const totalRow =
    !totals
      ? ''
      : decomposable
        ? `UNION ALL SELECT NULL::date, 1, ${measures.map((m) => `${ROLL_UP[m.def.aggregate]}(m${m.index})`).join(', ')}${compared.map(() => ', NULL').join('')} FROM agg`
        : `UNION ALL SELECT NULL::date, 1, ${ms.join(', ')}${compared.map(() => ', NULL').join('')} FROM agg WHERE g0 = 1`;
  const aggregated = `${measures.map((m) => `${m.aggregated()} AS m${m.index}`).join(', ')}`;
  // a date field is grouped by stored date first, then by bucket (see Dimension.twoStep)
  const agg =
    decomposable && period.twoStep
      ? new Sql()
          .text(`WITH detail AS (SELECT d0, ${aggregated} FROM (`)
          .append(sourceQuery(ctx, joinSql([period.detailSource(), ...measures.flatMap((m) => m.source())], ', '), [new Sql().text(`${dateSql} IS NOT NULL`)]))
          .text(`) AS src GROUP BY d0), agg AS (SELECT d0, 0 AS g0, ${measures.map((m) => `${ROLL_UP[m.def.aggregate]}(m${m.index}) AS m${m.index}`).join(', ')}`)
          .text(` FROM (SELECT ${[period.fromDetail(), ...ms].join(', ')} FROM detail) AS b GROUP BY d0), `)
      : new Sql().text(`WITH agg AS (SELECT d0, GROUPING(d0) AS g0, ${aggregated} FROM (`).append(source()).text(`) AS src${groupBy}), `);
  const statement = new Sql()
    .append(agg)
    .text(`span AS (SELECT gs::date AS d0 FROM (SELECT min(d0) AS lo, max(d0) AS hi FROM agg WHERE g0 = 0) b, generate_series(b.lo::timestamp, b.hi::timestamp, interval '${STEP[ts.bucket]}') gs), `)
    .text(`series AS (SELECT span.d0, 0 AS g0, ${filled.join(', ')} FROM span LEFT JOIN agg a ON a.g0 = 0 AND a.d0 = span.d0), `)
    .text(`cmp AS (${earlier}), `)
    .text(`all_rows AS (SELECT d0, g0, ${ms.join(', ')}${compared.map((m) => `, p${m.index}`).join('')} FROM cmp ${totalRow}) `)
    .text('SELECT ')
    .append(joinSql([period.output().text(', g0'), ...measures.map((m) => m.output().text(` AS m${m.index}`))], ', '))
    .text(compared.map((m) => `, ((m${m.index} - p${m.index})::numeric / NULLIF(p${m.index}, 0))::text AS c${m.index}`).join(''))
    .text(' FROM all_rows ORDER BY g0, d0');

  const columns: ReportColumn[] = [period.column, ...measures.map((m) => m.column)];
  for (const m of compared) columns.push({ key: `${m.key}_change`, label: `${m.column.label} (${word(ts.compare === 'yoy' ? 'yoy' : 'previous', ctx.locale)})`, role: 'change', type: 'number' });
  const hasDate = { '!=': [{ var: ts.dateField }, null] };
  return {
    statement,
    refs: refsOf({ dimensions: [period], measures }),
    read: (rows) => {
      const result: ReportResult = { kind: 'timeseries', columns, rows: [] };
      for (const row of rows) {
        const values: Record<string, unknown> = { period: row.g0 === 1 ? null : period.read(row) };
        for (const m of measures) values[m.key] = m.read(row[`m${m.index}`]);
        for (const m of compared) values[`${m.key}_change`] = readRatio(row[`c${m.index}`]);
        if (row.g0 === 1) {
          if (ctx.report.totals) result.totals = { values, drill: drillOf(ctx, [hasDate]) };
        } else result.rows.push({ values, drill: drillOf(ctx, [period.drill(row)]) });
      }
      return result;
    },
  };
}
