import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context';

/** The reports API (see docs/api.md). */
export function registerReportsRoutes(_api: FastifyInstance, _ctx: ServerContext): void {}
