import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { ProblemError } from '@tessera/metadata';

/**
 * Security headers on every response, and the rate-limit plugin that individual routes
 * opt into (the login route does). The CSP allows only this origin's scripts, so the
 * Swagger UI at /docs (its own files, no inline script) and a future single-page app
 * served from here work, and injected script does not run. Inline styles are allowed
 * because Swagger UI sets style attributes.
 */
export function registerSecurity(app: FastifyInstance): void {
  app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    // the API is called cross-origin by nobody we know of; same-origin keeps it that way
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });
  app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new ProblemError('too_many_requests', `Too many attempts from this address; retry in ${context.after}`, [
        { field: 'request', code: 'rate_limited', message: `at most ${context.max} attempts per window` },
      ]),
  });
}
