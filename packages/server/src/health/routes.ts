import type { FastifyInstance } from 'fastify';
import type { Database } from '@tessera/store';

export function registerHealthRoutes(app: FastifyInstance, database: Database): void {
  app.get('/api/health', { config: { public: true } }, async () => {
    // a health check that does not touch the database would stay green while it is down
    await database.db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
    return { status: 'ok', database: database.kind };
  });
}
