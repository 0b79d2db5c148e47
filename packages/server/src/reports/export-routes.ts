import type { FastifyInstance } from 'fastify';
import { ProblemError, findObject, type Locale, type LocalizedText } from '@tessera/metadata';
import { reportToCsv, reportToXlsx, runReport, type ReportDef } from '@tessera/reports';
import type { ServerContext } from '../context';
import { identity } from '../auth/context';
import { accessPolicyFor } from '../auth/access';
import { keyString } from '../apps/params';
import { evalEnv, requestLocale } from './dashboards-routes';

type ExportRoute = { Params: { app: string; report: string }; Querystring: { format: 'csv' | 'xlsx'; locale?: string } };

const exportParams = { type: 'object', required: ['app', 'report'], properties: { app: keyString, report: keyString } } as const;
const exportQuery = {
  type: 'object',
  required: ['format'],
  additionalProperties: false,
  properties: { format: { enum: ['csv', 'xlsx'] }, locale: { enum: ['en', 'zh'] } },
} as const;

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;

/**
 * A published report's result as a file, run as the caller (their record scope and field
 * permissions apply, and their role must allow `export` on the report's object).
 */
export function registerReportExportRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get<ExportRoute>('/api/apps/:app/reports/:report/export', { schema: { params: exportParams, querystring: exportQuery } }, async (request, reply) => {
    const published = await ctx.metadata.getPublished(identity(request).workspaceId, request.params.app);
    const report = (published.document.reports ?? []).find((r) => (r as ReportDef).key === request.params.report) as ReportDef | undefined;
    if (!report) throw new ProblemError('not_found', `Report "${request.params.report}" not found`);
    const policy = await accessPolicyFor(request, ctx.database, published);
    const object = findObject(published.document, report.object);
    if (object && !policy.can(object, 'export')) throw new ProblemError('forbidden', `You may not export ${report.object} records`);
    const locale = requestLocale(request, request.query.locale);
    const result = await runReport(ctx.database.db, published, report, { policy, env: evalEnv(request), locale });
    const { format } = request.query;
    const name = localized(report.name, locale) || report.key;
    const body = format === 'csv' ? reportToCsv(result, { locale }) : await reportToXlsx(result, { locale, sheetName: name });
    return reply
      .header('Content-Type', CONTENT_TYPES[format])
      .header('Content-Disposition', contentDisposition(`${name}.${format}`, `${report.key}.${format}`))
      .header('Cache-Control', 'no-store')
      .send(body);
  });
}

function localized(text: LocalizedText, locale: Locale): string {
  return text[locale] ?? text.en ?? text.zh ?? '';
}

/**
 * `attachment` with an ASCII `filename` for old clients and the real name as RFC 5987
 * `filename*` (UTF-8, percent-encoded), which every current browser prefers — so a
 * report called 销售漏斗 downloads as 销售漏斗.xlsx.
 */
export function contentDisposition(filename: string, asciiFallback: string): string {
  const ascii = /^[\x20-\x7e]+$/.test(filename) ? filename.replace(/["\\]/g, '_') : asciiFallback;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
