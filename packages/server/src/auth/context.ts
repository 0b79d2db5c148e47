import type { FastifyRequest } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import type { Actor, TokenIdentity } from '@tessera/store';

declare module 'fastify' {
  interface FastifyRequest {
    /** set by the auth hook on every route that is not public */
    auth: TokenIdentity | null;
  }
  interface FastifyContextConfig {
    /** reachable without credentials */
    public?: boolean;
  }
}

export function identity(request: FastifyRequest): TokenIdentity {
  if (!request.auth) throw new ProblemError('unauthorized', 'Sign in or send a Bearer token');
  return request.auth;
}

/** Writes through a browser session are the UI's; through a token, the API's. IP and agent say from where, for the audit trail. */
export function actorOf(request: FastifyRequest): Actor {
  const who = identity(request);
  return { workspaceId: who.workspaceId, userId: who.userId, source: who.kind === 'session' ? 'ui' : 'api', ...clientOf(request) };
}

/** The client's address (fastify's `request.ip`, which honours `trustProxy`) and User-Agent. */
export function clientOf(request: FastifyRequest): { ip: string | null; userAgent: string | null } {
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent.slice(0, 500) : null };
}
