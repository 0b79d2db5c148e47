import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError, type AppDocument, type Locale } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import { localeOf } from '@tessera/rules';
import { findDashboard, renderChartSvg, runDashboard, type DashboardDef } from '@tessera/reports';
import type { ServerContext } from '../context';
import { actorOf, identity } from '../auth/context';
import { accessPolicyFor } from '../auth/access';
import { requireAdmin } from '../auth/admin';
import { appParams, keyString } from '../apps/params';

type DashboardRoute = { Params: { app: string; dashboard: string } };
type DraftDashboardRoute = { Params: { app: string; key: string } };
type WidgetRoute = { Params: { app: string; dashboard: string; widget: string } };

const dashboardParams = { type: 'object', required: ['app', 'dashboard'], properties: { app: keyString, dashboard: keyString } } as const;
const widgetParams = { type: 'object', required: ['app', 'dashboard', 'widget'], properties: { app: keyString, dashboard: keyString, widget: keyString } } as const;
const draftDashboardParams = { type: 'object', required: ['app', 'key'], properties: { app: keyString, key: keyString } } as const;

/**
 * Dashboards: the running result of a published dashboard (every widget's report with the
 * global filters applied, plus its chart option), and editing the draft's `dashboards`
 * section one dashboard at a time (saved through the draft, so the whole document is
 * validated as on any draft save). Changing the draft is for workspace administrators.
 */
export function registerDashboardRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get<DashboardRoute & { Querystring: Record<string, unknown> }>(
    '/api/apps/:app/dashboards/:dashboard/result',
    { schema: { params: dashboardParams } },
    async (request) => {
      const who = identity(request);
      const published = await ctx.metadata.getPublished(who.workspaceId, request.params.app);
      const dashboard = findDashboard(published.document, request.params.dashboard);
      if (!dashboard) throw notFound(request.params.dashboard);
      const { locale: requested, ...filterValues } = request.query;
      const policy = await accessPolicyFor(request, ctx.database, published);
      return runDashboard(ctx.database.db, published, dashboard, { policy, env: evalEnv(request), filterValues, locale: requestLocale(request, requested) });
    },
  );

  // One widget drawn on the server, for mail, PDFs and previews; the same filters as the result.
  api.get<WidgetRoute & { Querystring: Record<string, unknown> }>(
    '/api/apps/:app/dashboards/:dashboard/widgets/:widget/chart.svg',
    { schema: { params: widgetParams } },
    async (request, reply) => {
      const who = identity(request);
      const published = await ctx.metadata.getPublished(who.workspaceId, request.params.app);
      const dashboard = findDashboard(published.document, request.params.dashboard);
      if (!dashboard) throw notFound(request.params.dashboard);
      const widget = dashboard.widgets.find((w) => w.id === request.params.widget);
      if (!widget) throw new ProblemError('not_found', `Dashboard "${dashboard.key}" has no widget "${request.params.widget}"`);
      const { locale: requested, width, height, ...filterValues } = request.query;
      const size = { width: pixels(width, 'width', 800), height: pixels(height, 'height', 400) };
      const locale = requestLocale(request, requested);
      const policy = await accessPolicyFor(request, ctx.database, published);
      const [drawn] = (await runDashboard(ctx.database.db, published, { ...dashboard, widgets: [widget] }, { policy, env: evalEnv(request), filterValues, locale })).widgets;
      if (drawn!.error) throw new ProblemError(PROBLEM_KINDS[drawn!.error.status] ?? 'unprocessable', drawn!.error.title, drawn!.error.errors);
      const svg = await renderChartSvg(drawn!.option!, { ...size, locale });
      return reply.header('Content-Type', 'image/svg+xml; charset=utf-8').header('Cache-Control', 'no-store').send(svg);
    },
  );

  api.get<{ Params: { app: string } }>('/api/apps/:app/draft/dashboards', { schema: { params: appParams } }, async (request) => {
    const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
    return { items: draft.dashboards ?? [] };
  });

  api.put<DraftDashboardRoute & { Body: Record<string, unknown> }>(
    '/api/apps/:app/draft/dashboards/:key',
    { schema: { params: draftDashboardParams, body: { type: 'object' } } },
    async (request, reply) => {
      await requireAdmin(request, ctx.users);
      const { key } = request.params;
      if (request.body.key !== undefined && request.body.key !== key) {
        throw new ProblemError('unprocessable', 'The dashboard key in the body differs from the one in the path', [
          { field: 'key', code: 'mismatch', message: `the path names "${key}", the body "${String(request.body.key)}"` },
        ]);
      }
      const dashboard = { ...request.body, key } as unknown as DashboardDef;
      const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
      const dashboards = [...(draft.dashboards ?? [])];
      const at = dashboards.findIndex((d) => (d as DashboardDef).key === key);
      if (at >= 0) dashboards[at] = dashboard;
      else dashboards.push(dashboard);
      const saved = await ctx.metadata.saveDraft(actorOf(request), request.params.app, { ...draft, dashboards } satisfies AppDocument);
      return reply.code(at >= 0 ? 200 : 201).send(findDashboard(saved, key));
    },
  );

  api.delete<DraftDashboardRoute>('/api/apps/:app/draft/dashboards/:key', { schema: { params: draftDashboardParams } }, async (request, reply) => {
    await requireAdmin(request, ctx.users);
    const draft = await ctx.metadata.getDraft(identity(request).workspaceId, request.params.app);
    const dashboards = (draft.dashboards ?? []).filter((d) => (d as DashboardDef).key !== request.params.key);
    if (dashboards.length === (draft.dashboards ?? []).length) throw notFound(request.params.key);
    await ctx.metadata.saveDraft(actorOf(request), request.params.app, { ...draft, dashboards });
    return reply.code(204).send();
  });
}

const PROBLEM_KINDS: Record<number, ProblemError['kind']> = { 400: 'bad_request', 403: 'forbidden', 404: 'not_found', 422: 'unprocessable' };

/** A picture size from the query string: whole pixels, 100 to 4000. */
function pixels(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 100 && n <= 4000)) throw new ProblemError('bad_request', `Invalid ${name}`, [{ field: name, code: 'range', message: `${name} is a whole number of pixels from 100 to 4000` }]);
  return n;
}

function notFound(key: string): ProblemError {
  return new ProblemError('not_found', `Dashboard "${key}" not found`);
}

/** `?locale=en|zh` wins over Accept-Language. */
export function requestLocale(request: FastifyRequest, requested: unknown): Locale {
  if (requested === 'en' || requested === 'zh') return requested;
  if (requested !== undefined) {
    throw new ProblemError('bad_request', 'Unknown locale', [{ field: 'locale', code: 'enum', message: 'locale is en or zh' }]);
  }
  return localeOf(request.headers['accept-language']);
}

/** What "now" and "me" mean to a filter: relative dates and the caller. */
export function evalEnv(request: FastifyRequest): EvalEnv {
  return { now: new Date(), userId: identity(request).userId };
}
