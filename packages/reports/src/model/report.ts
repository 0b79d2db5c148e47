import type { Expression, LocalizedText } from '@tessera/metadata';
import type { ReportKind } from './result';

/**
 * A report definition: app metadata in the document's `reports` section, versioned with
 * the app. The JSON Schema in ./schema matches these types (a test keeps them in step);
 * ../validate/check-reports checks what a schema cannot (fields exist, types fit).
 */
export const REPORT_KINDS = ['table', 'summary', 'pivot', 'funnel', 'timeseries', 'kpi', 'forecast'] as const;
export const DATE_BUCKETS = ['day', 'week', 'month', 'quarter', 'year'] as const;
export const AGGREGATES = ['count', 'countDistinct', 'sum', 'avg', 'min', 'max'] as const;

export type DateBucket = (typeof DATE_BUCKETS)[number];
export type Aggregate = (typeof AGGREGATES)[number];

export interface DimensionDef {
  /** column key of the dimension in the result; defaults to the field path with `.` as `_` (plus `_<bucket>`) */
  key?: string;
  /** a field of the report's object, or `relation.field` one hop through a relation */
  field: string;
  /** dates and datetimes: group by the period the value falls in (datetimes in the viewer's time zone) */
  bucket?: DateBucket;
  /** numbers: group into bins `[start + k*size, start + (k+1)*size)` */
  bins?: { size: number; start?: number };
  label?: LocalizedText;
}

export interface MeasureDef {
  key: string;
  aggregate: Aggregate;
  /** required except for `count` (which then counts records) */
  field?: string;
  /** only records for which this holds are aggregated (an expression, 'filter' context) */
  filter?: Expression;
  label?: LocalizedText;
}

export interface SortDef {
  /** a dimension or measure key */
  key: string;
  direction?: 'asc' | 'desc';
}

export interface FunnelDef {
  /** a select field; its options in their defined order are the stages */
  stageField: string;
  /** key of a measure of the report; default: the record count */
  measure?: string;
  /** the stages shown, in option order (default: every option) — e.g. leave out `lost` */
  stages?: string[];
  /** a stage's value counts records at that stage or any later one (default true: "reached") */
  cumulative?: boolean;
}

export interface TimeseriesDef {
  /** a date or datetime field */
  dateField: string;
  bucket: DateBucket;
  /** previous: change against the bucket before (MoM for months); yoy: against the same bucket a year earlier */
  compare?: 'previous' | 'yoy';
}

export interface KpiDef {
  /** key of a measure of the report */
  measure: string;
  target?: number;
}

export interface ForecastDef {
  /** a currency or number field */
  amountField: string;
  /** a select field */
  stageField: string;
  /** win probability (0..1) per stage option value; stages not listed weigh 0 */
  probabilities?: Record<string, number>;
  /** or: a percent/number field of the record holding the probability (0..100, or 0..1 when the field's max is <= 1) */
  probabilityField?: string;
  /** a date or datetime field */
  closeDateField: string;
  bucket: 'month' | 'quarter';
}

export interface ReportDef {
  key: string;
  name: LocalizedText;
  description?: LocalizedText;
  kind: ReportKind;
  /** the source object's key */
  object: string;
  filter?: Expression;
  dimensions?: DimensionDef[];
  measures?: MeasureDef[];
  /** table: the fields listed (own or one hop) */
  columns?: string[];
  sort?: SortDef[];
  limit?: number;
  /** a grand-total row (ReportResult.totals) */
  totals?: boolean;
  /** a subtotal row after each group of the leading dimensions */
  subtotals?: boolean;
  /** pivot: how many of the last dimensions spread across columns (default 1) */
  pivot?: { columns?: number };
  funnel?: FunnelDef;
  timeseries?: TimeseriesDef;
  kpi?: KpiDef;
  forecast?: ForecastDef;
}

/** The most rows a report returns (and the default of a table report's limit is 100). */
export const MAX_REPORT_ROWS = 10_000;
