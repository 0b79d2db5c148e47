import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { ProblemError, findObject, toApiRecord, type ObjectDef } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import { fragmentToSql } from '@tessera/store';
import type { ServiceAction, ServiceTaskNode } from '../model/types';
import { compileFlowExpression, compileFlowFilterToSql } from '../expressions/flow-expressions';
import { retryMaxAttempts } from '../time/index';
import { resolveAssignees, type AssigneeContext, type EffectRequest } from './collaborators';
import { FlowIncident } from './errors';
import type { Step, TokenRow } from './step';

type Action<T extends ServiceAction['type']> = Extract<ServiceAction, { type: T }>;

/**
 * A service task: the action, its timeline entry and the token's move, in the step's
 * transaction. Record writes go through the record repository with the app's rules, in
 * that same transaction; HTTP and email are written to the outbox and delivered by a job.
 */
export async function runServiceTask(step: Step, token: TokenRow, node: ServiceTaskNode): Promise<void> {
  const action = node.action;
  let data: Record<string, unknown>;
  switch (action.type) {
    case 'createRecord':
      data = await createRecord(step, action);
      break;
    case 'updateRecord':
      data = await updateRecord(step, action);
      break;
    case 'queryRecords':
      data = await queryRecords(step, action);
      break;
    case 'setVariables':
      data = await setVariables(step, action);
      break;
    case 'notify':
      data = await notify(step, action);
      break;
    case 'email': {
      const effect: EffectRequest = {
        kind: 'email',
        to: toList(await step.evaluate(action.to)).map(String),
        subject: text(await step.evaluate(action.subject)),
        body: text(await step.evaluate(action.body)),
      };
      data = { idempotencyKey: await writeEffect(step, token, node, effect, null) };
      break;
    }
    case 'http': {
      const headers: Record<string, string> = {};
      for (const [name, expr] of Object.entries(action.headers ?? {})) headers[name] = text(await step.evaluate(expr));
      const url = text(await step.evaluate(action.url));
      const effect: EffectRequest = { kind: 'http', method: action.method, url, headers, ...(action.body !== undefined ? { body: await step.evaluate(action.body) } : {}) };
      const key = await writeEffect(step, token, node, effect, action.resultVariable ?? null);
      if (action.resultVariable) {
        // the token waits for the delivery, which stores the response and moves it on
        await step.setToken(token, { status: 'waiting' });
        step.event({ tokenId: token.id, nodeId: node.id, action: 'effect_queued', data: { idempotencyKey: key } });
        return;
      }
      data = { idempotencyKey: key };
      break;
    }
  }
  step.event({ tokenId: token.id, nodeId: node.id, action: 'executed', data: { type: action.type, ...data } });
  await step.leave(token, step.outgoing(node.id));
}

async function valuesOf(step: Step, values: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, expr] of Object.entries(values)) out[key] = await step.evaluate(expr);
  return out;
}

async function createRecord(step: Step, action: Action<'createRecord'>): Promise<Record<string, unknown>> {
  const record = await step.records().create(step.actor, action.object, await valuesOf(step, action.values));
  if (action.resultVariable) step.setVariable(action.resultVariable, record.id);
  return { object: action.object, recordId: record.id };
}

async function updateRecord(step: Step, action: Action<'updateRecord'>): Promise<Record<string, unknown>> {
  const objectKey = action.object ?? step.flow.object;
  const id = action.record !== undefined ? await step.evaluate(action.record) : step.instance.record_id;
  if (!objectKey || typeof id !== 'string') throw new FlowIncident(`the update has no record to update (record id ${JSON.stringify(id ?? null)})`);
  const values = await valuesOf(step, action.values);
  const repo = step.records();
  // the row is read and written in this transaction; a concurrent writer makes the update
  // fail as stale and the step is retried as a whole
  // (the flow's own record is usually read already by this transaction's expressions)
  const own = objectKey === step.flow.object && id === step.instance.record_id ? await step.record() : null;
  const version = own ? Number(own.version) : (await repo.get(step.workspaceId, objectKey, id)).version;
  await repo.update(step.actor, objectKey, id, values, version);
  step.forgetRecord();
  return { object: objectKey, recordId: id };
}

const DEFAULT_QUERY_LIMIT = 50;
const MAX_QUERY_LIMIT = 200;

async function queryRecords(step: Step, action: Action<'queryRecords'>): Promise<Record<string, unknown>> {
  const object = findObject(step.app.document, action.object);
  if (!object?.id) throw new FlowIncident(`queryRecords names an unknown object "${action.object}"`);
  const input = await step.input();
  const limit = Math.min(Math.max(1, action.limit ?? DEFAULT_QUERY_LIMIT), MAX_QUERY_LIMIT);
  const where = action.filter !== undefined ? fragmentToSql(compileFlowFilterToSql(step.app.document, step.flow, object, action.filter, input)) : sql`TRUE`;
  const rows = await sql<{ id: string; data: Record<string, unknown> }>`
    SELECT id, data FROM records
    WHERE workspace_id = ${step.workspaceId} AND object_id = ${object.id} AND deleted_at IS NULL AND (${where})
    ORDER BY ${orderBy(object, action.sort)}
    LIMIT ${limit}`.execute(step.trx);
  const records = rows.rows.map((r) => ({ id: r.id, ...toApiRecord(object, r.data) }));
  step.setVariable(action.resultVariable, records);
  return { object: action.object, count: records.length };
}

const SYSTEM_SORT = new Set(['id', 'created_at', 'updated_at']);

/** `field,-field` over the object's fields (keys checked against the metadata, never raw text) */
function orderBy(object: ObjectDef, sort: string | undefined) {
  const parts = (sort ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const terms = parts.map((part) => {
    const desc = part.startsWith('-');
    const key = desc ? part.slice(1) : part;
    const field = object.fields.find((f) => f.key === key && !f.deleted);
    let expression: string;
    if (SYSTEM_SORT.has(key)) expression = key;
    else if (field) expression = fieldSqlExpression(field);
    else throw new FlowIncident(`queryRecords sorts by an unknown field "${key}" of ${object.key}`);
    return sql.raw(`${expression} ${desc ? 'DESC' : 'ASC'} NULLS LAST`);
  });
  terms.push(sql.raw('id ASC'));
  return sql.join(terms, sql`, `);
}

async function setVariables(step: Step, action: Action<'setVariables'>): Promise<Record<string, unknown>> {
  const values = await valuesOf(step, action.values);
  for (const [name, value] of Object.entries(values)) step.setVariable(name, value);
  return { variables: Object.keys(values) };
}

async function notify(step: Step, action: Action<'notify'>): Promise<Record<string, unknown>> {
  const recipients = await resolveAssignees(step.trx, await assigneeContext(step), action.recipients);
  const message = text(await step.evaluate(action.message)).trim();
  if (!message) throw new ProblemError('unprocessable', 'The notification message is empty', [{ field: 'message', code: 'empty', message: 'the message evaluated to nothing' }]);
  // notifications is the rules package's table (migrations/0002_rules.sql), not in the kysely schema
  for (const userId of recipients) {
    await sql`
      INSERT INTO notifications (workspace_id, id, user_id, message, record_id, object_id, source)
      VALUES (${step.workspaceId}, ${uuidv7()}, ${userId}, ${message.slice(0, 4000)}, ${step.instance.record_id}, ${step.instance.object_id},
              ${`flow:${step.flow.key}`})`.execute(step.trx);
  }
  return { recipients };
}

/** what assignee rules resolve against: the instance's record, its starter, its expressions */
export async function assigneeContext(step: Step): Promise<AssigneeContext> {
  const input = await step.input();
  return {
    workspaceId: step.workspaceId,
    appId: step.app.appId,
    record: input.record,
    object: step.object,
    startedBy: step.instance.started_by,
    // assignee rules call back synchronously, on the input loaded here
    evaluate: (expr: unknown) => compileFlowExpression(step.app.document, step.flow, expr).run(input),
  };
}

/**
 * Writes an effect to the outbox with the key `<instance>:<node>:<visit>` and schedules its
 * delivery; the key is sent with every attempt so the receiver can drop repeats.
 */
export async function writeEffect(step: Step, token: TokenRow, node: ServiceTaskNode, effect: EffectRequest, resultVariable: string | null): Promise<string> {
  const key = `${step.instance.id}:${node.id}:${token.visit}`;
  const id = uuidv7();
  await step.trx
    .insertInto('outbox')
    .values({
      workspace_id: step.workspaceId,
      id,
      idempotency_key: key,
      instance_id: step.instance.id,
      token_id: token.id,
      node_id: node.id,
      effect: JSON.stringify(effect),
      result_variable: resultVariable,
      created_at: step.now,
    })
    .execute();
  step.jobs.push({
    workspaceId: step.workspaceId,
    kind: 'deliver',
    payload: node.retry ? { outboxId: id, retry: node.retry } : { outboxId: id },
    runAt: step.now,
    instanceId: step.instance.id,
    tokenId: token.id,
    maxAttempts: retryMaxAttempts(node.retry),
  });
  return key;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined && v !== '');
  return value === null || value === undefined || value === '' ? [] : [value];
}
