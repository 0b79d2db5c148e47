import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '@tessera/store';
import { actorOf } from '../auth/context';

/** The routes that change who may see what: teams, managers, app roles, record shares. */
const ACCESS_ROUTES: Array<[prefix: string, target: string]> = [
  ['/api/teams', 'team'],
  ['/api/users/:id/manager', 'user'],
  ['/api/apps/:app/users/', 'user_role'],
  ['/api/apps/:app/records/:object/:id/shares', 'share'],
];

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every successful change of access (team, membership, manager, role grant, share) is
 * audited by its route and parameters, in one place, so a new access route under these
 * paths is audited without remembering to. Written before the answer is sent.
 */
export function registerAccessAudit(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!WRITES.has(request.method) || reply.statusCode >= 400 || !request.auth) return payload;
    const route = request.routeOptions.url ?? '';
    const match = ACCESS_ROUTES.find(([prefix]) => route.startsWith(prefix));
    if (!match) return payload;
    const params = (request.params ?? {}) as Record<string, string>;
    await audit.append(actorOf(request), {
      action: `access.${request.method.toLowerCase()}`,
      targetType: match[1],
      ...(params.id ?? params.userId ? { targetId: params.userId ?? params.id } : {}),
      details: { route, params, body: request.body ?? null },
    });
    return payload;
  });
}
