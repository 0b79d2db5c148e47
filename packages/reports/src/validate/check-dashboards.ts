import Ajv2020 from 'ajv/dist/2020';
import { schemaFieldErrors, type AppDocument, type FieldError } from '@tessera/metadata';
import { dashboardsSectionSchema } from '../dashboards/schema';
import { GRID_COLUMNS, type DashboardDef, type WidgetLayout } from '../dashboards/dashboard';
import { filterTarget } from '../dashboards/filter-fields';
import { dimensionKey } from '../compile/dimensions';
import type { DimensionDef } from '../model/report';

const validateSection = new Ajv2020({ allErrors: true, strict: true }).compile(dashboardsSectionSchema);

/**
 * Checks the `dashboards` section of an app document before it is saved or published:
 * its shape, then what the shape cannot say — unique keys and widget ids, widgets naming
 * reports of the app, layouts inside the 12-column grid without overlaps, and filters
 * naming fields of the right type. Paths read `dashboards/<i>/...`.
 */
export function checkDashboards(doc: AppDocument): FieldError[] {
  const dashboards = doc.dashboards;
  if (dashboards === undefined) return [];
  if (!validateSection(dashboards)) return schemaFieldErrors(validateSection.errors, 'dashboards');
  const reports = reportsByKey(doc);
  const errors: FieldError[] = [];
  const keys = new Set<string>();
  (dashboards as DashboardDef[]).forEach((dashboard, i) => {
    const at = `dashboards/${i}`;
    if (keys.has(dashboard.key)) errors.push({ field: `${at}/key`, code: 'duplicate', message: `another dashboard already has the key "${dashboard.key}"` });
    keys.add(dashboard.key);
    errors.push(...checkWidgets(dashboard, at, reports), ...checkFilters(doc, dashboard, at));
  });
  return errors;
}

interface ReportShape {
  kind?: unknown;
  object?: unknown;
  dimensions?: DimensionDef[];
}

function reportsByKey(doc: AppDocument): Map<string, ReportShape> {
  const map = new Map<string, ReportShape>();
  for (const report of doc.reports ?? []) {
    if (report && typeof report === 'object' && typeof (report as { key?: unknown }).key === 'string') map.set((report as { key: string }).key, report as ReportShape);
  }
  return map;
}

function checkWidgets(dashboard: DashboardDef, at: string, reports: Map<string, ReportShape>): FieldError[] {
  const errors: FieldError[] = [];
  const ids = new Set<string>();
  dashboard.widgets.forEach((widget, j) => {
    const w = `${at}/widgets/${j}`;
    if (ids.has(widget.id)) errors.push({ field: `${w}/id`, code: 'duplicate', message: `another widget of this dashboard already has the id "${widget.id}"` });
    ids.add(widget.id);
    const report = reports.get(widget.report);
    if (!report) errors.push({ field: `${w}/report`, code: 'unknown_report', message: `"${widget.report}" is not a report of this app` });
    else errors.push(...checkChartDimensions(widget.chart, report, `${w}/chart`));
    const { x, w: width } = widget.layout;
    if (x + width > GRID_COLUMNS) {
      errors.push({ field: `${w}/layout/w`, code: 'out_of_grid', message: `the widget spans columns ${x}..${x + width - 1}, past the grid's ${GRID_COLUMNS} columns` });
    }
    dashboard.widgets.slice(0, j).forEach((other) => {
      if (overlaps(widget.layout, other.layout)) {
        errors.push({ field: `${w}/layout`, code: 'overlap', message: `the widget overlaps widget "${other.id}"` });
      }
    });
  });
  return errors;
}

/**
 * A chart's category and series must be dimensions of its report (their keys as the report
 * names them). Only grouped reports declare their dimensions; the other kinds name theirs
 * (`period`, the stage) and a wrong name is refused when the chart is built.
 */
function checkChartDimensions(chart: DashboardDef['widgets'][number]['chart'], report: ReportShape, at: string): FieldError[] {
  if (report.kind !== 'summary' && report.kind !== 'pivot') return [];
  const dims = (report.dimensions ?? []).filter((d) => typeof d?.field === 'string').map(dimensionKey);
  const errors: FieldError[] = [];
  for (const name of ['category', 'series'] as const) {
    const value = chart[name];
    if (value !== undefined && !dims.includes(value)) {
      errors.push({ field: `${at}/${name}`, code: 'unknown_dimension', message: `"${value}" is not a dimension of the report (${dims.join(', ') || 'it has none'})` });
    }
  }
  return errors;
}

function overlaps(a: WidgetLayout, b: WidgetLayout): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function checkFilters(doc: AppDocument, dashboard: DashboardDef, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const keys = new Set<string>();
  (dashboard.filters ?? []).forEach((filter, k) => {
    const f = `${at}/filters/${k}`;
    if (keys.has(filter.key)) errors.push({ field: `${f}/key`, code: 'duplicate', message: `another filter of this dashboard already has the key "${filter.key}"` });
    keys.add(filter.key);
    for (const [objectKey, fieldKey] of Object.entries(filter.appliesTo)) {
      const target = filterTarget(doc, filter.type, objectKey, fieldKey);
      if ('error' in target) errors.push({ field: `${f}/appliesTo/${objectKey}`, code: target.code, message: target.error });
    }
  });
  return errors;
}

