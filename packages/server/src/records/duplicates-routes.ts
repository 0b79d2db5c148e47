import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError, findField, validateRecordInput, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import { RecordRepository, type AccessPolicy, type ApiRecord, type Database, type MergeChoices, type MetadataRepository } from '@tessera/store';
import { findDuplicates, localeOf } from '@tessera/rules';
import { actorOf, identity } from '../auth/context';
import { accessPolicyFor } from '../auth/access';
import { objectParams, recordParams } from '../apps/params';
import { etag } from './if-match';
import { rulesOnly, type WriteOptions } from './write-options';

type ObjectRoute = { Params: { app: string; object: string } };
type RecordRoute = { Params: { app: string; object: string; id: string } };

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const duplicatesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { exclude: { type: 'string', pattern: UUID_PATTERN, description: 'the record being edited, which is not its own duplicate' } },
} as const;

const mergeBody = {
  type: 'object',
  required: ['mergeId'],
  additionalProperties: false,
  properties: {
    mergeId: { type: 'string', maxLength: 100, description: 'the record absorbed into this one and then deleted' },
    // keys and choices are checked against the object, so an unknown field is a 422 naming it
    choices: { type: 'object', maxProperties: 500, additionalProperties: { type: 'string', maxLength: 20 } },
  },
} as const;

export interface DuplicatesResponse {
  matches: Array<{ rule: string; action: 'block' | 'warn'; records: ApiRecord[] }>;
}

/**
 * Duplicate checks a form can make before saving, and merging two records found to be
 * the same. Registered next to the generic record routes.
 */
export function registerDuplicateRoutes(
  app: FastifyInstance,
  database: Database,
  metadata: MetadataRepository,
  writeOptionsFor: (app: PublishedApp) => WriteOptions = rulesOnly,
): void {
  const published = (request: FastifyRequest<{ Params: { app: string } }>) => metadata.getPublished(identity(request).workspaceId, request.params.app);

  app.post<ObjectRoute & { Body: unknown; Querystring: { exclude?: string } }>(
    '/api/apps/:app/records/:object/duplicates',
    { schema: { params: objectParams, querystring: duplicatesQuery } },
    async (request): Promise<DuplicatesResponse> => {
      const app = await published(request);
      const access = await accessPolicyFor(request, database, app);
      const records = new RecordRepository(database.db, app, { access });
      const object = records.object(request.params.object);
      if (!access.can(object, 'read')) throw new ProblemError('forbidden', `You may not read ${object.key} records`);
      refuseHiddenFields(access, object, request.body);
      // a partial record is fine: a form asks as soon as the fields a rule needs are filled
      const values = validateRecordInput(object, request.body ?? {}, 'update');
      const workspaceId = identity(request).workspaceId;
      const matches = await findDuplicates(database.db, workspaceId, object, values, request.query.exclude?.toLowerCase() ?? null);
      const found = await Promise.all(
        matches.map(async (m) => ({
          rule: m.rule,
          action: m.action,
          // a candidate deleted since the check, or outside the caller's scope, is not one they are shown
          records: (await Promise.all(m.recordIds.map((id) => records.get(workspaceId, object.key, id).catch(() => null)))).filter(
            (r): r is ApiRecord => r !== null,
          ),
        })),
      );
      // a match with nothing visible would confirm that a record the caller cannot see holds these values
      return { matches: found.filter((m) => m.records.length > 0) };
    },
  );

  app.post<RecordRoute & { Body: { mergeId: string; choices?: Record<string, string> } }>(
    '/api/apps/:app/records/:object/:id/merge',
    { schema: { params: recordParams, body: mergeBody } },
    async (request, reply) => {
      const app = await published(request);
      // with the rule engine, as every record write: the survivor's rollups and the re-pointed records' formulas follow the merge
      const records = new RecordRepository(database.db, app, {
        ...writeOptionsFor(app),
        locale: localeOf(request.headers['accept-language']),
        access: await accessPolicyFor(request, database, app),
      });
      const { mergeId, choices = {} } = request.body;
      const survivor = await records.merge(actorOf(request), request.params.object, request.params.id, mergeId, choices as MergeChoices);
      return reply.header('ETag', etag(survivor.version)).send(survivor);
    },
  );
}

/** A duplicate check on a field the caller cannot see would tell them whether someone holds a value. */
function refuseHiddenFields(access: AccessPolicy, object: ObjectDef, body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const hidden = Object.keys(body).filter((key) => {
    const field = findField(object, key);
    return field !== undefined && !access.canReadField(object, field);
  });
  if (hidden.length > 0) {
    throw new ProblemError('unprocessable', 'Invalid record', hidden.map((key) => ({ field: key, code: 'unknown_field', message: `${key} is not a field of ${object.key}` })));
  }
}
