import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError, type AppDocument, type Locale } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import { localeOf } from '@tessera/rules';
import { checkReport, runReport, type ReportDef } from '@tessera/reports';
import type { ServerContext } from '../context';
import { actorOf, identity } from '../auth/context';
import { accessPolicyFor } from '../auth/access';
import { requireAdmin } from '../auth/admin';
import { appParams, keyString } from '../apps/params';

type ReportRoute = { Params: { app: string; report: string }; Querystring: ResultQuery };
type DraftReportRoute = { Params: { app: string; key: string } };
type ResultQuery = { filter?: string; locale?: string };

const reportParams = { type: 'object', required: ['app', 'report'], properties: { app: keyString, report: keyString } } as const;
const draftReportParams = { type: 'object', required: ['app', 'key'], properties: { app: keyString, key: keyString } } as const;
const resultQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { filter: { type: 'string', maxLength: 20_000 }, locale: { enum: ['en', 'zh'] } },
} as const;

/**
 * Reports: run a saved report of the published version or an ad-hoc definition (as the
 * caller: their record scope and field permissions apply), and edit the draft's
 * `reports` section one report at a time, saved through the draft so the whole document
 * is validated as on any draft save; changing the draft is for administrators.
 */
export function registerReportRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post<{ Params: { app: string }; Querystring: ResultQuery; Body: Record<string, unknown> }>(
    '/api/apps/:app/reports/run',
    { schema: { params: appParams, querystring: resultQuery, body: { type: 'object' } } },
    async (request) => {
      const published = await ctx.metadata.getPublished(identity(request).workspaceId, request.params.app);
      const report = { key: 'adhoc', name: { en: 'Ad-hoc report', zh: '临时报表' }, ...request.body };
      const errors = checkReport(published.document, report, 'body');
      if (errors.length > 0) throw new ProblemError('bad_request', 'The report definition is invalid', errors);
      return run(request, published, report as ReportDef);
    },
  );

  api.get<ReportRoute>('/api/apps/:app/reports/:report/result', { schema: { params: reportParams, querystring: resultQuery } }, async (request) => {
    const published = await ctx.metadata.getPublished(identity(request).workspaceId, request.params.app);
    const report = findReport(published.document, request.params.report);
    if (!report) throw notFound(request.params.report);
    return run(request, published, report);
  });

  api.get<{ Params: { app: string } }>('/api/apps/:app/draft/reports', { schema: { params: appParams } }, async (request) => {
    const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
    return { items: draft.reports ?? [] };
  });

  api.get<DraftReportRoute>('/api/apps/:app/draft/reports/:key', { schema: { params: draftReportParams } }, async (request) => {
    const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
    const report = findReport(draft, request.params.key);
    if (!report) throw notFound(request.params.key);
    return report;
  });

  api.put<DraftReportRoute & { Body: Record<string, unknown> }>(
    '/api/apps/:app/draft/reports/:key',
    { schema: { params: draftReportParams, body: { type: 'object' } } },
    async (request, reply) => {
      // reports are app metadata: changing them is designing the app
      await requireAdmin(request, ctx.users);
      const { key } = request.params;
      if (request.body.key !== undefined && request.body.key !== key) {
        throw new ProblemError('unprocessable', 'The report key in the body differs from the one in the path', [
          { field: 'key', code: 'mismatch', message: `the path names "${key}", the body "${String(request.body.key)}"` },
        ]);
      }
      const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
      const reports = [...(draft.reports ?? [])];
      const at = reports.findIndex((r) => (r as ReportDef).key === key);
      const report = { ...request.body, key };
      if (at >= 0) reports[at] = report;
      else reports.push(report);
      const saved = await ctx.metadata.saveDraft(actorOf(request), request.params.app, { ...draft, reports } satisfies AppDocument);
      return reply.code(at >= 0 ? 200 : 201).send(findReport(saved, key));
    },
  );

  api.delete<DraftReportRoute>('/api/apps/:app/draft/reports/:key', { schema: { params: draftReportParams } }, async (request, reply) => {
    await requireAdmin(request, ctx.users);
    const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
    const reports = (draft.reports ?? []).filter((r) => (r as ReportDef).key !== request.params.key);
    if (reports.length === (draft.reports ?? []).length) throw notFound(request.params.key);
    await ctx.metadata.saveDraft(actorOf(request), request.params.app, { ...draft, reports } satisfies AppDocument);
    return reply.code(204).send();
  });

  async function run(request: FastifyRequest<{ Querystring: ResultQuery }>, published: Awaited<ReturnType<typeof ctx.metadata.getPublished>>, report: ReportDef) {
    const policy = await accessPolicyFor(request, ctx.database, published);
    const extraFilter = parseFilter(request.query.filter);
    const locale: Locale = (request.query.locale as Locale | undefined) ?? localeOf(request.headers['accept-language']);
    return runReport(ctx.database.db, published, report, { policy, env: evalEnv(request), locale, ...(extraFilter !== undefined ? { extraFilter } : {}) });
  }
}

function findReport(doc: AppDocument, key: string): ReportDef | undefined {
  return (doc.reports ?? []).find((r) => (r as ReportDef).key === key) as ReportDef | undefined;
}

/** `?filter=` is a JSON expression ANDed to the report's filter (what a list would pass). */
function parseFilter(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProblemError('bad_request', 'The filter is not JSON', [{ field: 'filter', code: 'json', message: 'filter must be a JSON expression' }]);
  }
}

function notFound(key: string): ProblemError {
  return new ProblemError('not_found', `Report "${key}" not found`);
}

function evalEnv(request: FastifyRequest): EvalEnv {
  return { now: new Date(), userId: identity(request).userId };
}
