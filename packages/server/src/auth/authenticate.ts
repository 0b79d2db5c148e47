import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import type { TokenRepository } from '@tessera/store';

export const SESSION_COOKIE = 'tessera_session';

/** The presented credential: the Authorization header wins over the cookie. */
export function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1]! : '';
  }
  return request.cookies[SESSION_COOKIE] ?? null;
}

/**
 * Every /api route needs a live token unless its config says `public`. Runs before the
 * body is parsed, so anonymous callers cannot make the server read large bodies.
 */
export function registerAuthentication(app: FastifyInstance, tokens: TokenRepository): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/') || request.is404 || request.routeOptions.config.public) return;
    const token = presentedToken(request);
    if (token === null) throw new ProblemError('unauthorized', 'Sign in or send a Bearer token');
    const who = await tokens.verify(token);
    if (!who) throw new ProblemError('unauthorized', 'The token or session is invalid, expired or revoked');
    request.auth = who;
  });
}
