import { APPROVAL_ACTIONS } from '@tessera/workflow';
import { keyString } from '../apps/params';

/** Ids the engine hands out are UUIDs; anything else is a 400 naming the parameter, not a lookup. */
const uuid = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;

export const flowParams = {
  type: 'object',
  required: ['app', 'flow'],
  properties: { app: keyString, flow: keyString },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: uuid },
} as const;

export const startBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    recordId: { type: 'string', maxLength: 100, description: 'the record the instance is about (required when the flow has an object)' },
    // names are checked against the flow's declared variables, each unknown one named
    variables: { type: 'object', maxProperties: 200 },
  },
} as const;

export const cancelBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 2000 } },
} as const;

export const completeBody = {
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: {
    action: { type: 'string', enum: [...APPROVAL_ACTIONS] },
    comment: { type: 'string', maxLength: 4000 },
    delegateTo: { ...uuid, description: 'delegate: the user who takes the task over' },
    returnTo: { type: 'string', maxLength: 128, description: 'return: the id of an earlier user task of the flow' },
    values: { type: 'object', maxProperties: 500, description: "record values (by field key) among the task's editable fields" },
  },
} as const;

export const inboxQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['open', 'done'], default: 'open' },
    cursor: { type: 'string', maxLength: 100 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;

export const incidentQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { status: { type: 'string', enum: ['open', 'resolved'] } },
} as const;

/** the XML media types a BPMN modeller saves as */
export const BPMN_MEDIA_TYPES = ['application/xml', 'text/xml', 'application/bpmn+xml', 'application/bpmn20-xml'];
