import type { Kysely } from 'kysely';
import type { EChartsOption } from 'echarts';
import { isProblemError, type FieldError, type Locale, type LocalizedText, type PublishedApp } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import type { AccessPolicy, SystemDatabase } from '@tessera/store';
import type { ReportDef } from '../model/report';
import type { ReportResult } from '../model/result';
import { runReport } from '../run/run-report';
import { toEChartsOption } from '../charts/to-echarts';
import type { DashboardDef, GlobalFilterValue, WidgetDef } from './dashboard';
import { globalFilterExpression, parseFilterValues } from './filter-values';

export interface WidgetResult {
  id: string;
  title: string;
  report: string;
  layout: WidgetDef['layout'];
  chart: WidgetDef['chart'];
  /** the global filter expression ANDed into this widget's report (already inside every drill) */
  extraFilter?: unknown;
  result?: ReportResult;
  option?: EChartsOption;
  /** a widget the viewer may not see, or whose report fails, says why instead of failing the dashboard */
  error?: { status: number; title: string; errors: FieldError[] };
}

export interface DashboardResult {
  key: string;
  name: string;
  filters: { key: string; label: string; type: string; value: GlobalFilterValue | null }[];
  widgets: WidgetResult[];
}

export interface RunDashboardOptions {
  policy: AccessPolicy;
  env: EvalEnv;
  /** by filter key; see parseFilterValues for the accepted forms */
  filterValues?: Record<string, unknown>;
  locale?: Locale;
}

/**
 * Runs every widget's report (one statement each, concurrently) with the dashboard's
 * global filters turned into one extra filter per widget, and builds each chart option.
 */
export async function runDashboard(db: Kysely<SystemDatabase>, app: PublishedApp, dashboard: DashboardDef, options: RunDashboardOptions): Promise<DashboardResult> {
  const locale = options.locale ?? 'en';
  const doc = app.document;
  const values = parseFilterValues(doc, dashboard, options.filterValues ?? {}, options.env);
  const reports = new Map((doc.reports ?? []).map((r) => [(r as ReportDef).key, r as ReportDef]));
  const widgets = await Promise.all(
    dashboard.widgets.map(async (widget): Promise<WidgetResult> => {
      const report = reports.get(widget.report);
      const base = { id: widget.id, report: widget.report, layout: widget.layout, chart: widget.chart };
      const title = text(widget.title ?? report?.name, locale) || widget.report;
      if (!report) return { ...base, title, error: { status: 404, title: `Report "${widget.report}" not found`, errors: [] } };
      const extraFilter = globalFilterExpression(doc, dashboard, values, report.object, options.env);
      try {
        const result = await runReport(db, app, report, { policy: options.policy, env: options.env, locale, ...(extraFilter === undefined ? {} : { extraFilter }) });
        return { ...base, title, ...(extraFilter === undefined ? {} : { extraFilter }), result, option: toEChartsOption(result, widget.chart, { locale }) };
      } catch (e) {
        if (!isProblemError(e)) throw e;
        return { ...base, title, error: { status: e.status, title: e.message, errors: e.errors } };
      }
    }),
  );
  return {
    key: dashboard.key,
    name: text(dashboard.name, locale),
    filters: (dashboard.filters ?? []).map((f) => ({ key: f.key, label: text(f.label, locale), type: f.type, value: values.get(f.key) ?? null })),
    widgets,
  };
}

function text(value: LocalizedText | undefined, locale: Locale): string {
  if (!value) return '';
  return value[locale] ?? value.en ?? value.zh ?? '';
}

/** The dashboard with this key in a document, if any. */
export function findDashboard(doc: { dashboards?: unknown[] }, key: string): DashboardDef | undefined {
  return (doc.dashboards ?? []).find((d) => (d as DashboardDef).key === key) as DashboardDef | undefined;
}
