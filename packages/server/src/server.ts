import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import {
  AuditLog,
  LoginLockout,
  MetadataRepository,
  TokenRepository,
  UserRepository,
  checkRoles,
  environmentKeyRing,
  requireEncryptionKey,
  type Database,
  type LockoutPolicy,
} from '@tessera/store';
import { checkFlows } from '@tessera/workflow';
import { checkDashboards, checkReports } from '@tessera/reports';
import type { ServerContext } from './context';
import { registerWorkflowRoutes } from './workflow/routes';
import { createWorkflowEngine, recordWriteOptions, runWorkersWithServer, type WorkerSettings } from './workflow/engine';
import { registerReportsRoutes } from './reports/routes';
import { registerAccessRoutes } from './access/routes';
import { registerProblemHandlers } from './errors/problem';
import { registerAuthentication } from './auth/authenticate';
import { registerAuthRoutes, type LoginRateLimit } from './auth/routes';
import { registerSecurity } from './auth/security';
import { registerAuditRoutes } from './audit/routes';
import { registerDecryptionAudit } from './audit/decryption-audit';
import { registerPrivacyRoutes } from './privacy/routes';
import { registerAccessAudit } from './audit/access-audit';
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
  /**
   * trust X-Forwarded-* from a reverse proxy (fastify's option): then the client address in
   * the audit trail is the real one, and the session cookie is Secure when the proxy speaks https
   */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /** login attempts per client address (default 20 a minute) */
  loginRateLimit?: LoginRateLimit;
  /** failed logins that lock an account, and for how long (default 5 in 15 minutes, locked 15 minutes) */
  lockout?: LockoutPolicy;
  /**
   * run flow workers in this process while the server runs (`tessera start` does, unless
   * TESSERA_WORKERS=0); off by default, so tests drive the engine themselves (`app.workflow.drain()`)
   */
  workers?: boolean | WorkerSettings;
  /** steps of one flow instance that may share a transaction (the engine's `stepsPerTransaction`, default 1) */
  flowStepsPerTransaction?: number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The HTTP API over one database. Call `ready()` or `listen()`; `inject()` readies it too. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const { database } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    ajv: {
      // Unknown properties are errors to report, not input to drop silently; report them all at once.
      customOptions: { removeAdditional: false, allErrors: true },
    },
  });
  const metadata = new MetadataRepository(database.db, {
    documentChecks: [checkFlows, checkReports, checkDashboards, checkRoles],
    publishChecks: [requireEncryptionKey(environmentKeyRing)],
  });
  const users = new UserRepository(database.db);
  const tokens = new TokenRepository(database.db);
  const audit = new AuditLog(database.db);
  const lockout = new LoginLockout(database.db, options.lockout);
  const workflow = createWorkflowEngine(database, metadata, options.flowStepsPerTransaction ? { stepsPerTransaction: options.flowStepsPerTransaction } : {});
  const context: ServerContext = { database, metadata, users, tokens, audit, workflow };
  app.decorate('workflow', workflow);
  if (options.workers) runWorkersWithServer(app, typeof options.workers === 'object' ? options.workers : {});

  registerProblemHandlers(app);
  app.register(cookie);
  registerSecurity(app);
  registerDecryptionAudit(app, audit);
  registerAccessAudit(app, audit);
  registerAuthentication(app, tokens);
  registerDocs(app);
  // One child scope, registered after the docs plugins, so they see every route.
  app.register(async (api) => {
    registerHealthRoutes(api, database);
    registerAuthRoutes(api, { users, tokens, lockout, audit, ...(options.loginRateLimit ? { loginRateLimit: options.loginRateLimit } : {}) });
    registerAuditRoutes(api, { database, metadata, users, audit });
    registerPrivacyRoutes(api, { database, users, tokens });
    registerAppRoutes(api, metadata);
    registerAppOpenApiRoute(api, metadata, database);
    registerRecordRoutes(api, database, metadata, recordWriteOptions(workflow));
    registerInboxRoutes(api, database);
    registerWorkflowRoutes(api, context);
    registerReportsRoutes(api, context);
    registerAccessRoutes(api, context);
  });
  return app;
}
