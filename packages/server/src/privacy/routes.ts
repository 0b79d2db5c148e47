import type { FastifyInstance } from 'fastify';
import { erasePerson, exportPersonalData, type PrivacySubject, type TokenRepository, type UserRepository, type Database } from '@tessera/store';
import { actorOf } from '../auth/context';
import { requireAdmin } from '../auth/admin';
import { keyString } from '../apps/params';

/** Exactly one of: a user id, an email address, or a record that is the person. */
const subjectBody = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: {
    userId: { type: 'string', maxLength: 100 },
    email: { type: 'string', minLength: 3, maxLength: 320 },
    recordRef: {
      type: 'object',
      required: ['app', 'object', 'id'],
      additionalProperties: false,
      properties: { app: keyString, object: keyString, id: { type: 'string', maxLength: 100 } },
    },
  },
} as const;

export interface PrivacyRouteDeps {
  database: Database;
  users: UserRepository;
  tokens: TokenRepository;
}

/**
 * Personal data requests (PIPL/GDPR), for administrators: export everything stored about
 * a person as JSON, or erase them. Both are audited without the identifiers they named.
 */
export function registerPrivacyRoutes(app: FastifyInstance, deps: PrivacyRouteDeps): void {
  app.post<{ Body: PrivacySubject }>('/api/privacy/export', { schema: { body: subjectBody } }, async (request, reply) => {
    await requireAdmin(request, deps.users);
    const data = await exportPersonalData(deps.database.db, actorOf(request), request.body);
    return reply.header('Content-Disposition', 'attachment; filename="personal-data.json"').send(data);
  });

  app.post<{ Body: PrivacySubject }>('/api/privacy/erase', { schema: { body: subjectBody } }, async (request) => {
    await requireAdmin(request, deps.users);
    const result = await erasePerson(deps.database.db, actorOf(request), request.body);
    // the erased accounts' tokens were revoked in the transaction; stop trusting cached verifications now
    deps.tokens.forgetVerified();
    return { erased: true, rows: result.rows };
  });
}
