import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import { OrgRepository, ShareRepository, type ShareInput, type TeamInput } from '@tessera/store';
import type { ServerContext } from '../context';
import { identity } from '../auth/context';
import { accessPolicyFor, viewerFor } from '../auth/access';
import { appParams, keyString, recordParams } from '../apps/params';
import { registerDesignGuard } from './design-guard';

const id = { type: 'string', maxLength: 100 } as const;
const uuidOrNull = { type: ['string', 'null'], maxLength: 100 } as const;

const teamBody = (required: string[]) =>
  ({
    type: 'object',
    required,
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, managerId: uuidOrNull, parentId: uuidOrNull },
  }) as const;

const teamParams = { type: 'object', required: ['id'], properties: { id } } as const;
const memberParams = { type: 'object', required: ['id', 'userId'], properties: { id, userId: id } } as const;
const userParams = { type: 'object', required: ['id'], properties: { id } } as const;
const managerBody = { type: 'object', required: ['managerId'], additionalProperties: false, properties: { managerId: uuidOrNull } } as const;
const userRoleParams = { type: 'object', required: ['app', 'userId', 'role'], properties: { app: keyString, userId: id, role: keyString } } as const;
const userRolesParams = { type: 'object', required: ['app', 'userId'], properties: { app: keyString, userId: id } } as const;
const shareParams = { type: 'object', required: ['app', 'object', 'id', 'shareId'], properties: { ...recordParams.properties, shareId: id } } as const;
const shareBody = {
  type: 'object',
  required: ['level'],
  additionalProperties: false,
  properties: { userId: id, teamId: id, level: { type: 'string', enum: ['read', 'edit'] } },
} as const;

type Params<T> = { Params: T };

/**
 * The access API (see docs/api.md and docs/security.md): teams and their members, who
 * manages whom, the app roles users hold — for administrators — and sharing a record,
 * for whoever may change it. Also guards app design (drafts, publishing) for
 * administrators, over every route of this scope.
 */
export function registerAccessRoutes(api: FastifyInstance, ctx: ServerContext): void {
  registerDesignGuard(api, ctx.database);
  const org = new OrgRepository(ctx.database.db);
  const admin = async (request: FastifyRequest): Promise<string> => {
    if (!(await viewerFor(request, ctx.database)).isAdmin) throw new ProblemError('forbidden', 'Only a workspace administrator may manage teams, managers and roles');
    return identity(request).workspaceId;
  };

  api.get('/api/teams', async (request) => ({ items: await org.listTeams(await admin(request)) }));
  api.post<{ Body: TeamInput & { name: string } }>('/api/teams', { schema: { body: teamBody(['name']) } }, async (request, reply) =>
    reply.code(201).send(await org.createTeam(await admin(request), request.body)),
  );
  api.get<Params<{ id: string }>>('/api/teams/:id', { schema: { params: teamParams } }, async (request) => org.getTeam(await admin(request), request.params.id));
  api.patch<Params<{ id: string }> & { Body: TeamInput }>('/api/teams/:id', { schema: { params: teamParams, body: teamBody([]) } }, async (request) =>
    org.updateTeam(await admin(request), request.params.id, request.body),
  );
  api.delete<Params<{ id: string }>>('/api/teams/:id', { schema: { params: teamParams } }, async (request, reply) => {
    await org.deleteTeam(await admin(request), request.params.id);
    return reply.code(204).send();
  });
  api.put<Params<{ id: string; userId: string }>>('/api/teams/:id/members/:userId', { schema: { params: memberParams } }, async (request) =>
    org.addMember(await admin(request), request.params.id, request.params.userId),
  );
  api.delete<Params<{ id: string; userId: string }>>('/api/teams/:id/members/:userId', { schema: { params: memberParams } }, async (request) =>
    org.removeMember(await admin(request), request.params.id, request.params.userId),
  );

  api.put<Params<{ id: string }> & { Body: { managerId: string | null } }>(
    '/api/users/:id/manager',
    { schema: { params: userParams, body: managerBody } },
    async (request, reply) => {
      await org.setManager(await admin(request), request.params.id, request.body.managerId);
      return reply.code(204).send();
    },
  );

  const published = (request: FastifyRequest<{ Params: { app: string } }>) => ctx.metadata.getPublished(identity(request).workspaceId, request.params.app);

  api.get<Params<{ app: string }>>('/api/apps/:app/user-roles', { schema: { params: appParams } }, async (request) => {
    const workspaceId = await admin(request);
    return { items: await org.assignments(workspaceId, await published(request)) };
  });
  api.get<Params<{ app: string; userId: string }>>('/api/apps/:app/users/:userId/roles', { schema: { params: userRolesParams } }, async (request) => {
    const workspaceId = await admin(request);
    return { roles: await org.rolesOf(workspaceId, await published(request), request.params.userId) };
  });
  api.put<Params<{ app: string; userId: string; role: string }>>('/api/apps/:app/users/:userId/roles/:role', { schema: { params: userRoleParams } }, async (request) => {
    const workspaceId = await admin(request);
    return { roles: await org.grantRole(workspaceId, await published(request), request.params.userId, request.params.role) };
  });
  api.delete<Params<{ app: string; userId: string; role: string }>>('/api/apps/:app/users/:userId/roles/:role', { schema: { params: userRoleParams } }, async (request) => {
    const workspaceId = await admin(request);
    return { roles: await org.revokeRole(workspaceId, await published(request), request.params.userId, request.params.role) };
  });

  type RecordRoute = { app: string; object: string; id: string };
  const shares = async (request: FastifyRequest<{ Params: { app: string } }>) => {
    const app = await published(request);
    return new ShareRepository(ctx.database.db, app, await accessPolicyFor(request, ctx.database, app));
  };
  api.get<Params<RecordRoute>>('/api/apps/:app/records/:object/:id/shares', { schema: { params: recordParams } }, async (request) => ({
    items: await (await shares(request)).list(request.params.object, request.params.id),
  }));
  api.post<Params<RecordRoute> & { Body: ShareInput }>('/api/apps/:app/records/:object/:id/shares', { schema: { params: recordParams, body: shareBody } }, async (request, reply) =>
    reply.code(201).send(await (await shares(request)).share(request.params.object, request.params.id, request.body)),
  );
  api.delete<Params<RecordRoute & { shareId: string }>>('/api/apps/:app/records/:object/:id/shares/:shareId', { schema: { params: shareParams } }, async (request, reply) => {
    await (await shares(request)).unshare(request.params.object, request.params.id, request.params.shareId);
    return reply.code(204).send();
  });
}
