import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context';

/** The access API (see docs/api.md). */
export function registerAccessRoutes(_api: FastifyInstance, _ctx: ServerContext): void {}
