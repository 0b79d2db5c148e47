import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import { MetadataRepository, TokenRepository, UserRepository, checkRoles, type Database } from '@tessera/store';
import { checkFlows } from '@tessera/workflow';
import { checkDashboards, checkReports } from '@tessera/reports';
import type { ServerContext } from './context';
import { registerWorkflowRoutes } from './workflow/routes';
import { registerReportsRoutes } from './reports/routes';
import { registerAccessRoutes } from './access/routes';
import { registerProblemHandlers } from './errors/problem';
import { registerAuthentication } from './auth/authenticate';
import { registerAuthRoutes } from './auth/routes';
import { registerHealthRoutes } from './health/routes';
import { registerAppRoutes } from './apps/routes';
import { registerRecordRoutes } from './records/routes';
import { registerInboxRoutes } from './records/inbox-routes';
import { registerAppOpenApiRoute, registerDocs } from './openapi/routes';

export interface ServerOptions {
  database: Database;
  logger?: FastifyServerOptions['logger'];
  /** bytes; larger bodies get 413 before they are parsed */
  bodyLimit?: number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The HTTP API over one database. Call `ready()` or `listen()`; `inject()` readies it too. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const { database } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ajv: {
      // Unknown properties are errors to report, not input to drop silently; report them all at once.
      customOptions: { removeAdditional: false, allErrors: true },
    },
  });
  const metadata = new MetadataRepository(database.db, { documentChecks: [checkFlows, checkReports, checkDashboards, checkRoles] });
  const users = new UserRepository(database.db);
  const tokens = new TokenRepository(database.db);
  const context: ServerContext = { database, metadata, users, tokens };

  registerProblemHandlers(app);
  app.register(cookie);
  registerAuthentication(app, tokens);
  registerDocs(app);
  // One child scope, registered after the docs plugins, so they see every route.
  app.register(async (api) => {
    registerHealthRoutes(api, database);
    registerAuthRoutes(api, { users, tokens });
    registerAppRoutes(api, metadata);
    registerAppOpenApiRoute(api, metadata);
    registerRecordRoutes(api, database, metadata);
    registerInboxRoutes(api, database);
    registerWorkflowRoutes(api, context);
    registerReportsRoutes(api, context);
    registerAccessRoutes(api, context);
  });
  return app;
}
