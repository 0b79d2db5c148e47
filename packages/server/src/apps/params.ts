import { KEY_PATTERN } from '@tessera/metadata';

/** Keys are checked at the door so a bad one is a 400 naming it, not a lookup of garbage. */
export const keyString = { type: 'string', pattern: KEY_PATTERN.source, maxLength: 63 } as const;

export const appParams = {
  type: 'object',
  required: ['app'],
  properties: { app: keyString },
} as const;

export const objectParams = {
  type: 'object',
  required: ['app', 'object'],
  properties: { app: keyString, object: keyString },
} as const;

export const recordParams = {
  type: 'object',
  required: ['app', 'object', 'id'],
  properties: { app: keyString, object: keyString, id: { type: 'string', maxLength: 100 } },
} as const;

const localizedText = {
  type: 'object',
  additionalProperties: false,
  properties: { en: { type: 'string', maxLength: 200 }, zh: { type: 'string', maxLength: 200 } },
} as const;

export const createAppBody = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: {
    key: keyString,
    name: localizedText,
    // the document's own validator reports precise paths; here only "an object"
    draft: { type: 'object' },
  },
} as const;

export const draftBody = { type: 'object' } as const;

export const publishBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 2000 } },
} as const;

export const rollbackBody = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: { version: { type: 'integer', minimum: 1 } },
} as const;
