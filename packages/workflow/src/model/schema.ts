import { APPROVAL_ACTIONS, type AssigneeRule, type FlowNodeType, type FlowTrigger, type ServiceAction } from './types';

/**
 * JSON Schema (2020-12) of the `flows` section, written to match ./types.ts; a test keeps the
 * two in step (a fully populated typed example validates, and every union member is here —
 * the Records below are keyed by the unions' tags, so TypeScript refuses a missing one).
 * Unions are `oneOf` with a `type` discriminator, so ajv reports the errors of the one branch
 * the `type` selects rather than of every branch.
 */

/** BPMN ids are XML NCNames; this is the subset bpmn-js and Camunda Modeler generate. */
export const FLOW_ELEMENT_ID_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$';
export const FLOW_KEY_PATTERN = '^[a-z][a-z0-9_]{0,62}$';
export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,62}$';

type Schema = Record<string, unknown>;

const text: Schema = {
  type: 'object',
  properties: { en: { type: 'string', maxLength: 500 }, zh: { type: 'string', maxLength: 500 } },
  additionalProperties: false,
  minProperties: 1,
};
const expression: Schema = {};
const elementId: Schema = { type: 'string', pattern: FLOW_ELEMENT_ID_PATTERN };
const key: Schema = { type: 'string', pattern: FLOW_KEY_PATTERN };
const variableName: Schema = { type: 'string', pattern: VARIABLE_NAME_PATTERN };
const duration: Schema = { type: 'string', minLength: 2, maxLength: 100 };
const expressionMap: Schema = { type: 'object', maxProperties: 500, additionalProperties: expression };

function tagged(tag: string, properties: Schema, required: string[] = []): Schema {
  return {
    type: 'object',
    required: ['type', ...required],
    additionalProperties: false,
    properties: { type: { const: tag }, ...properties },
  };
}

function union(members: Record<string, Schema>): Schema {
  return { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, discriminator: { propertyName: 'type' }, oneOf: Object.values(members) };
}

export const ASSIGNEE_RULE_SCHEMAS: Record<AssigneeRule['type'], Schema> = {
  user: tagged('user', { userId: { type: 'string', maxLength: 100 } }, ['userId']),
  role: tagged('role', { role: key }, ['role']),
  field: tagged('field', { field: key }, ['field']),
  manager: tagged('manager', { field: key }),
  expression: tagged('expression', { expression }, ['expression']),
};
const assignees: Schema = { type: 'array', maxItems: 50, items: union(ASSIGNEE_RULE_SCHEMAS) };

export const TRIGGER_SCHEMAS: Record<FlowTrigger['type'], Schema> = {
  recordCreated: tagged('recordCreated', { condition: expression }),
  recordUpdated: tagged('recordUpdated', { fields: { type: 'array', maxItems: 500, items: key }, condition: expression }),
  schedule: tagged('schedule', { cron: { type: 'string', maxLength: 200 }, timezone: { type: 'string', maxLength: 100 } }, ['cron']),
  manual: tagged('manual', { label: text, condition: expression }),
  api: tagged('api', {}),
};

const retry: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { maxAttempts: { type: 'integer', minimum: 1, maximum: 100 }, initialDelay: duration },
};

export const SERVICE_ACTION_SCHEMAS: Record<ServiceAction['type'], Schema> = {
  createRecord: tagged('createRecord', { object: key, values: expressionMap, resultVariable: variableName }, ['object', 'values']),
  updateRecord: tagged('updateRecord', { object: key, record: expression, values: expressionMap }, ['values']),
  queryRecords: tagged(
    'queryRecords',
    {
      object: key,
      filter: expression,
      sort: { type: 'string', pattern: '^-?[a-z][a-z0-9_]{0,62}$' },
      limit: { type: 'integer', minimum: 1, maximum: 1000 },
      resultVariable: variableName,
    },
    ['object', 'resultVariable'],
  ),
  notify: tagged('notify', { recipients: assignees, message: expression }, ['recipients', 'message']),
  email: tagged('email', { to: expression, subject: expression, body: expression }, ['to', 'subject', 'body']),
  http: tagged(
    'http',
    {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
      url: expression,
      headers: expressionMap,
      body: expression,
      resultVariable: variableName,
    },
    ['method', 'url'],
  ),
  setVariables: tagged('setVariables', { values: expressionMap }, ['values']),
};

const timer: Schema = { type: 'object', additionalProperties: false, properties: { duration, date: expression } };

const coordinate: Schema = { type: 'number', minimum: -1_000_000, maximum: 1_000_000 };
const layout: Schema = {
  type: 'object',
  required: ['x', 'y', 'width', 'height'],
  additionalProperties: false,
  properties: { x: coordinate, y: coordinate, width: coordinate, height: coordinate },
};
const waypoints: Schema = {
  type: 'array',
  maxItems: 100,
  items: { type: 'object', required: ['x', 'y'], additionalProperties: false, properties: { x: coordinate, y: coordinate } },
};

function node(tag: FlowNodeType, properties: Schema, required: string[] = []): Schema {
  return tagged(tag, { id: elementId, name: text, layout, ...properties }, ['id', ...required]);
}

export const NODE_SCHEMAS: Record<FlowNodeType, Schema> = {
  startEvent: node('startEvent', { trigger: union(TRIGGER_SCHEMAS) }, ['trigger']),
  endEvent: node('endEvent', { terminate: { type: 'boolean' }, result: { type: 'string', maxLength: 100 } }),
  userTask: node(
    'userTask',
    {
      kind: { enum: ['approval', 'task'] },
      assignees,
      mode: { enum: ['single', 'any', 'all', 'sequential'] },
      actions: { type: 'array', uniqueItems: true, items: { enum: [...APPROVAL_ACTIONS] } },
      due: { type: 'object', additionalProperties: false, properties: { duration, date: expression } },
      editableFields: { type: 'array', maxItems: 500, items: key },
    },
    ['kind', 'assignees', 'mode'],
  ),
  serviceTask: node('serviceTask', { action: union(SERVICE_ACTION_SCHEMAS), retry }, ['action']),
  exclusiveGateway: node('exclusiveGateway', { default: elementId }),
  parallelGateway: node('parallelGateway', {}),
  timerEvent: node('timerEvent', { timer }, ['timer']),
  boundaryTimer: node('boundaryTimer', { attachedTo: elementId, timer, interrupting: { type: 'boolean' } }, ['attachedTo', 'timer', 'interrupting']),
};

export const FLOW_NODE_TYPES = Object.keys(NODE_SCHEMAS) as FlowNodeType[];

const edge: Schema = {
  type: 'object',
  required: ['id', 'source', 'target'],
  additionalProperties: false,
  properties: {
    id: elementId,
    source: elementId,
    target: elementId,
    name: text,
    condition: expression,
    outcome: { enum: ['approved', 'rejected'] },
    waypoints,
  },
};

export const flowDefSchema: Schema = {
  type: 'object',
  required: ['key', 'name', 'nodes', 'edges'],
  additionalProperties: false,
  properties: {
    key,
    name: text,
    description: text,
    object: key,
    disabled: { type: 'boolean' },
    variables: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        required: ['name', 'type'],
        additionalProperties: false,
        properties: { name: variableName, type: { enum: ['text', 'number', 'boolean', 'date', 'datetime', 'list'] } },
      },
    },
    nodes: { type: 'array', maxItems: 1000, items: union(NODE_SCHEMAS) },
    edges: { type: 'array', maxItems: 5000, items: edge },
  },
};

export const flowsSectionSchema: Schema = { type: 'array', maxItems: 500, items: flowDefSchema };
