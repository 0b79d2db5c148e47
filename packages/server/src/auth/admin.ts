import type { FastifyRequest } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import type { UserRepository } from '@tessera/store';
import { identity } from './context';

/**
 * Workspace administration (the audit log, unlocking accounts, personal data requests) is
 * for administrators signed in with their full rights: a token narrowed to app roles is
 * not an administrator's credential.
 */
export async function requireAdmin(request: FastifyRequest, users: UserRepository): Promise<void> {
  const who = identity(request);
  const user = await users.get(who.workspaceId, who.userId);
  if (!user.isAdmin || (who.roles != null && who.roles.length > 0)) {
    throw new ProblemError('forbidden', 'Only a workspace administrator may do this');
  }
}
