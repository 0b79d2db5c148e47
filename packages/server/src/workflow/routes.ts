import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError, isProblemError } from '@tessera/metadata';
import type { ApprovalAction, FlowDef } from '@tessera/workflow';
import type { ServerContext } from '../context';
import { actorOf, identity } from '../auth/context';
import { requireAdmin } from '../auth/admin';
import { recordParams } from '../apps/params';
import { cancelBody, completeBody, flowParams, idParams, inboxQuery, incidentQuery, startBody } from './schemas';
import { assertCanCancel, assertCanSee, readRecord } from './visibility';
import { registerBpmnRoutes } from './bpmn-routes';

type FlowRoute = { Params: { app: string; flow: string } };
type IdRoute = { Params: { id: string } };
type RecordRoute = { Params: { app: string; object: string; id: string } };
type CompleteBody = { action: ApprovalAction; comment?: string; delegateTo?: string; returnTo?: string; values?: Record<string, unknown> };

/**
 * The workflow API (see docs/api.md, Workflow): start, follow and cancel instances, the
 * inbox of flow tasks and acting on them, incidents, and BPMN XML in and out. The engine
 * scopes everything by the caller's workspace (another workspace's ids are 404s); these
 * routes add who may see what inside one.
 */
export function registerWorkflowRoutes(api: FastifyInstance, ctx: ServerContext): void {
  const engine = ctx.workflow;

  api.post<FlowRoute & { Body: { recordId?: string; variables?: Record<string, unknown> } | null }>(
    '/api/apps/:app/flows/:flow/instances',
    { schema: { params: flowParams, body: startBody } },
    async (request, reply) => {
      const body = request.body ?? {};
      if (body.recordId !== undefined) await assertCanReadStartRecord(request, ctx, body.recordId);
      const instance = await engine.startInstance(actorOf(request), request.params.app, request.params.flow, body);
      return reply.code(201).header('Location', `/api/flow-instances/${instance.id}`).send(instance);
    },
  );

  api.get<IdRoute>('/api/flow-instances/:id', { schema: { params: idParams } }, async (request) => {
    const instance = await engine.getInstance(identity(request).workspaceId, request.params.id);
    await assertCanSee(request, ctx, instance);
    return instance;
  });

  api.get<IdRoute>('/api/flow-instances/:id/timeline', { schema: { params: idParams } }, async (request) => {
    const workspaceId = identity(request).workspaceId;
    await assertCanSee(request, ctx, await engine.getInstance(workspaceId, request.params.id));
    return { items: await engine.timeline(workspaceId, request.params.id) };
  });

  api.post<IdRoute & { Body: { reason?: string } | null }>(
    '/api/flow-instances/:id/cancel',
    { schema: { params: idParams, body: cancelBody } },
    async (request) => {
      const instance = await engine.getInstance(identity(request).workspaceId, request.params.id);
      await assertCanSee(request, ctx, instance);
      await assertCanCancel(request, ctx, instance);
      return engine.cancelInstance(actorOf(request), request.params.id, request.body?.reason);
    },
  );

  api.get<RecordRoute>('/api/apps/:app/records/:object/:id/flow-instances', { schema: { params: recordParams } }, async (request) => {
    const workspaceId = identity(request).workspaceId;
    const app = await ctx.metadata.getPublished(workspaceId, request.params.app);
    // whoever may read the record may follow its flows; outside the read scope it is a 404
    await readRecord(request, ctx, app, request.params.object, request.params.id);
    return { items: await engine.instancesOfRecord(workspaceId, request.params.id) };
  });

  // Like /api/tasks (the automations' to-dos): the caller's own, `open` by default, newest first.
  api.get<{ Querystring: { status?: 'open' | 'done'; cursor?: string; limit?: number } }>(
    '/api/inbox/flow-tasks',
    { schema: { querystring: inboxQuery } },
    async (request) => {
      const who = identity(request);
      const { status = 'open', cursor, limit } = request.query;
      return engine.inbox(who.workspaceId, who.userId, { status, ...(cursor !== undefined ? { cursor } : {}), ...(limit !== undefined ? { limit } : {}) });
    },
  );

  api.get<IdRoute>('/api/flow-tasks/:id', { schema: { params: idParams } }, async (request) => {
    const who = identity(request);
    const task = await engine.getTask(who.workspaceId, request.params.id);
    if (task.assigneeId !== who.userId) await assertCanSee(request, ctx, await engine.getInstance(who.workspaceId, task.instanceId));
    return task;
  });

  api.post<IdRoute & { Body: CompleteBody }>('/api/flow-tasks/:id/complete', { schema: { params: idParams, body: completeBody } }, async (request) =>
    // the engine lets only the task's assignee act on it (403 for anyone else)
    engine.completeTask(actorOf(request), request.params.id, request.body),
  );

  api.get<{ Querystring: { status?: 'open' | 'resolved' } }>('/api/flow-incidents', { schema: { querystring: incidentQuery } }, async (request) => {
    await requireAdmin(request, ctx.users);
    const status = request.query.status;
    return { items: await engine.incidents(identity(request).workspaceId, status ? { status } : {}) };
  });

  api.post<IdRoute>('/api/flow-incidents/:id/retry', { schema: { params: idParams } }, async (request) => {
    await requireAdmin(request, ctx.users);
    return engine.retryIncident(actorOf(request), request.params.id);
  });

  registerBpmnRoutes(api, ctx);
}

/**
 * Starting a flow on a record needs read access to it. A record outside the caller's scope
 * is refused exactly like one that does not exist, so the refusal reveals nothing.
 */
async function assertCanReadStartRecord(request: FastifyRequest<FlowRoute>, ctx: ServerContext, recordId: string): Promise<void> {
  const app = await ctx.metadata.getPublished(identity(request).workspaceId, request.params.app);
  const flow = ((app.document.flows ?? []) as FlowDef[]).find((f) => f.key === request.params.flow);
  // no such flow, or one about no object: the engine names the problem
  if (!flow?.object) return;
  try {
    await readRecord(request, ctx, app, flow.object, recordId);
  } catch (e) {
    if (isProblemError(e) && (e.kind === 'not_found' || e.kind === 'forbidden')) {
      throw new ProblemError('unprocessable', `No ${flow.object} record ${recordId}`, [
        { field: 'recordId', code: 'not_found', message: `no ${flow.object} record with id ${recordId}` },
      ]);
    }
    throw e;
  }
}
