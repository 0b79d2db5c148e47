import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError, type FieldError } from '@tessera/metadata';

/** The body of every error response (RFC 9457), with our per-field details. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: FieldError[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

export function problemDocument(status: number, detail: string, errors: FieldError[] = [], extra: Record<string, unknown> = {}, code?: string): ProblemDocument {
  const title = TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
  const slug = code ?? title.toLowerCase().replace(/[^a-z]+/g, '_');
  // extra first: it may not overwrite the members every client relies on
  return { ...extra, type: `urn:tessera:problem:${slug}`, title, status, detail, errors };
}

export function sendProblem(reply: FastifyReply, doc: ProblemDocument): FastifyReply {
  return reply.code(doc.status).type('application/problem+json; charset=utf-8').send(doc);
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Fastify's schema errors (ajv) to our field errors: `email`, `limit`, `version`, or the part name. */
export function validationErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  return validation.map((v) => {
    const path = (v.instancePath ?? '').replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
    const missing = v.params?.missingProperty ?? v.params?.additionalProperty;
    const field = [path, typeof missing === 'string' ? missing : ''].filter(Boolean).join('/') || context || 'body';
    const code = v.keyword === 'additionalProperties' ? 'unknown_field' : (v.keyword ?? 'invalid');
    const message = v.keyword === 'additionalProperties' ? `unknown property "${String(missing)}"` : (v.message ?? 'is invalid');
    return { field, code, message };
  });
}

/** SQLSTATEs of text PostgreSQL refuses to hold: untranslatable_character (U+0000 in jsonb), character_not_in_repertoire. */
const UNSTORABLE_TEXT = new Set(['22P05', '22021']);

/** One mapping from any failure to a problem document; only the unexpected are 500s. */
export function toProblem(error: unknown): ProblemDocument {
  if (error instanceof ProblemError) return problemDocument(error.status, error.message, error.errors, error.extra, error.kind);
  const e = error as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(e.validation)) {
    const errors = validationErrors(e.validation as AjvError[], e.validationContext);
    return problemDocument(400, `Invalid ${e.validationContext ?? 'request'}: ${errors.map((x) => `${x.field} ${x.message}`).join('; ')}`, errors, {}, 'validation');
  }
  if (UNSTORABLE_TEXT.has(String((error as { code?: unknown } | null)?.code))) {
    // a value PostgreSQL's text cannot hold (U+0000, a broken encoding), e.g. in a filter or search parameter
    return problemDocument(400, 'A text value contains a character that cannot be stored (such as U+0000)', [{ field: '', code: 'invalid_character', message: 'remove the NUL character' }], {}, 'invalid_character');
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return problemDocument(status, e.message ?? 'Bad request', bodyErrors(e.code), {}, e.code?.toLowerCase());
  }
  return problemDocument(500, 'An unexpected error occurred; it has been logged');
}

/** Framework errors about the body itself name the body as the offending field. */
function bodyErrors(code: string | undefined): FieldError[] {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [{ field: 'body', code: 'malformed_json', message: 'the body is not valid JSON' }];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [{ field: 'body', code: 'too_large', message: 'the body exceeds the size limit' }];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [{ field: 'content-type', code: 'unsupported', message: 'send application/json' }];
    default:
      return [];
  }
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const doc = toProblem(error);
    if (doc.status >= 500) request.log.error({ err: error }, 'unexpected error');
    if (doc.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    return sendProblem(reply, doc);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemDocument(404, `No route ${request.method} ${request.url.split('?')[0]}`, [], {}, 'route_not_found')),
  );
}
