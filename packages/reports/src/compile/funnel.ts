import type { ReportColumn } from '../model/result';
import type { KindPlan } from './compile-report';
import { measuresOf, refsOf } from './compile-report';
import type { CompileContext } from './context';
import { Dimension } from './dimensions';
import { readRatio } from './measures';
import { drillOf, sourceQuery } from './source';
import { joinSql, Sql } from './sql';
import { word } from './words';

/**
 * A funnel: one row per stage (the select field's options in their defined order, empty
 * stages included), the measures at that stage, and the funnel value `reached` — the
 * funnel measure over this stage and every later one when cumulative — with window
 * functions for the stage-to-stage (`conversion`) and first-stage (`overall`) rates.
 * A row's drill selects the records at its stage (what its measures aggregate).
 */
export function compileFunnel(ctx: CompileContext): KindPlan {
  const funnel = ctx.report.funnel!;
  const stage = new Dimension(ctx, { field: funnel.stageField }, 0, 'funnel/stageField');
  const measures = measuresOf(ctx);
  const main = measures.find((m) => m.key === (funnel.measure ?? measures[0]!.key)) ?? measures[0]!;
  const options = (stage.ref.field?.options ?? []).map((o) => o.value);
  const stages = funnel.stages ? options.filter((o) => funnel.stages!.includes(o)) : options;
  const cumulative = funnel.cumulative !== false;

  // No `stage = ANY(stages)` condition on the records: PostgreSQL would read the stage out
  // of the JSON twice per record (it does not share the expression between WHERE and the
  // select list). Groups of other stages are dropped by the join with the stage list.
  const source = sourceQuery(ctx, joinSql([stage.source(), ...measures.flatMap((m) => m.source())], ', '));
  const ms = measures.map((m) => `m${m.index}`);
  const statement = new Sql()
    .text(`WITH agg AS (SELECT d0, ${measures.map((m) => `${m.aggregated()} AS m${m.index}`).join(', ')} FROM (`)
    .append(source)
    .text(') AS src GROUP BY d0), st AS (SELECT value, pos FROM unnest(')
    .value(stages)
    .text('::text[]) WITH ORDINALITY AS s(value, pos)), ')
    .text(`f AS (SELECT st.value AS d0, st.pos, ${ms.map((m) => `agg.${m}`).join(', ')}, COALESCE(agg.m${main.index}, 0) AS v FROM st LEFT JOIN agg ON agg.d0 = st.value), `)
    .text(`c AS (SELECT f.*, ${cumulative ? 'sum(v) OVER (ORDER BY pos ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)' : 'v'} AS reached FROM f) `)
    .text('SELECT d0, 0 AS g0, ')
    .append(joinSql(measures.map((m) => m.output().text(` AS m${m.index}`)), ', '))
    .text(', ')
    .append(main.output('reached'))
    .text(' AS reached, (reached::numeric / NULLIF(lag(reached) OVER (ORDER BY pos), 0))::text AS conversion')
    .text(', (reached::numeric / NULLIF(first_value(reached) OVER (ORDER BY pos), 0))::text AS overall FROM c ORDER BY pos');

  const columns: ReportColumn[] = [
    stage.column,
    ...measures.map((m) => m.column),
    { ...main.column, key: 'reached', label: cumulative ? `${main.column.label} (${word('reached', ctx.locale)})` : main.column.label },
    { key: 'conversion', label: word('conversion', ctx.locale), role: 'rate', type: 'number' },
    { key: 'overall', label: word('overall', ctx.locale), role: 'rate', type: 'number' },
  ];
  return {
    statement,
    refs: refsOf({ dimensions: [stage], measures }),
    read: (rows) => ({
      kind: 'funnel',
      columns,
      rows: rows.map((row) => {
        const values: Record<string, unknown> = { [stage.key]: row.d0 };
        for (const m of measures) values[m.key] = m.read(row[`m${m.index}`]);
        values.reached = main.read(row.reached);
        values.conversion = readRatio(row.conversion);
        values.overall = readRatio(row.overall);
        return { values, drill: drillOf(ctx, [stage.drill(row)]) };
      }),
    }),
  };
}
