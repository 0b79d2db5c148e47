import type { FastifyInstance } from 'fastify';
import { ProblemError, type FieldDef } from '@tessera/metadata';
import { AuditLog, FieldSealer, RecordRepository, environmentKeyRing, readRecordHistory, type Database, type MetadataRepository, type UserRepository } from '@tessera/store';
import { identity } from '../auth/context';
import { requireAdmin } from '../auth/admin';
import { accessPolicyFor } from '../auth/access';
import { recordParams } from '../apps/params';

const auditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: { type: 'string', maxLength: 100 },
    action: { type: 'string', maxLength: 100 },
    from: { type: 'string', maxLength: 40 },
    to: { type: 'string', maxLength: 40 },
    cursor: { type: 'string', maxLength: 100 },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
  },
} as const;

const historyQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { cursor: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 500 } },
} as const;

export interface AuditRouteDeps {
  database: Database;
  metadata: MetadataRepository;
  users: UserRepository;
  audit: AuditLog;
}

type HistoryRoute = { Params: { app: string; object: string; id: string }; Querystring: { cursor?: string; limit?: number } };
type AuditRoute = { Querystring: { user?: string; action?: string; from?: string; to?: string; cursor?: string; limit?: number } };

/** The audit trail: one record's history (for whoever may read the record) and the workspace's audit log (administrators). */
export function registerAuditRoutes(app: FastifyInstance, deps: AuditRouteDeps): void {
  app.get<HistoryRoute>('/api/apps/:app/records/:object/:id/history', { schema: { params: recordParams, querystring: historyQuerySchema } }, async (request) => {
    const { workspaceId } = identity(request);
    const published = await deps.metadata.getPublished(workspaceId, request.params.app);
    const policy = await accessPolicyFor(request, deps.database, published);
    const object = new RecordRepository(deps.database.db, published).object(request.params.object);
    if (!policy.can(object, 'read')) throw new ProblemError('forbidden', `You may not read ${object.key} records`);
    // a record's history is as private as the record: the caller's record scope and field permissions apply
    const sealer = FieldSealer.for(published, environmentKeyRing());
    return readRecordHistory(deps.database.db, workspaceId, object, request.params.id, {
      scope: policy.recordScope(object, 'read'),
      canReadField: (field) => policy.canReadField(object, field),
      // encrypted values are stored as ciphertext in history too; revealing them is an audited read
      ...(sealer ? { reveal: (field: FieldDef, value: unknown) => sealer.reveal(object, field, value, request.params.id) } : {}),
      cursor: request.query.cursor,
      limit: request.query.limit,
    });
  });

  app.get<AuditRoute>('/api/audit', { schema: { querystring: auditQuerySchema } }, async (request) => {
    await requireAdmin(request, deps.users);
    return deps.audit.query(identity(request).workspaceId, request.query);
  });
}
