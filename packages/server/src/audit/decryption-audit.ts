import type { FastifyInstance } from 'fastify';
import { DecryptionCollector, collectDecryptions, type AuditLog } from '@tessera/store';
import { actorOf } from '../auth/context';

declare module 'fastify' {
  interface FastifyRequest {
    /** what this request decrypted (encrypted fields), written to the audit log before the answer leaves */
    decryptions: DecryptionCollector | null;
  }
}

/** at most this many record ids are named per object in one audit entry; the count is always exact */
const MAX_IDS = 1000;

/**
 * One audit entry per request that returned decrypted values, naming the records and
 * fields. The collector is entered after the body is parsed, so the handler and
 * everything it awaits report into it; the entry is written before the response is
 * sent, so a failure to audit is a failed request, never an unaudited read.
 */
export function registerDecryptionAudit(app: FastifyInstance, audit: AuditLog): void {
  app.decorateRequest('decryptions', null);
  app.addHook('preHandler', (request, _reply, done) => {
    if (!request.url.startsWith('/api/')) return done();
    request.decryptions = new DecryptionCollector();
    collectDecryptions(request.decryptions, done);
  });
  app.addHook('onSend', async (request, _reply, payload) => {
    const collector = request.decryptions;
    if (!collector || collector.empty || !request.auth) return payload;
    const reads = collector.take().map((r) => ({ object: r.objectKey, count: r.recordIds.length, recordIds: r.recordIds.slice(0, MAX_IDS), fields: r.fieldKeys }));
    const app = (request.params as { app?: unknown } | undefined)?.app;
    await audit.append(actorOf(request), {
      action: 'record.decrypt',
      targetType: 'app',
      ...(typeof app === 'string' ? { targetId: app } : {}),
      details: { method: request.method, url: request.url.split('?')[0], reads },
    });
    return payload;
  });
}
