import { schemaFieldErrors, type AppDocument, type FieldError, type ObjectDef, type ValueKind } from '@tessera/metadata';
import { checkExpression } from '@tessera/expr';
import Ajv2020 from 'ajv/dist/2020';
import { reportSchema } from '../model/schema';
import type { ReportDef } from '../model/report';
import { dimensionKey } from '../compile/dimensions';
import { liveObject, resolveFieldPath, type FieldRef } from '../compile/fields';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateShape = ajv.compile(reportSchema);

/** Checks the `reports` section of an app document before it is saved or published. */
export function checkReports(doc: AppDocument): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  (doc.reports ?? []).forEach((report, i) => {
    const at = `reports/${i}`;
    errors.push(...checkReport(doc, report, at));
    const key = (report as { key?: unknown })?.key;
    if (typeof key === 'string') {
      if (seen.has(key)) errors.push({ field: `${at}/key`, code: 'duplicate', message: `report key "${key}" is already used by reports/${seen.get(key)}` });
      else seen.set(key, i);
    }
  });
  return errors;
}

/** Everything wrong with one report definition, each error's `field` a path under `at`. */
export function checkReport(doc: AppDocument, report: unknown, at: string): FieldError[] {
  if (!validateShape(report)) {
    return schemaFieldErrors(validateShape.errors, at);
  }
  return new ReportChecker(doc, report as ReportDef, at).run();
}

const ORDERED: ReadonlySet<ValueKind> = new Set(['number', 'date', 'datetime', 'text']);

class ReportChecker {
  private readonly errors: FieldError[] = [];
  private object: ObjectDef | undefined;

  constructor(
    private readonly doc: AppDocument,
    private readonly report: ReportDef,
    private readonly at: string,
  ) {}

  run(): FieldError[] {
    const r = this.report;
    this.object = liveObject(this.doc, r.object);
    if (!this.object) {
      this.error('object', 'unknown_object', `unknown object "${r.object}"`);
      return this.errors;
    }
    if (r.filter !== undefined) this.expression(r.filter, 'filter');
    this.dimensions();
    this.measures();
    this.kindRules();
    this.sort();
    return this.errors;
  }

  private error(path: string, code: string, message: string): void {
    this.errors.push({ field: `${this.at}/${path}`, code, message });
  }

  private expression(expr: unknown, path: string): void {
    const { errors } = checkExpression(expr, { object: this.object!, app: this.doc }, 'boolean', 'filter');
    for (const e of errors) this.error(e.path ? `${path}/${e.path}` : path, e.code, e.message);
  }

  /** the field at `path`, or an error at `at` */
  private field(path: string, at: string, allowed?: ReadonlySet<ValueKind> | ValueKind[], what = 'this use'): FieldRef | null {
    const ref = resolveFieldPath(this.doc, this.object!, path);
    if ('code' in ref) {
      this.error(at, ref.code, ref.message);
      return null;
    }
    if (ref.field?.encrypted) {
      // stored as ciphertext: SQL can neither group, compare nor show it
      this.error(at, 'encrypted_field', `"${path}" is an encrypted field; reports cannot read encrypted values`);
      return null;
    }
    const kinds = allowed ? new Set(allowed) : null;
    if (kinds && !kinds.has(ref.kind)) {
      this.error(at, 'type', `"${path}" is a ${ref.field?.type ?? ref.kind} field; ${what} needs ${[...kinds].join(' or ')}`);
      return null;
    }
    return ref;
  }

  private dimensions(): void {
    const keys = new Set<string>();
    (this.report.dimensions ?? []).forEach((d, i) => {
      const at = `dimensions/${i}`;
      const ref = this.field(d.field, `${at}/field`, ['text', 'number', 'boolean', 'date', 'datetime'], 'a dimension');
      const key = dimensionKey(d);
      if (keys.has(key)) this.error(`${at}/key`, 'duplicate', `dimension key "${key}" is used twice; give one a key`);
      keys.add(key);
      if (!ref) return;
      if (d.bucket && ref.kind !== 'date' && ref.kind !== 'datetime') this.error(`${at}/bucket`, 'type', `only dates and datetimes are bucketed; "${d.field}" is ${ref.kind}`);
      if (d.bins && ref.kind !== 'number') this.error(`${at}/bins`, 'type', `only numbers are put in bins; "${d.field}" is ${ref.kind}`);
    });
  }

  private measures(): void {
    const dims = new Set((this.report.dimensions ?? []).map(dimensionKey));
    const keys = new Set<string>();
    (this.report.measures ?? []).forEach((m, j) => {
      const at = `measures/${j}`;
      if (keys.has(m.key) || dims.has(m.key)) this.error(`${at}/key`, 'duplicate', `column key "${m.key}" is used twice`);
      keys.add(m.key);
      if (m.filter !== undefined) this.expression(m.filter, `${at}/filter`);
      if (m.field === undefined) {
        if (m.aggregate !== 'count') this.error(`${at}/field`, 'required', `${m.aggregate} needs a field`);
        return;
      }
      if (m.aggregate === 'sum' || m.aggregate === 'avg') this.field(m.field, `${at}/field`, ['number'], m.aggregate);
      else if (m.aggregate === 'min' || m.aggregate === 'max') this.field(m.field, `${at}/field`, ORDERED, m.aggregate);
      else this.field(m.field, `${at}/field`, ['text', 'number', 'boolean', 'date', 'datetime'], m.aggregate);
    });
  }

  private measureKey(key: string, at: string, aggregates?: string[]): void {
    const measures = this.report.measures ?? [];
    const m = measures.find((x) => x.key === key);
    if (!m && !(key === 'count' && measures.length === 0)) this.error(at, 'unknown_measure', `no measure "${key}" in this report`);
    else if (m && aggregates && !aggregates.includes(m.aggregate)) this.error(at, 'type', `measure "${key}" must be one of ${aggregates.join(', ')} here`);
  }

  private noDimensions(why: string): void {
    if ((this.report.dimensions ?? []).length > 0) this.error('dimensions', 'unsupported', why);
  }

  private kindRules(): void {
    const r = this.report;
    const select = (path: string, at: string) => {
      const ref = this.field(path, at, ['text']);
      if (ref && ref.field?.type !== 'select') {
        this.error(at, 'type', `"${path}" must be a select field (its options give the order)`);
        return null;
      }
      return ref;
    };
    switch (r.kind) {
      case 'pivot': {
        const n = (r.dimensions ?? []).length;
        if (n < 2) this.error('dimensions', 'min_items', 'a pivot needs at least two dimensions (rows and columns)');
        else if ((r.pivot?.columns ?? 1) >= n) this.error('pivot/columns', 'max', 'at least one dimension must go down the rows');
        break;
      }
      case 'funnel': {
        if (!r.funnel) return this.error('funnel', 'required', 'a funnel report needs funnel.stageField');
        this.noDimensions('a funnel groups by its stage field only');
        const ref = select(r.funnel.stageField, 'funnel/stageField');
        const options = ref?.field?.options?.map((o) => o.value) ?? [];
        r.funnel.stages?.forEach((s, i) => {
          if (ref && !options.includes(s)) this.error(`funnel/stages/${i}`, 'enum', `"${s}" is not an option of ${r.funnel!.stageField}`);
        });
        if (r.funnel.measure) this.measureKey(r.funnel.measure, 'funnel/measure', r.funnel.cumulative === false ? undefined : ['count', 'sum']);
        break;
      }
      case 'timeseries':
        if (!r.timeseries) return this.error('timeseries', 'required', 'a timeseries report needs timeseries.dateField and bucket');
        this.noDimensions('a time series groups by its date field only');
        this.field(r.timeseries.dateField, 'timeseries/dateField', ['date', 'datetime'], 'a time series');
        break;
      case 'kpi':
        if (!r.kpi) return this.error('kpi', 'required', 'a KPI report needs kpi.measure');
        this.noDimensions('a KPI is one number');
        this.measureKey(r.kpi.measure, 'kpi/measure');
        break;
      case 'forecast': {
        const f = r.forecast;
        if (!f) return this.error('forecast', 'required', 'a forecast report needs forecast.amountField, stageField, closeDateField and bucket');
        this.noDimensions('a forecast groups by close period only');
        this.field(f.amountField, 'forecast/amountField', ['number'], 'an amount');
        const stage = select(f.stageField, 'forecast/stageField');
        this.field(f.closeDateField, 'forecast/closeDateField', ['date', 'datetime'], 'a close date');
        if ((f.probabilities === undefined) === (f.probabilityField === undefined)) {
          this.error('forecast/probabilities', 'required', 'give either probabilities (per stage) or probabilityField');
        }
        if (f.probabilityField) this.field(f.probabilityField, 'forecast/probabilityField', ['number'], 'a probability');
        const options = stage?.field?.options?.map((o) => o.value) ?? [];
        for (const value of Object.keys(f.probabilities ?? {})) {
          if (stage && !options.includes(value)) this.error(`forecast/probabilities/${value}`, 'enum', `"${value}" is not an option of ${f.stageField}`);
        }
        break;
      }
      case 'table':
        if (!r.columns) return this.error('columns', 'required', 'a table report lists its columns');
        this.noDimensions('a table lists records; use a summary to group them');
        if ((r.measures ?? []).length > 0) this.error('measures', 'unsupported', 'a table lists records; use a summary to aggregate them');
        r.columns.forEach((c, i) => this.field(c, `columns/${i}`));
        break;
      case 'summary':
        break;
    }
  }

  private sort(): void {
    const r = this.report;
    const dims = new Set((r.dimensions ?? []).map(dimensionKey));
    const measures = new Set((r.measures ?? []).map((m) => m.key));
    if ((r.measures ?? []).length === 0) measures.add('count');
    (r.sort ?? []).forEach((s, i) => {
      const at = `sort/${i}/key`;
      if (r.kind === 'table') {
        this.field(s.key, at, ['text', 'number', 'boolean', 'date', 'datetime'], 'sorting');
        return;
      }
      if (!dims.has(s.key) && !measures.has(s.key)) this.error(at, 'unknown_column', `"${s.key}" is not a dimension or measure key of this report`);
      else if (r.subtotals && !dims.has(s.key)) this.error(at, 'unsupported', 'with subtotals, rows are sorted by dimensions only');
    });
  }
}
