import type { LocalizedText } from '@tessera/metadata';
import type { ChartSpec } from '../charts/chart-spec';

/**
 * A dashboard: app metadata in the document's `dashboards` section, versioned with the
 * app. A grid of report widgets plus global filters that narrow every widget whose
 * report reads an object the filter applies to. The JSON Schema in ./schema matches these
 * types (test/dashboard-model.test.ts keeps them in step); ../validate/check-dashboards
 * checks what a schema cannot.
 */
export const GRID_COLUMNS = 12;
export const GLOBAL_FILTER_TYPES = ['dateRange', 'user', 'select'] as const;
export type GlobalFilterType = (typeof GLOBAL_FILTER_TYPES)[number];

export interface DashboardDef {
  key: string;
  name: LocalizedText;
  description?: LocalizedText;
  widgets: WidgetDef[];
  filters?: GlobalFilterDef[];
}

export interface WidgetDef {
  /** unique within the dashboard; names the widget in results and errors */
  id: string;
  /** key of a report in the app's `reports` section */
  report: string;
  chart: ChartSpec;
  /** default: the report's name */
  title?: LocalizedText;
  layout: WidgetLayout;
}

/** A place on a 12-column grid: columns x..x+w-1, rows y..y+h-1. Widgets never overlap. */
export interface WidgetLayout {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * A filter above the widgets. `appliesTo` says which field of which object it narrows:
 * `{ "deal": "close_date", "activity": "due_date" }`. A widget whose report's object is not
 * listed is not narrowed by it.
 */
export interface GlobalFilterDef {
  key: string;
  /** dateRange: a date/datetime field; user: a user field or owner_id/created_by/updated_by; select: a select field */
  type: GlobalFilterType;
  label: LocalizedText;
  appliesTo: Record<string, string>;
}

/** A filter's value: a date range (either end open, both inclusive) or a set of user ids / option values. */
export type GlobalFilterValue = { type: 'dateRange'; from?: string; to?: string } | { type: 'user' | 'select'; values: string[] };
