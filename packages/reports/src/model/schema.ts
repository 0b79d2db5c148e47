import { AGGREGATES, DATE_BUCKETS, MAX_REPORT_ROWS, REPORT_KINDS } from './report';

/** JSON Schema (2020-12) of one ReportDef; written to match ./report.ts, a test keeps them in step. */
const key = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' } as const;
const fieldPath = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}(\\.[a-z][a-z0-9_]{0,62})?$' } as const;
const localized = {
  type: 'object',
  properties: { en: { type: 'string' }, zh: { type: 'string' } },
  additionalProperties: false,
  minProperties: 1,
} as const;
const expression = {} as const;

export const reportSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['key', 'name', 'kind', 'object'],
  additionalProperties: false,
  properties: {
    key,
    name: localized,
    description: localized,
    kind: { enum: [...REPORT_KINDS] },
    object: key,
    filter: expression,
    dimensions: {
      type: 'array',
      maxItems: 4,
      items: {
        type: 'object',
        required: ['field'],
        additionalProperties: false,
        properties: {
          key,
          field: fieldPath,
          bucket: { enum: [...DATE_BUCKETS] },
          bins: {
            type: 'object',
            required: ['size'],
            additionalProperties: false,
            properties: { size: { type: 'number', exclusiveMinimum: 0 }, start: { type: 'number' } },
          },
          label: localized,
        },
      },
    },
    measures: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        required: ['key', 'aggregate'],
        additionalProperties: false,
        properties: { key, aggregate: { enum: [...AGGREGATES] }, field: fieldPath, filter: expression, label: localized },
      },
    },
    columns: { type: 'array', minItems: 1, maxItems: 50, items: fieldPath },
    sort: {
      type: 'array',
      maxItems: 8,
      items: {
        type: 'object',
        required: ['key'],
        additionalProperties: false,
        properties: { key: fieldPath, direction: { enum: ['asc', 'desc'] } },
      },
    },
    limit: { type: 'integer', minimum: 1, maximum: MAX_REPORT_ROWS },
    totals: { type: 'boolean' },
    subtotals: { type: 'boolean' },
    pivot: { type: 'object', additionalProperties: false, properties: { columns: { type: 'integer', minimum: 1, maximum: 3 } } },
    funnel: {
      type: 'object',
      required: ['stageField'],
      additionalProperties: false,
      properties: {
        stageField: key,
        measure: key,
        stages: { type: 'array', minItems: 1, items: { type: 'string' } },
        cumulative: { type: 'boolean' },
      },
    },
    timeseries: {
      type: 'object',
      required: ['dateField', 'bucket'],
      additionalProperties: false,
      properties: { dateField: key, bucket: { enum: [...DATE_BUCKETS] }, compare: { enum: ['previous', 'yoy'] } },
    },
    kpi: {
      type: 'object',
      required: ['measure'],
      additionalProperties: false,
      properties: { measure: key, target: { type: 'number' } },
    },
    forecast: {
      type: 'object',
      required: ['amountField', 'stageField', 'closeDateField', 'bucket'],
      additionalProperties: false,
      properties: {
        amountField: key,
        stageField: key,
        probabilities: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } },
        probabilityField: key,
        closeDateField: key,
        bucket: { enum: ['month', 'quarter'] },
      },
    },
  },
} as const;
