import type { Expression } from '@tessera/metadata';
import { DATE_BUCKETS, type DateBucket, type DimensionDef } from '../model/report';
import type { ReportColumn } from '../model/result';
import { localized, type CompileContext } from './context';
import { mustResolve, type FieldRef } from './fields';
import { Sql } from './sql';

/** SQL interval of one bucket; from a fixed table, so it is safe as text. */
const STEP: Record<DateBucket, string> = { day: '1 day', week: '1 week', month: '1 month', quarter: '3 months', year: '1 year' };

const ISO_INSTANT = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

type Row = Record<string, unknown>;

/**
 * One group-by of a report, compiled. In the statement a dimension is `d<i>` (plus
 * `d<i>_hi` for a bucket's or bin's exclusive end, `r<i>` for the relation ids behind a
 * value reached through a relation), computed once in the source subquery.
 */
export class Dimension {
  readonly key: string;
  readonly column: ReportColumn;
  readonly ref: FieldRef;
  private readonly options: string[] | null;

  constructor(
    private readonly ctx: CompileContext,
    readonly def: DimensionDef,
    readonly index: number,
    at: string,
  ) {
    this.ref = mustResolve(ctx.app, ctx.object, def.field, `${at}/field`);
    this.key = dimensionKey(def);
    const field = this.ref.field;
    this.options = field?.type === 'select' ? (field.options ?? []).map((o) => o.value) : null;
    this.column = {
      key: this.key,
      label: localized(def.label, ctx.locale, localized(field?.label, ctx.locale, def.field)),
      role: 'dimension',
      type: this.outputType(),
      ...(def.bucket ? { bucket: def.bucket } : {}),
      ...(field?.type === 'select'
        ? { options: (field.options ?? []).map((o) => ({ value: o.value, label: localized(o.label, ctx.locale, o.value) })) }
        : {}),
    };
  }

  private outputType(): ReportColumn['type'] {
    if (this.def.bucket) return 'date';
    const kind = this.ref.kind;
    return kind === 'list' ? 'text' : kind;
  }

  private get d(): string {
    return `d${this.index}`;
  }

  /** `<value> AS d<i>` (and the relation id) in the source subquery */
  source(): Sql {
    const out = new Sql();
    const x = this.ctx.joins.read(this.ref);
    const { bucket, bins } = this.def;
    if (bucket) {
      if (!DATE_BUCKETS.includes(bucket)) throw new Error('unchecked bucket');
      if (this.ref.kind === 'datetime') {
        // a datetime falls in the bucket of its local date in the viewer's zone, as `today` and inPeriod do
        const instant = this.ref.system && !this.ref.hop ? this.ref.system : `(${x})::timestamptz`;
        out.text(`date_trunc('${bucket}', ${instant} AT TIME ZONE `).shared(this.ctx.timezone).text(`)::date AS ${this.d}`);
      } else {
        out.text(`${dateBucket(bucket, x)} AS ${this.d}`);
      }
    } else if (bins) {
      out.text(`(floor((${x} - `).value(String(bins.start ?? 0)).text('::numeric) / ').value(String(bins.size)).text('::numeric) * ');
      out.value(String(bins.size)).text('::numeric + ').value(String(bins.start ?? 0)).text(`::numeric) AS ${this.d}`);
    } else {
      out.text(`${x} AS ${this.d}`);
    }
    if (this.ref.hop) out.text(`, ${this.ctx.joins.read({ ...this.ref, path: this.ref.hop.relation.key, field: this.ref.hop.relation, system: null, kind: 'text', object: this.ctx.object, hop: null })} AS r${this.index}`);
    return out;
  }

  /**
   * A date field's bucket is grouped in two steps: by the stored date, then the few
   * hundred dates by bucket. The planner knows how many distinct values a field has (the
   * statistics an indexed field gets), not how many months a date_trunc over the JSON
   * yields; planned for hundreds of thousands of groups, it sorts every record to disk
   * (and JIT-compiles) where a hash table of dates would do.
   */
  get twoStep(): boolean {
    return this.def.bucket !== undefined && this.ref.kind === 'date' && !this.ref.hop;
  }

  /** the source column of the first step: the stored date when grouped in two steps */
  detailSource(): Sql {
    return this.twoStep ? new Sql().text(`${this.ctx.joins.read(this.ref)} AS ${this.d}`) : this.source();
  }

  /** the column of the second step, over the first step's rows */
  fromDetail(): string {
    return this.twoStep ? `${dateBucket(this.def.bucket!, this.d)} AS ${this.d}` : this.d;
  }

  /** extra aggregate columns of the grouped query */
  aggregated(): string {
    return this.ref.hop ? `, array_agg(DISTINCT r${this.index}) AS r${this.index}` : '';
  }

  /** the final select list over the grouped row */
  output(): Sql {
    const out = new Sql();
    const d = this.d;
    const { bucket, bins } = this.def;
    if (bucket && this.ref.kind === 'datetime') {
      const at = (v: string) => {
        out.text(`to_char((${v})::timestamp AT TIME ZONE `).shared(this.ctx.timezone).text(` AT TIME ZONE 'UTC', ${ISO_INSTANT})`);
      };
      out.text(`to_char(${d}, 'YYYY-MM-DD') AS ${d}, `);
      at(d);
      out.text(` AS ${d}_lo, `);
      at(`${d} + interval '${STEP[bucket]}'`);
      out.text(` AS ${d}_hi`);
    } else if (bucket) {
      out.text(`to_char(${d}, 'YYYY-MM-DD') AS ${d}, to_char(${d} + interval '${STEP[bucket]}', 'YYYY-MM-DD') AS ${d}_hi`);
    } else if (bins) {
      out.text(`${d}::text AS ${d}, (${d} + `).value(String(bins.size)).text(`::numeric)::text AS ${d}_hi`);
    } else if (this.ref.kind === 'number') {
      out.text(`${d}::text AS ${d}`);
    } else {
      out.text(d);
    }
    if (this.ref.hop) out.text(`, r${this.index}`);
    return out;
  }

  /** ordering of the grouped rows by this dimension: select options in their defined order */
  order(direction: 'asc' | 'desc' = 'asc'): Sql {
    const dir = direction === 'desc' ? 'DESC' : 'ASC';
    const out = new Sql();
    // qualified: the final select list has columns of the same names (numbers as text)
    if (this.options) out.text('array_position(').value(this.options).text(`::text[], agg.${this.d}::text) ${dir} NULLS LAST, `);
    return out.text(`agg.${this.d} ${dir} NULLS LAST`);
  }

  read(row: Row): unknown {
    const v = row[this.d];
    if (v === null || v === undefined) return null;
    if (this.ref.kind === 'number' || this.def.bins) return Number(v);
    return v;
  }

  /** the predicate selecting the records of this row's value (the expression language) */
  drill(row: Row): Expression {
    const v = row[this.d];
    const self = { var: this.def.field };
    if (this.ref.hop) return this.relationDrill(row[`r${this.index}`]);
    if (v === null || v === undefined) return { '==': [self, null] };
    if (this.def.bucket && this.ref.kind === 'datetime') return { and: [{ '>=': [self, row[`${this.d}_lo`]] }, { '<': [self, row[`${this.d}_hi`]] }] };
    if (this.def.bucket) return { and: [{ '>=': [self, v] }, { '<': [self, row[`${this.d}_hi`]] }] };
    if (this.def.bins) return { and: [{ '>=': [self, Number(v)] }, { '<': [self, Number(row[`${this.d}_hi`])] }] };
    return { '==': [self, this.read(row)] };
  }

  /**
   * A value reached through a relation is a function of the relation's target, so the
   * records of a row are exactly those pointing at the targets found in it (filters may
   * not follow relations themselves).
   */
  private relationDrill(ids: unknown): Expression {
    const list = Array.isArray(ids) ? ids : [];
    const relation = { var: this.ref.hop!.relation.key };
    const present = list.filter((x): x is string => typeof x === 'string').sort();
    const parts: Expression[] = [];
    if (present.length > 0) parts.push({ in: [relation, present] });
    if (present.length < list.length) parts.push({ '==': [relation, null] });
    if (parts.length === 0) return false;
    return parts.length === 1 ? parts[0] : { or: parts };
  }
}

/** The first day of the bucket a 'YYYY-MM-DD' value falls in, as a date. */
export function dateBucket(bucket: DateBucket, x: string): string {
  if (!DATE_BUCKETS.includes(bucket)) throw new Error('unchecked bucket');
  return `date_trunc('${bucket}', (${x})::date::timestamp)::date`;
}

export function dimensionKey(def: DimensionDef): string {
  if (def.key) return def.key;
  return def.field.replace('.', '_') + (def.bucket ? `_${def.bucket}` : '');
}
