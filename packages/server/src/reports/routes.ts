import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context';
import { registerDashboardRoutes } from './dashboards-routes';
import { registerReportExportRoutes } from './export-routes';
import { registerReportRoutes } from './report-routes';

/** The reports API (see docs/api.md). */
export function registerReportsRoutes(api: FastifyInstance, ctx: ServerContext): void {
  registerReportRoutes(api, ctx);
  registerDashboardRoutes(api, ctx);
  registerReportExportRoutes(api, ctx);
}
