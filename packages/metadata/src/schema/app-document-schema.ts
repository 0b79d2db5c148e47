import { FIELD_TYPES, ID_PATTERN, KEY_PATTERN } from '../types';

/**
 * JSON Schema (draft 2020-12) of an AppDocument, written to match ./types.ts; a test
 * checks that a fully populated typed document validates and that the field-type enum
 * equals FIELD_TYPES. Structure only: cross-references (relation targets, duplicate
 * keys, titleField...) are checked by validateAppDocument.
 *
 * Objects and fields reject unknown properties so a mistyped setting (`requried`) is
 * an error instead of silently ignored. Limits keep one document within what a designer
 * and the runtime can sensibly handle.
 */
const localizedText = {
  type: 'object',
  properties: {
    en: { type: 'string', maxLength: 500 },
    zh: { type: 'string', maxLength: 500 },
  },
  additionalProperties: false,
} as const;

const longLocalizedText = {
  type: 'object',
  properties: {
    en: { type: 'string', maxLength: 5000 },
    zh: { type: 'string', maxLength: 5000 },
  },
  additionalProperties: false,
} as const;

const key = { type: 'string', pattern: KEY_PATTERN.source } as const;
const id = { type: 'string', pattern: ID_PATTERN.source } as const;

const selectOption = {
  type: 'object',
  required: ['value', 'label'],
  properties: {
    value: { type: 'string', minLength: 1, maxLength: 200 },
    label: { $ref: '#/$defs/localizedText' },
    color: { type: 'string', maxLength: 50 },
  },
  additionalProperties: false,
} as const;

const fieldDef = {
  type: 'object',
  required: ['key', 'type', 'label'],
  properties: {
    id: { $ref: '#/$defs/id' },
    key: { $ref: '#/$defs/key' },
    type: { enum: [...FIELD_TYPES] },
    label: { $ref: '#/$defs/localizedText' },
    description: { $ref: '#/$defs/longLocalizedText' },
    required: { type: 'boolean' },
    unique: { type: 'boolean' },
    indexed: { type: 'boolean' },
    searchable: { type: 'boolean' },
    deleted: { type: 'boolean' },
    options: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/selectOption' } },
    maxLength: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    min: { type: 'number' },
    max: { type: 'number' },
    scale: { type: 'integer', minimum: 0, maximum: 10 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    target: { $ref: '#/$defs/key' },
    pattern: { type: 'string', minLength: 1, maxLength: 200 },
  },
  additionalProperties: false,
} as const;

const objectDef = {
  type: 'object',
  required: ['key', 'label', 'fields'],
  properties: {
    id: { $ref: '#/$defs/id' },
    key: { $ref: '#/$defs/key' },
    label: { $ref: '#/$defs/localizedText' },
    pluralLabel: { $ref: '#/$defs/localizedText' },
    description: { $ref: '#/$defs/longLocalizedText' },
    titleField: { $ref: '#/$defs/key' },
    fields: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/fieldDef' } },
    deleted: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

/** Sections later capabilities fill; their own validators own their item shapes. */
const reservedSection = { type: 'array' } as const;

export const appDocumentSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Tessera app document',
  type: 'object',
  required: ['objects'],
  properties: {
    objects: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/objectDef' } },
    layouts: reservedSection,
    views: reservedSection,
    rules: reservedSection,
    flows: reservedSection,
    reports: reservedSection,
    dashboards: reservedSection,
    roles: reservedSection,
  },
  additionalProperties: false,
  $defs: { localizedText, longLocalizedText, key, id, selectOption, fieldDef, objectDef },
} as const;
