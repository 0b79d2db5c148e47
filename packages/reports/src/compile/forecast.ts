import type { KindPlan } from './compile-report';
import { refsOf } from './compile-report';
import type { CompileContext } from './context';
import { Dimension } from './dimensions';
import { mustResolve } from './fields';
import { columnsOf, groupedStatement, readGrouped, type GroupedPlan } from './grouped';
import { Measure } from './measures';
import { Sql } from './sql';
import { word } from './words';

/**
 * A weighted pipeline forecast: per close period, the number of deals, the pipeline
 * (sum of amounts) and the weighted amount, sum(amount × win probability), where the
 * probability comes from the stage (a table in the report) or from a percent field of the
 * record. Records without a close date are left out.
 */
export function compileForecast(ctx: CompileContext): KindPlan {
  const f = ctx.report.forecast!;
  const period = new Dimension(ctx, { key: 'period', field: f.closeDateField, bucket: f.bucket }, 0, 'forecast/closeDateField');
  const amount = mustResolve(ctx.app, ctx.object, f.amountField, 'forecast/amountField');
  const stage = mustResolve(ctx.app, ctx.object, f.stageField, 'forecast/stageField');
  const probabilityRef = f.probabilityField ? mustResolve(ctx.app, ctx.object, f.probabilityField, 'forecast/probabilityField') : null;
  const amountSql = ctx.joins.read(amount);
  const probability = new Sql();
  if (probabilityRef) {
    // percent fields hold 0..100 in the CRM; a field capped at 1 already holds a fraction
    const scale = probabilityRef.field?.max !== undefined && probabilityRef.field.max <= 1 ? 1 : 100;
    probability.text(`(COALESCE(${ctx.joins.read(probabilityRef)}, 0) / ${scale})`);
  } else {
    probability.text(`(CASE ${ctx.joins.read(stage)}`);
    for (const [value, p] of Object.entries(f.probabilities ?? {})) probability.text(' WHEN ').value(value).text('::text THEN ').value(String(p)).text('::numeric');
    probability.text(' ELSE 0 END)');
  }
  const weighted = new Sql().text(`(${amountSql}) * `).append(probability);
  const measures = [
    new Measure(ctx, { key: 'count', aggregate: 'count', label: { en: word('count', 'en'), zh: word('count', 'zh') } }, 0, 'forecast'),
    new Measure(ctx, { key: 'pipeline', aggregate: 'sum', field: f.amountField, label: { en: word('pipeline', 'en'), zh: word('pipeline', 'zh') } }, 1, 'forecast/amountField'),
    new Measure(ctx, { key: 'weighted', aggregate: 'sum', label: { en: word('weighted', 'en'), zh: word('weighted', 'zh') } }, 2, 'forecast', { sql: weighted, ref: amount }),
  ];
  const plan: GroupedPlan = {
    dimensions: [period],
    measures,
    conditions: [new Sql().text(`${ctx.joins.read(period.ref)} IS NOT NULL`)],
    conditionDrill: [{ '!=': [{ var: f.closeDateField }, null] }],
    ...(ctx.report.totals ? { groupingSets: [[0], []] } : {}),
  };
  const statement = groupedStatement(ctx, plan);
  const columns = columnsOf(plan);
  const refs = [...refsOf(plan), stage, ...(probabilityRef ? [probabilityRef] : [])];
  return {
    statement,
    refs,
    read: (rows) => {
      const { rows: out, totals } = readGrouped(ctx, plan, rows);
      return { kind: 'forecast', columns, rows: out, ...(totals ? { totals } : {}) };
    },
  };
}
