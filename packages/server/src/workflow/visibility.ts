import type { FastifyRequest } from 'fastify';
import { ProblemError, isProblemError, type PublishedApp } from '@tessera/metadata';
import { RecordRepository } from '@tessera/store';
import type { InstanceView } from '@tessera/workflow';
import { identity } from '../auth/context';
import { accessPolicyFor, viewerFor } from '../auth/access';
import type { ServerContext } from '../context';

/**
 * Who sees a flow instance: administrators; whoever started it; whoever holds or held one
 * of its tasks; and whoever may read the record it is about (through the same access policy
 * as the record routes). Anyone else gets the 404 of an instance that does not exist, so
 * ids of other people's instances reveal nothing.
 */
export async function assertCanSee(request: FastifyRequest, ctx: ServerContext, instance: InstanceView): Promise<void> {
  if (await canSee(request, ctx, instance)) return;
  throw new ProblemError('not_found', `Flow instance ${instance.id} not found`);
}

async function canSee(request: FastifyRequest, ctx: ServerContext, instance: InstanceView): Promise<boolean> {
  const who = identity(request);
  if (instance.startedBy === who.userId) return true;
  if ((await viewerFor(request, ctx.database)).isAdmin) return true;
  const task = await ctx.database.db
    .selectFrom('flow_tasks')
    .select('id')
    .where('workspace_id', '=', who.workspaceId)
    .where('instance_id', '=', instance.id)
    .where('assignee_id', '=', who.userId)
    .limit(1)
    .executeTakeFirst();
  if (task) return true;
  if (instance.recordId && instance.objectId) return canReadRecordOfObjectId(request, ctx, instance.appKey, instance.objectId, instance.recordId);
  return false;
}

async function canReadRecordOfObjectId(request: FastifyRequest, ctx: ServerContext, appKey: string, objectId: string, recordId: string): Promise<boolean> {
  const app = await ctx.metadata.getPublished(identity(request).workspaceId, appKey);
  // the object id is stable across versions; a deleted object leaves nothing to read
  const object = app.document.objects.find((o) => o.id === objectId);
  if (!object) return false;
  try {
    await readRecord(request, ctx, app, object.key, recordId);
    return true;
  } catch (e) {
    if (isProblemError(e) && (e.kind === 'not_found' || e.kind === 'forbidden')) return false;
    throw e;
  }
}

/** Reads a record through the caller's access policy: 404 outside their read scope. */
export async function readRecord(request: FastifyRequest, ctx: ServerContext, app: PublishedApp, objectKey: string, recordId: string): Promise<void> {
  const records = new RecordRepository(ctx.database.db, app, { access: await accessPolicyFor(request, ctx.database, app) });
  await records.get(identity(request).workspaceId, objectKey, recordId);
}

/** Cancelling is for whoever started the instance and for administrators. */
export async function assertCanCancel(request: FastifyRequest, ctx: ServerContext, instance: InstanceView): Promise<void> {
  if (instance.startedBy === identity(request).userId) return;
  if ((await viewerFor(request, ctx.database)).isAdmin) return;
  throw new ProblemError('forbidden', 'Only whoever started the instance, or an administrator, may cancel it', [
    { field: 'id', code: 'not_starter', message: 'you did not start this instance' },
  ]);
}
