import type { FastifyRequest } from 'fastify';
import type { PublishedApp } from '@tessera/metadata';
import { loadCallerPolicy, type AccessPolicy, type Database, type Viewer } from '@tessera/store';
import { identity } from './context';

/** Per request: the viewer and the policy of each app it touches, each loaded once. */
const perRequest = new WeakMap<FastifyRequest, { viewer?: Promise<Viewer>; policies: Map<string, Promise<AccessPolicy>> }>();

function entryOf(request: FastifyRequest) {
  let entry = perRequest.get(request);
  if (!entry) {
    entry = { policies: new Map() };
    perRequest.set(request, entry);
  }
  return entry;
}

/**
 * The caller's permissions in `app`: every route that reads or writes records asks this
 * once per request. One statement reads whether they are an administrator and, if not,
 * their roles, reports, teams and shares.
 */
export function accessPolicyFor(request: FastifyRequest, database: Database, app: PublishedApp): Promise<AccessPolicy> {
  const entry = entryOf(request);
  const key = `${app.appId}@${app.version}`;
  let policy = entry.policies.get(key);
  if (!policy) {
    const who = identity(request);
    policy = loadCallerPolicy(database.db, app, { workspaceId: who.workspaceId, userId: who.userId, tokenRoles: who.roles ?? null });
    entry.policies.set(key, policy);
  }
  return policy;
}

/** The caller as the permission layer sees them, outside any app (administration routes). */
export function viewerFor(request: FastifyRequest, database: Database): Promise<Viewer> {
  const entry = entryOf(request);
  entry.viewer ??= viewerOf(request, database);
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
