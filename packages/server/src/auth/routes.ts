import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import type { TokenRepository, UserRepository } from '@tessera/store';
import { decoyHash, verifyPassword } from './passwords';
import { SESSION_COOKIE } from './authenticate';
import { identity } from './context';

const SESSION_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

const loginSchema = {
  body: {
    type: 'object',
    required: ['email', 'password'],
    additionalProperties: false,
    properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
  },
} as const;

const newTokenSchema = {
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } },
  },
} as const;

const tokenIdSchema = {
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } },
} as const;

export interface AuthDeps {
  users: UserRepository;
  tokens: TokenRepository;
}

export function registerAuthRoutes(app: FastifyInstance, deps: AuthDeps): void {
  app.post<{ Body: { email: string; password: string } }>('/api/auth/login', { schema: loginSchema, config: { public: true } }, async (request, reply) => {
    const user = await checkCredentials(deps.users, request.body.email, request.body.password);
    const expiresAt = new Date(Date.now() + SESSION_DAYS * DAY_MS);
    const session = await deps.tokens.issue(user.workspaceId, user.id, { kind: 'session', name: sessionName(request), expiresAt });
    reply.setCookie(SESSION_COOKIE, session.token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: request.protocol === 'https',
      expires: expiresAt,
    });
    return { token: session.token, expiresAt: session.expiresAt };
  });

  app.post('/api/auth/logout', async (request, reply) => {
    const who = identity(request);
    // Logging out ends the session it came through; an API token stays valid until revoked.
    if (who.kind === 'session') await deps.tokens.revoke(who.workspaceId, who.userId, who.tokenId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', async (request) => {
    const who = identity(request);
    const user = await deps.users.get(who.workspaceId, who.userId);
    return { ...user, via: who.kind };
  });

  app.post<{ Body: { name: string; expiresInDays?: number } }>('/api/auth/tokens', { schema: newTokenSchema }, async (request, reply) => {
    const who = identity(request);
    const days = request.body.expiresInDays;
    const expiresAt = days === undefined ? null : new Date(Date.now() + days * DAY_MS);
    const issued = await deps.tokens.issue(who.workspaceId, who.userId, { kind: 'api', name: request.body.name, expiresAt });
    return reply.code(201).header('Location', `/api/auth/tokens/${issued.id}`).send({ id: issued.id, token: issued.token, name: request.body.name, expiresAt: issued.expiresAt });
  });

  app.get('/api/auth/tokens', async (request) => {
    const who = identity(request);
    return { items: await deps.tokens.list(who.workspaceId, who.userId, 'api') };
  });

  app.delete<{ Params: { id: string } }>('/api/auth/tokens/:id', { schema: tokenIdSchema }, async (request, reply) => {
    const who = identity(request);
    await deps.tokens.revoke(who.workspaceId, who.userId, request.params.id);
    return reply.code(204).send();
  });
}

/** Same answer and roughly the same time for an unknown email and a wrong password. */
async function checkCredentials(users: UserRepository, email: string, password: string) {
  const candidates = await users.findForLogin(email);
  for (const user of candidates) {
    if (user.passwordHash && (await verifyPassword(user.passwordHash, password))) return user;
  }
  if (candidates.length === 0) await verifyPassword(await decoyHash(), password);
  throw new ProblemError('unauthorized', 'Wrong email or password', [{ field: 'password', code: 'invalid_credentials', message: 'wrong email or password' }]);
}

function sessionName(request: FastifyRequest): string {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' ? agent.slice(0, 200) : '';
}

