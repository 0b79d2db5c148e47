import { liveObjects, recordJsonSchema, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import type { AccessPolicy } from '@tessera/store';

type Json = Record<string, unknown>;

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemRef } } });

const ERRORS = {
  '400': problemResponse('Malformed request, unknown field in a filter or sort'),
  '401': problemResponse('No valid session or token'),
  '404': problemResponse('Unknown app, object or record'),
};

/**
 * OpenAPI 3.1 for one published app version: a path pair per live object, with the
 * record schemas the server validates against, so the document cannot drift from
 * what the API accepts. With `access`, the document is the caller's: only the objects
 * they may read, only the fields they may see, fields they may not change marked
 * readOnly and left out of the input schemas, and only the operations they may call.
 */
export function appOpenApi(app: PublishedApp, serverUrl = '/', access?: AccessPolicy): Json {
  const schemas: Json = { Problem: PROBLEM_SCHEMA };
  const paths: Json = {};
  for (const object of liveObjects(app.document)) {
    if (access && !access.can(object, 'read')) continue;
    const name = schemaName(object.key);
    const visible = access ? { ...object, fields: object.fields.filter((f) => access.canReadField(object, f)) } : object;
    const writable = access ? { ...visible, fields: visible.fields.filter((f) => access.canWriteField(object, f)) } : object;
    schemas[`${name}`] = markReadOnly(recordJsonSchema(visible, 'read', app.document) as Json, visible, writable);
    schemas[`${name}Create`] = recordJsonSchema(writable, 'create');
    schemas[`${name}Update`] = recordJsonSchema(writable, 'update');
    const base = `/api/apps/${app.appKey}/records/${object.key}`;
    const may = (action: 'create' | 'update' | 'delete') => !access || access.can(object, action);
    paths[base] = only(collectionPath(object, name), { post: may('create') });
    paths[`${base}/{id}`] = only(itemPath(object, name), { patch: may('update'), delete: may('delete') });
    if (may('delete')) paths[`${base}/{id}/restore`] = restorePath(object, name);
  }
  return {
    openapi: '3.1.0',
    info: { title: `${app.appKey} API`, version: String(app.version), description: `Records of the app "${app.appKey}", published version ${app.version}.` },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a personal API token from POST /api/auth/tokens' },
        session: { type: 'apiKey', in: 'cookie', name: 'tessera_session', description: 'the session cookie set by POST /api/auth/login' },
      },
    },
  };
}

/** Fields the caller sees but may not change are readOnly in the record schema. */
function markReadOnly(schema: Json, visible: ObjectDef, writable: ObjectDef): Json {
  const properties = schema.properties as Record<string, Json> | undefined;
  if (!properties || writable.fields.length === visible.fields.length) return schema;
  const canWrite = new Set(writable.fields.map((f) => f.key));
  for (const field of visible.fields) {
    const property = properties[field.key];
    if (property && !canWrite.has(field.key)) properties[field.key] = { ...property, readOnly: true };
  }
  return schema;
}

/** Drops the operations the caller may not call. */
function only(path: Json, allowed: Record<string, boolean>): Json {
  const out: Json = { ...path };
  for (const [method, ok] of Object.entries(allowed)) if (!ok) delete out[method];
  return out;
}

function schemaName(key: string): string {
  return key.split('_').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('') || key;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const label = (object: ObjectDef) => object.label.en || object.label.zh || object.key;

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const etagHeader = { ETag: { description: 'the record version, for If-Match', schema: { type: 'string' } } };

function collectionPath(object: ObjectDef, name: string): Json {
  return {
    get: {
      operationId: `list_${object.key}`,
      summary: `List ${label(object)} records`,
      tags: [object.key],
      parameters: [
        { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'JSON expression over field keys, e.g. {"==":[{"var":"stage"},"won"]}' },
        { name: 'sort', in: 'query', schema: { type: 'string' }, description: 'field keys separated by commas; -field sorts descending' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
        { name: 'q', in: 'query', schema: { type: 'string' }, description: 'text search' },
      ],
      responses: {
        '200': {
          description: 'One page of records',
          content: json({
            type: 'object',
            required: ['items', 'nextCursor'],
            properties: { items: { type: 'array', items: ref(name) }, nextCursor: { type: ['string', 'null'] } },
          }),
        },
        ...ERRORS,
      },
    },
    post: {
      operationId: `create_${object.key}`,
      summary: `Create a ${label(object)} record`,
      tags: [object.key],
      requestBody: { required: true, content: json(ref(`${name}Create`)) },
      responses: {
        '201': { description: 'Created', headers: { ...etagHeader, Location: { schema: { type: 'string' } } }, content: json(ref(name)) },
        ...ERRORS,
        '409': problemResponse('A unique field already holds this value (extra: existingId)'),
        '413': problemResponse('Body too large'),
        '422': problemResponse('Invalid record; errors name each field'),
      },
    },
  };
}

function itemPath(object: ObjectDef, name: string): Json {
  return {
    parameters: [idParam],
    get: {
      operationId: `get_${object.key}`,
      summary: `Read a ${label(object)} record`,
      tags: [object.key],
      responses: { '200': { description: 'The record', headers: etagHeader, content: json(ref(name)) }, ...ERRORS },
    },
    patch: {
      operationId: `update_${object.key}`,
      summary: `Change fields of a ${label(object)} record`,
      tags: [object.key],
      parameters: [{ name: 'If-Match', in: 'header', required: true, schema: { type: 'string' }, description: 'the version being edited (its ETag)' }],
      requestBody: { required: true, content: json(ref(`${name}Update`)) },
      responses: {
        '200': { description: 'The updated record', headers: etagHeader, content: json(ref(name)) },
        ...ERRORS,
        '409': problemResponse('Stale version (extra: currentVersion) or duplicate unique value'),
        '422': problemResponse('Invalid change'),
        '428': problemResponse('If-Match missing'),
      },
    },
    delete: {
      operationId: `delete_${object.key}`,
      summary: `Delete a ${label(object)} record (restorable)`,
      tags: [object.key],
      responses: { '204': { description: 'Deleted' }, ...ERRORS },
    },
  };
}

function restorePath(object: ObjectDef, name: string): Json {
  return {
    parameters: [idParam],
    post: {
      operationId: `restore_${object.key}`,
      summary: `Restore a deleted ${label(object)} record`,
      tags: [object.key],
      responses: { '200': { description: 'The restored record', headers: etagHeader, content: json(ref(name)) }, ...ERRORS, '409': problemResponse('Not deleted') },
    },
  };
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'errors'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'code', 'message'],
        properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};
