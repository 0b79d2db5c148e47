import { FIELD_TYPES, FORMULA_RESULT_TYPES, ID_PATTERN, KEY_PATTERN } from '../types';
import { ruleSchemaDefs } from './rule-schema';

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

/** `type: X` requires `props`; ajv's strictRequired wants them named in the same schema. */
function requiredFor(type: string, props: string[]) {
  return {
    if: { properties: { type: { const: type } } },
    then: { required: props, properties: Object.fromEntries(props.map((p) => [p, true])) },
  } as const;
}

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
    encrypted: { type: 'boolean' },
    deleted: { type: 'boolean' },
    options: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/selectOption' } },
    maxLength: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    min: { type: 'number' },
    max: { type: 'number' },
    scale: { type: 'integer', minimum: 0, maximum: 10 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    target: { $ref: '#/$defs/key' },
    pattern: { type: 'string', minLength: 1, maxLength: 200 },
    formula: { $ref: '#/$defs/expression' },
    resultType: { enum: [...FORMULA_RESULT_TYPES] },
    rollup: { $ref: '#/$defs/rollupDef' },
    defaultValue: true,
    defaultExpression: { $ref: '#/$defs/expression' },
  },
  additionalProperties: false,
  // A computed field without its definition could never be computed.
  allOf: [requiredFor('formula', ['formula', 'resultType']), requiredFor('rollup', ['rollup'])],
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
    validations: { type: 'array', maxItems: 500, items: { $ref: '#/$defs/validationRule' } },
    duplicateRules: { type: 'array', maxItems: 50, items: { $ref: '#/$defs/duplicateRule' } },
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
    layouts: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/layoutDef' } },
    views: reservedSection,
    rules: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/automationRule' } },
    flows: reservedSection,
    reports: reservedSection,
    dashboards: reservedSection,
    roles: reservedSection,
  },
  additionalProperties: false,
  $defs: { localizedText, longLocalizedText, key, id, selectOption, fieldDef, objectDef, ...ruleSchemaDefs },
} as const;
