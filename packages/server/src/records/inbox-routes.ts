import type { FastifyInstance } from 'fastify';
import type { Database } from '@tessera/store';
import { listNotifications, listTasks } from '@tessera/rules';
import { identity } from '../auth/context';

const taskQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { status: { type: 'string', enum: ['open', 'done'], default: 'open' } },
} as const;

/** The signed-in user's inbox: tasks and notifications that automations created. Newest first. */
export function registerInboxRoutes(app: FastifyInstance, database: Database): void {
  app.get<{ Querystring: { status?: 'open' | 'done' } }>('/api/tasks', { schema: { querystring: taskQuery } }, async (request) => {
    const who = identity(request);
    return { items: await listTasks(database.db, who.workspaceId, who.userId, request.query.status ?? 'open') };
  });

  app.get('/api/notifications', async (request) => {
    const who = identity(request);
    return { items: await listNotifications(database.db, who.workspaceId, who.userId) };
  });
}
