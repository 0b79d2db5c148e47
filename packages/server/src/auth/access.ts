import type { FastifyRequest } from 'fastify';
import type { PublishedApp } from '@tessera/metadata';
import { loadAccessPolicy, type AccessPolicy, type Database, type Viewer } from '@tessera/store';
import { identity } from './context';

/** Per request: the viewer (one users row) and the policy of each app it touches, loaded once. */
const perRequest = new WeakMap<FastifyRequest, { viewer: Promise<Viewer>; policies: Map<string, Promise<AccessPolicy>> }>();

/** The caller's permissions in `app`: every route that reads or writes records asks this once per request. */
export function accessPolicyFor(request: FastifyRequest, database: Database, app: PublishedApp): Promise<AccessPolicy> {
  let entry = perRequest.get(request);
  if (!entry) {
    entry = { viewer: viewerOf(request, database), policies: new Map() };
    perRequest.set(request, entry);
  }
  const key = `${app.appId}@${app.version}`;
  let policy = entry.policies.get(key);
  if (!policy) {
    const viewer = entry.viewer;
    policy = viewer.then((v) => loadAccessPolicy(database.db, app, v));
    entry.policies.set(key, policy);
  }
  return policy;
}

/** The caller as the permission layer sees them. */
export function viewerFor(request: FastifyRequest, database: Database): Promise<Viewer> {
  let entry = perRequest.get(request);
  if (!entry) {
    entry = { viewer: viewerOf(request, database), policies: new Map() };
    perRequest.set(request, entry);
  }
  return entry.viewer;
}

async function viewerOf(request: FastifyRequest, database: Database): Promise<Viewer> {
  const who = identity(request);
  const user = await database.db
    .selectFrom('users')
    .select('is_admin')
    .where('workspace_id', '=', who.workspaceId)
    .where('id', '=', who.userId)
    .executeTakeFirst();
  const tokenRoles = who.roles && who.roles.length > 0 ? who.roles : null;
  // A token narrowed to roles is not an administrator's credential: it acts with those roles only.
  return { workspaceId: who.workspaceId, userId: who.userId, isAdmin: user?.is_admin === true && tokenRoles === null, tokenRoles };
}
