import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context';

/** The workflow API (see docs/api.md). */
export function registerWorkflowRoutes(_api: FastifyInstance, _ctx: ServerContext): void {}
