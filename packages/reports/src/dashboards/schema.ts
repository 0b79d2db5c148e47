import { chartSpecSchema } from '../charts/chart-spec';
import { GLOBAL_FILTER_TYPES, GRID_COLUMNS } from './dashboard';

/** JSON Schema (2020-12) of the `dashboards` section; written to match ./dashboard.ts, a test keeps them in step. */
const key = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' } as const;
const localized = {
  type: 'object',
  properties: { en: { type: 'string', maxLength: 200 }, zh: { type: 'string', maxLength: 200 } },
  additionalProperties: false,
  minProperties: 1,
} as const;
const cell = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;

export const dashboardSchema = {
  type: 'object',
  required: ['key', 'name', 'widgets'],
  additionalProperties: false,
  properties: {
    key,
    name: localized,
    description: localized,
    widgets: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['id', 'report', 'chart', 'layout'],
        additionalProperties: false,
        properties: {
          id: key,
          report: key,
          chart: chartSpecSchema,
          title: localized,
          layout: {
            type: 'object',
            required: ['x', 'y', 'w', 'h'],
            additionalProperties: false,
            properties: { x: cell(0, GRID_COLUMNS - 1), y: cell(0, 1000), w: cell(1, GRID_COLUMNS), h: cell(1, 100) },
          },
        },
      },
    },
    filters: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        required: ['key', 'type', 'label', 'appliesTo'],
        additionalProperties: false,
        properties: {
          key,
          type: { enum: [...GLOBAL_FILTER_TYPES] },
          label: localized,
          appliesTo: { type: 'object', minProperties: 1, maxProperties: 50, propertyNames: key, additionalProperties: key },
        },
      },
    },
  },
} as const;

export const dashboardsSectionSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'array',
  maxItems: 200,
  items: dashboardSchema,
} as const;
