import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KEY_PATTERN, ProblemError } from '@tessera/metadata';
import type { Actor, AuditLog, LoginLockout, TokenRepository, UserCredentials, UserRepository } from '@tessera/store';
import { decoyHash, hashPassword, verifyPassword } from './passwords';
import { SESSION_COOKIE } from './authenticate';
import { actorOf, clientOf, identity } from './context';
import { assertPasswordPolicy, MAX_PASSWORD_LENGTH } from './password-policy';
import { requireAdmin } from './admin';

const SESSION_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;
/** An API token without an explicit expiry lives this long: a forgotten token does not live forever. */
export const DEFAULT_API_TOKEN_DAYS = 90;

const loginSchema = {
  body: {
    type: 'object',
    required: ['email', 'password'],
    additionalProperties: false,
    properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } },
  },
} as const;

const newTokenSchema = {
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 },
      /** app role keys the token is narrowed to */
      roles: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'string', pattern: KEY_PATTERN.source, maxLength: 63 } },
    },
  },
} as const;

const tokenIdSchema = {
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } },
} as const;

const changePasswordSchema = {
  body: {
    type: 'object',
    required: ['currentPassword', 'newPassword'],
    additionalProperties: false,
    properties: {
      currentPassword: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH },
      newPassword: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH },
    },
  },
} as const;

const userIdSchema = {
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } },
} as const;

export interface LoginRateLimit {
  /** login attempts per client address per window */
  max: number;
  timeWindow: number | string;
}

export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimit = { max: 20, timeWindow: '1 minute' };

export interface AuthDeps {
  users: UserRepository;
  tokens: TokenRepository;
  lockout: LoginLockout;
  audit: AuditLog;
  loginRateLimit?: LoginRateLimit;
}

export function registerAuthRoutes(app: FastifyInstance, deps: AuthDeps): void {
  const rateLimit = deps.loginRateLimit ?? DEFAULT_LOGIN_RATE_LIMIT;
  app.post<{ Body: { email: string; password: string } }>(
    '/api/auth/login',
    // per client address, before the body is read: slows password guessing across accounts,
    // where the lock-out stops it for one account
    { schema: loginSchema, config: { public: true, rateLimit: { ...rateLimit, hook: 'onRequest' } } },
    async (request, reply) => {
      const user = await checkCredentials(deps, request, request.body.email, request.body.password);
      const expiresAt = new Date(Date.now() + SESSION_DAYS * DAY_MS);
      const session = await deps.tokens.issue(user.workspaceId, user.id, { kind: 'session', name: sessionName(request), expiresAt });
      await deps.audit.append(actorFor(request, user.workspaceId, user.id), { action: 'auth.login', targetType: 'user', targetId: user.id, details: { tokenId: session.id } });
      reply.setCookie(SESSION_COOKIE, session.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: request.protocol === 'https',
        expires: expiresAt,
      });
      return { token: session.token, expiresAt: session.expiresAt };
    },
  );

  app.post('/api/auth/logout', async (request, reply) => {
    const who = identity(request);
    // Logging out ends the session it came through; an API token stays valid until revoked.
    if (who.kind === 'session') await deps.tokens.revoke(who.workspaceId, who.userId, who.tokenId);
    await deps.audit.append(actorOf(request), { action: 'auth.logout', targetType: 'token', targetId: who.tokenId });
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', async (request) => {
    const who = identity(request);
    const user = await deps.users.get(who.workspaceId, who.userId);
    return { ...user, via: who.kind, ...(who.roles ? { tokenRoles: who.roles } : {}) };
  });

  app.post<{ Body: { currentPassword: string; newPassword: string } }>('/api/auth/password', { schema: changePasswordSchema }, async (request) => {
    const who = identity(request);
    const user = await deps.users.get(who.workspaceId, who.userId);
    const [credentials] = (await deps.users.findForLogin(user.email)).filter((u) => u.workspaceId === who.workspaceId && u.id === who.userId);
    if (!credentials?.passwordHash || !(await verifyPassword(credentials.passwordHash, request.body.currentPassword))) {
      // a stolen session must not be a way around the lock-out
      await deps.lockout.recordFailure(who.workspaceId, who.userId);
      await deps.audit.append(actorOf(request), { action: 'auth.password_change_failed', targetType: 'user', targetId: who.userId });
      throw new ProblemError('forbidden', 'The current password is wrong', [{ field: 'currentPassword', code: 'invalid_credentials', message: 'wrong password' }]);
    }
    assertPasswordPolicy(request.body.newPassword, user.email, 'newPassword');
    await deps.users.setPassword(who.workspaceId, who.userId, await hashPassword(request.body.newPassword));
    const revoked = await deps.tokens.revokeSessions(who.workspaceId, who.userId, who.kind === 'session' ? who.tokenId : null);
    await deps.audit.append(actorOf(request), { action: 'auth.password_change', targetType: 'user', targetId: who.userId, details: { sessionsRevoked: revoked } });
    return { changed: true, sessionsRevoked: revoked };
  });

  app.post<{ Body: { name: string; expiresInDays?: number; roles?: string[] } }>('/api/auth/tokens', { schema: newTokenSchema }, async (request, reply) => {
    const who = identity(request);
    if (who.roles) {
      // a narrowed token minting tokens would be a way out of its narrowing
      throw new ProblemError('forbidden', 'A token narrowed to roles cannot issue tokens; sign in to issue one');
    }
    const days = request.body.expiresInDays ?? DEFAULT_API_TOKEN_DAYS;
    const expiresAt = new Date(Date.now() + days * DAY_MS);
    const roles = request.body.roles ?? null;
    const issued = await deps.tokens.issue(who.workspaceId, who.userId, { kind: 'api', name: request.body.name, expiresAt, roles });
    await deps.audit.append(actorOf(request), {
      action: 'auth.token_issue',
      targetType: 'token',
      targetId: issued.id,
      details: { name: request.body.name, expiresAt: issued.expiresAt, roles: issued.roles },
    });
    return reply
      .code(201)
      .header('Location', `/api/auth/tokens/${issued.id}`)
      .send({ id: issued.id, token: issued.token, name: request.body.name, expiresAt: issued.expiresAt, roles: issued.roles });
  });

  app.get('/api/auth/tokens', async (request) => {
    const who = identity(request);
    return { items: await deps.tokens.list(who.workspaceId, who.userId, 'api') };
  });

  app.delete<{ Params: { id: string } }>('/api/auth/tokens/:id', { schema: tokenIdSchema }, async (request, reply) => {
    const who = identity(request);
    await deps.tokens.revoke(who.workspaceId, who.userId, request.params.id);
    await deps.audit.append(actorOf(request), { action: 'auth.token_revoke', targetType: 'token', targetId: request.params.id });
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/auth/users/:id/unlock', { schema: userIdSchema }, async (request, reply) => {
    await requireAdmin(request, deps.users);
    const who = identity(request);
    const user = await deps.users.get(who.workspaceId, request.params.id);
    await deps.lockout.clear(who.workspaceId, user.id);
    await deps.audit.append(actorOf(request), { action: 'auth.unlock', targetType: 'user', targetId: user.id });
    return reply.code(204).send();
  });
}

/**
 * Same answer and roughly the same time for an unknown email and a wrong password. A
 * locked account is refused before its password is tried, so guessing cannot go on
 * behind the lock. Failures against a known account are counted and audited in its
 * workspace; an unknown email belongs to no workspace and is only logged.
 */
async function checkCredentials(deps: AuthDeps, request: FastifyRequest, email: string, password: string): Promise<UserCredentials> {
  const candidates = await deps.users.findForLogin(email);
  let locked: Date | null = null;
  const tried: UserCredentials[] = [];
  for (const user of candidates) {
    const until = await deps.lockout.lockedUntil(user.workspaceId, user.id);
    if (until) {
      locked = until;
      continue;
    }
    tried.push(user);
    if (user.passwordHash && (await verifyPassword(user.passwordHash, password))) {
      await deps.lockout.clear(user.workspaceId, user.id);
      return user;
    }
  }
  if (candidates.length === 0) {
    await verifyPassword(await decoyHash(), password);
    request.log.warn({ email: email.slice(0, 320), ip: request.ip }, 'failed login for an unknown email');
  }
  for (const user of tried) {
    const outcome = await deps.lockout.recordFailure(user.workspaceId, user.id);
    if (outcome.lockedUntil) locked = outcome.lockedUntil;
    await deps.audit.append(actorFor(request, user.workspaceId, null), {
      action: 'auth.login_failed',
      targetType: 'user',
      targetId: user.id,
      details: { email, failures: outcome.failures, ...(outcome.lockedUntil ? { lockedUntil: outcome.lockedUntil.toISOString() } : {}) },
    });
  }
  if (locked && tried.length === 0) {
    for (const user of candidates) {
      await deps.audit.append(actorFor(request, user.workspaceId, null), { action: 'auth.login_locked', targetType: 'user', targetId: user.id, details: { email } });
    }
  }
  if (locked) {
    throw new ProblemError(
      'too_many_requests',
      'Too many failed logins: the account is locked for a while; try again later or ask an administrator to unlock it',
      [{ field: 'email', code: 'locked', message: `locked until ${locked.toISOString()}` }],
      { lockedUntil: locked.toISOString() },
    );
  }
  throw new ProblemError('unauthorized', 'Wrong email or password', [{ field: 'password', code: 'invalid_credentials', message: 'wrong email or password' }]);
}

/** The audit actor of a login attempt: nobody known until it succeeds (the account tried is the target), from the request's address. */
function actorFor(request: FastifyRequest, workspaceId: string, userId: string | null): Actor {
  return { workspaceId, userId, source: 'ui', ...clientOf(request) };
}

function sessionName(request: FastifyRequest): string {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' ? agent.slice(0, 200) : '';
}
