import type { FastifyInstance } from 'fastify';
import type { AppDocument, LocalizedText } from '@tessera/metadata';
import type { MetadataRepository } from '@tessera/store';
import { actorOf, identity } from '../auth/context';
import { appParams, createAppBody, draftBody, publishBody, rollbackBody } from './params';

type AppParams = { Params: { app: string } };

/** Apps and their metadata lifecycle: draft -> publish -> versions -> rollback. */
export function registerAppRoutes(app: FastifyInstance, metadata: MetadataRepository): void {
  app.get('/api/apps', async (request) => ({ items: await metadata.listApps(identity(request).workspaceId) }));

  app.post<{ Body: { key: string; name?: LocalizedText; draft?: AppDocument } }>(
    '/api/apps',
    { schema: { body: createAppBody } },
    async (request, reply) => {
      const created = await metadata.createApp(actorOf(request), request.body);
      return reply.code(201).header('Location', `/api/apps/${created.key}`).send(created);
    },
  );

  app.get<AppParams>('/api/apps/:app', { schema: { params: appParams } }, async (request) => {
    const published = await metadata.getPublished(identity(request).workspaceId, request.params.app);
    return { key: published.appKey, version: published.version, document: published.document };
  });

  app.get<AppParams>('/api/apps/:app/draft', { schema: { params: appParams } }, async (request) =>
    metadata.getDraft(identity(request).workspaceId, request.params.app),
  );

  app.put<AppParams & { Body: unknown }>('/api/apps/:app/draft', { schema: { params: appParams, body: draftBody } }, async (request) =>
    metadata.saveDraft(actorOf(request), request.params.app, request.body),
  );

  app.post<AppParams & { Body: { note?: string } | null }>(
    '/api/apps/:app/publish',
    { schema: { params: appParams, body: publishBody } },
    async (request, reply) => {
      const version = await metadata.publish(actorOf(request), request.params.app, request.body?.note ?? '');
      return reply.code(201).send(version);
    },
  );

  app.get<AppParams>('/api/apps/:app/versions', { schema: { params: appParams } }, async (request) => ({
    items: await metadata.listVersions(identity(request).workspaceId, request.params.app),
  }));

  app.post<AppParams & { Body: { version: number } }>(
    '/api/apps/:app/rollback',
    { schema: { params: appParams, body: rollbackBody } },
    async (request) => metadata.rollback(actorOf(request), request.params.app, request.body.version),
  );
}
