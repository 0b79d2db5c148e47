import type { FastifyRequest } from 'fastify';
import type { PublishedApp } from '@tessera/metadata';
import { loadAccessPolicy, type AccessPolicy, type Database } from '@tessera/store';
import { identity } from './context';

/** The caller's permissions in `app`: every route that reads or writes records asks this once per request. */
export async function accessPolicyFor(request: FastifyRequest, database: Database, app: PublishedApp): Promise<AccessPolicy> {
  const who = identity(request);
  // isAdmin is decided by the role layer (issue 6) from the users table; until then every caller is treated as an administrator.
  return loadAccessPolicy(database.db, app, { workspaceId: who.workspaceId, userId: who.userId, isAdmin: true });
}
