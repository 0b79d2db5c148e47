/**
 * What running a report returns: the contract between the SQL side (../compile), the
 * chart builder (../charts), exports and the web app. Rows are flat whatever the kind;
 * a pivot names which dimension spreads across columns.
 */
export type ReportKind = 'table' | 'summary' | 'pivot' | 'funnel' | 'timeseries' | 'kpi' | 'forecast';

export type ColumnRole =
  /** a group-by value (a field, a date bucket, a number bin, a stage) */
  | 'dimension'
  /** an aggregate */
  | 'measure'
  /** a derived ratio: funnel conversion, KPI attainment (0..1, or null when undefined) */
  | 'rate'
  /** period-over-period change of a measure (ratio, null when the earlier period is 0 or missing) */
  | 'change'
  /** a KPI's target */
  | 'target'
  /** a plain record field of a table report */
  | 'field';

export interface ReportColumn {
  /** stable key rows are read by */
  key: string;
  label: string;
  role: ColumnRole;
  /** value type as the expression language names it, plus money for currency sums */
  type: 'text' | 'number' | 'money' | 'date' | 'datetime' | 'boolean' | 'list';
  /** for a date dimension: the bucket ('month'...) its values are (ISO date of the bucket's first day) */
  bucket?: 'day' | 'week' | 'month' | 'quarter' | 'year';
  /** a select dimension's values in their defined order, with labels */
  options?: { value: string; label: string }[];
  currency?: string;
}

export interface ReportRow {
  /** by column key; numbers as JS numbers except money/decimal sums, which are decimal strings */
  values: Record<string, unknown>;
  /**
   * the filter expression (the expression language) selecting exactly the records this
   * row aggregates — the report's filter AND the row's dimension values — so a click opens
   * the matching record list
   */
  drill: unknown;
  /**
   * a subtotal row: the dimensions after `level` are null and roll up; `rolledUp` names
   * the rolled-up dimension keys (a pivot's column totals roll up the row dimensions, which
   * are not a suffix)
   */
  subtotal?: { level: number; rolledUp?: string[] };
}

export interface ReportResult {
  kind: ReportKind;
  columns: ReportColumn[];
  rows: ReportRow[];
  /** the grand totals of the measures (when asked for), with the drill of the whole report */
  totals?: ReportRow;
  /** pivot: which dimension column keys go down the rows and which across */
  pivot?: { rows: string[]; columns: string[] };
  /** kpi: the measure column and its target column */
  kpi?: { measure: string; target?: string };
}
