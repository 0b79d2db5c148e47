import { compileFilterToSql } from '@tessera/expr';
import type { MeasureDef } from '../model/report';
import type { ReportColumn } from '../model/result';
import { localized, type CompileContext } from './context';
import { isMoney, moneyScale, mustResolve, type FieldRef } from './fields';
import { Sql } from './sql';
import { word } from './words';

/** The SQL aggregate of each aggregate name over the measure's input `v<j>`. */
const AGGREGATE_SQL = { count: 'count', countDistinct: 'count', sum: 'sum', avg: 'avg', min: 'min', max: 'max' } as const;

/**
 * One aggregate of a report, compiled: its input `v<j>` and filter `f<j>` are computed in
 * the source subquery, the aggregate `m<j>` in the grouped query with FILTER (WHERE f<j>).
 * Sums, minima and maxima of money come back as decimal strings at the field's scale.
 */
export class Measure {
  readonly key: string;
  readonly column: ReportColumn;
  readonly ref: FieldRef | null;
  private readonly money: boolean;

  constructor(
    private readonly ctx: CompileContext,
    readonly def: MeasureDef,
    readonly index: number,
    at: string,
    /** a computed input (the forecast's amount × probability) instead of a field */
    private readonly input?: { sql: Sql; ref: FieldRef },
  ) {
    this.key = def.key;
    this.ref = input ? input.ref : def.field ? mustResolve(ctx.app, ctx.object, def.field, `${at}/field`) : null;
    const agg = def.aggregate;
    this.money = this.ref !== null && isMoney(this.ref) && (agg === 'sum' || agg === 'min' || agg === 'max');
    this.column = {
      key: this.key,
      label: localized(def.label, ctx.locale, this.ref?.field ? `${agg} ${localized(this.ref.field.label, ctx.locale, this.ref.path)}` : agg === 'count' ? word('count', ctx.locale) : def.key),
      role: 'measure',
      type: this.outputType(),
      ...(this.money && this.ref?.field?.currency ? { currency: this.ref.field.currency } : {}),
    };
  }

  private outputType(): ReportColumn['type'] {
    const agg = this.def.aggregate;
    if (agg === 'count' || agg === 'countDistinct' || agg === 'avg') return 'number';
    if (this.money) return 'money';
    const kind = this.ref?.kind ?? 'number';
    return kind === 'list' ? 'text' : kind;
  }

  /** counts are 0 over no records; the other aggregates are null */
  get isCount(): boolean {
    return this.def.aggregate === 'count' || this.def.aggregate === 'countDistinct';
  }

  /** the source columns: `v<j>` (the input) and `f<j>` (the filter), when there are any */
  source(): Sql[] {
    const out: Sql[] = [];
    const j = this.index;
    if (this.input) out.push(new Sql().append(this.input.sql).text(` AS v${j}`));
    else if (this.ref) out.push(new Sql().text(`${this.ctx.joins.read(this.ref)} AS v${j}`));
    if (this.def.filter !== undefined) {
      const filter = compileFilterToSql(this.def.filter, { object: this.ctx.object, app: this.ctx.app }, this.ctx.env);
      out.push(new Sql().text('(').fragment(filter).text(`) AS f${j}`));
    }
    return out;
  }

  /** `count(*) FILTER (WHERE f0) AS m0` */
  aggregated(): string {
    const j = this.index;
    const agg = this.def.aggregate;
    const arg = this.ref || this.input ? `${agg === 'countDistinct' ? 'DISTINCT ' : ''}v${j}` : '*';
    const filter = this.def.filter !== undefined ? ` FILTER (WHERE f${j})` : '';
    return `${AGGREGATE_SQL[agg]}(${arg})${filter}`;
  }

  /** the measure in the final select, from the grouped column `m<j>` (or any expression standing for it) */
  output(m = `m${this.index}`): Sql {
    const out = new Sql();
    if (this.money) return out.text(`round(${m}, ${moneyScale(this.ref!)})::text`);
    if (this.outputType() === 'number' && !this.isCount) return out.text(`(${m})::text`);
    return out.text(m);
  }

  read(value: unknown): unknown {
    if (value === null || value === undefined) return this.isCount ? 0 : null;
    if (this.column.type === 'number') return Number(value);
    return value;
  }
}

/** Numeric text from SQL to a JS number (ratios and changes). */
export function readRatio(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
