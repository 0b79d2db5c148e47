import type { FastifyInstance } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import type { Database } from '@tessera/store';
import { viewerFor } from '../auth/access';

/**
 * Designing an app — creating one, changing its draft (roles included), publishing, rolling
 * back — is for workspace administrators: whoever may change the roles could grant
 * themselves anything. Matched by route pattern, so a draft route added later (a draft's
 * reports, dashboards, flows) is covered without knowing about it; reading stays open.
 */
const DESIGN_ROUTE = /^\/api\/apps(\/:app\/(draft(\/.*)?|publish|rollback))?$/;

export function registerDesignGuard(api: FastifyInstance, database: Database): void {
  api.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    if (request.method === 'GET' || request.method === 'HEAD' || !url || !DESIGN_ROUTE.test(url)) return;
    if (!(await viewerFor(request, database)).isAdmin) {
      throw new ProblemError('forbidden', 'Only a workspace administrator may create, change, publish or roll back apps');
    }
  });
}
