import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EvalEnv } from '@tessera/expr';
import { RecordRepository, type Database, type MetadataRepository } from '@tessera/store';
import type { PublishedApp } from '@tessera/metadata';
import { localeOf } from '@tessera/rules';
import { actorOf, identity } from '../auth/context';
import { accessPolicyFor } from '../auth/access';
import { objectParams, recordParams } from '../apps/params';
import { listQuerySchema, toListQuery, type ListQueryString } from './list-query';
import { etag, expectedVersion } from './if-match';
import { registerDuplicateRoutes } from './duplicates-routes';
import { rulesOnly, type WriteOptions } from './write-options';

type ObjectRoute = { Params: { app: string; object: string } };
type RecordRoute = { Params: { app: string; object: string; id: string } };

/**
 * Generic record routes: one set serves every object of every app. The published
 * version is read per request (cached by the metadata repository), so a publish or a
 * rollback takes effect on the next request. Writes run the app's rules in their
 * transaction; a saved record the rules warned about carries `_warnings`.
 */
export function registerRecordRoutes(
  app: FastifyInstance,
  database: Database,
  metadata: MetadataRepository,
  /** what a write runs: the app's rules, composed by the server with the flow engine's record triggers and flow starter */
  writeOptionsFor: (app: PublishedApp) => WriteOptions = rulesOnly,
): void {
  // The engine is built once per published version and cached with it; the locale of
  // rule messages follows the request.
  const repository = async (request: FastifyRequest<{ Params: { app: string } }>) => {
    const published = await metadata.getPublished(identity(request).workspaceId, request.params.app);
    return new RecordRepository(database.db, published, {
      ...writeOptionsFor(published),
      locale: localeOf(request.headers['accept-language']),
      access: await accessPolicyFor(request, database, published),
    });
  };

  app.get<ObjectRoute & { Querystring: ListQueryString }>(
    '/api/apps/:app/records/:object',
    { schema: { params: objectParams, querystring: listQuerySchema } },
    async (request) => {
      const records = await repository(request);
      const result = await records.list(identity(request).workspaceId, request.params.object, toListQuery(request.query), evalEnv(request));
      return { items: result.items, nextCursor: result.nextCursor };
    },
  );

  app.post<ObjectRoute & { Body: unknown }>('/api/apps/:app/records/:object', { schema: { params: objectParams } }, async (request, reply) => {
    const records = await repository(request);
    const created = await records.create(actorOf(request), request.params.object, request.body);
    return reply
      .code(201)
      .header('Location', `/api/apps/${request.params.app}/records/${request.params.object}/${created.id}`)
      .header('ETag', etag(created.version))
      .send(created);
  });

  app.get<RecordRoute>('/api/apps/:app/records/:object/:id', { schema: { params: recordParams } }, async (request, reply) => {
    const records = await repository(request);
    const record = await records.get(identity(request).workspaceId, request.params.object, request.params.id);
    return reply.header('ETag', etag(record.version)).send(record);
  });

  app.patch<RecordRoute & { Body: unknown }>('/api/apps/:app/records/:object/:id', { schema: { params: recordParams } }, async (request, reply) => {
    const version = expectedVersion(request.headers['if-match']);
    const records = await repository(request);
    const updated = await records.update(actorOf(request), request.params.object, request.params.id, request.body, version);
    return reply.header('ETag', etag(updated.version)).send(updated);
  });

  app.delete<RecordRoute>('/api/apps/:app/records/:object/:id', { schema: { params: recordParams } }, async (request, reply) => {
    const records = await repository(request);
    await records.delete(actorOf(request), request.params.object, request.params.id);
    return reply.code(204).send();
  });

  app.post<RecordRoute>('/api/apps/:app/records/:object/:id/restore', { schema: { params: recordParams } }, async (request, reply) => {
    const records = await repository(request);
    const restored = await records.restore(actorOf(request), request.params.object, request.params.id);
    return reply.header('ETag', etag(restored.version)).send(restored);
  });

  registerDuplicateRoutes(app, database, metadata, writeOptionsFor);
}

/** What "now" and "me" mean to a filter: relative dates and the caller. */
function evalEnv(request: FastifyRequest): EvalEnv {
  return { now: new Date(), userId: identity(request).userId };
}
