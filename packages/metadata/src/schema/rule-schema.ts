import { AUTOMATION_ACTION_TYPES, MATCH_METHODS, ROLLUP_AGGREGATES, TRIGGER_EVENTS, type AutomationAction } from '../types';

/**
 * Schemas of the rule-engine parts of a document (rollups, validation and duplicate
 * rules, layouts, automations), merged into appDocumentSchema's $defs. Expressions are
 * any JSON here: the expression checker types them against the app.
 */
const ref = (name: string) => ({ $ref: `#/$defs/${name}` }) as const;

/** Any JSON value; bounded in size by the document's own limits. */
const expression = true;

const expressionMap = {
  type: 'object',
  propertyNames: ref('key'),
  maxProperties: 500,
  additionalProperties: ref('expression'),
} as const;

const rollupDef = {
  type: 'object',
  required: ['object', 'via', 'aggregate'],
  properties: {
    object: ref('key'),
    via: ref('key'),
    aggregate: { enum: [...ROLLUP_AGGREGATES] },
    field: ref('key'),
    filter: ref('expression'),
  },
  additionalProperties: false,
} as const;

const validationRule = {
  type: 'object',
  required: ['key', 'assert', 'message', 'severity'],
  properties: {
    key: ref('key'),
    assert: ref('expression'),
    message: ref('localizedText'),
    severity: { enum: ['error', 'warning'] },
    fields: { type: 'array', maxItems: 100, uniqueItems: true, items: ref('key') },
    on: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['create', 'update'] } },
  },
  additionalProperties: false,
} as const;

const duplicateRule = {
  type: 'object',
  required: ['key', 'match', 'action'],
  properties: {
    key: ref('key'),
    label: ref('localizedText'),
    match: {
      type: 'array',
      minItems: 1,
      maxItems: 10,
      items: {
        type: 'object',
        required: ['field', 'method'],
        properties: { field: ref('key'), method: { enum: [...MATCH_METHODS] } },
        additionalProperties: false,
      },
    },
    action: { enum: ['block', 'warn'] },
  },
  additionalProperties: false,
} as const;

const layoutItem = {
  type: 'object',
  required: ['field'],
  properties: {
    field: ref('key'),
    span: { type: 'integer', minimum: 1, maximum: 4 },
    visibleWhen: ref('expression'),
    requiredWhen: ref('expression'),
    readOnlyWhen: ref('expression'),
  },
  additionalProperties: false,
} as const;

const layoutSection = {
  type: 'object',
  required: ['key', 'items'],
  properties: {
    key: ref('key'),
    label: ref('localizedText'),
    columns: { enum: [1, 2, 3, 4] },
    items: { type: 'array', maxItems: 1000, items: ref('layoutItem') },
  },
  additionalProperties: false,
} as const;

const layoutDef = {
  type: 'object',
  required: ['key', 'object', 'sections'],
  properties: {
    key: ref('key'),
    object: ref('key'),
    label: ref('localizedText'),
    default: { type: 'boolean' },
    sections: { type: 'array', maxItems: 100, items: ref('layoutSection') },
  },
  additionalProperties: false,
} as const;

/** Each action type's own properties, `type` included; checked only for that type so errors stay specific. */
const ACTION_PROPERTIES: Record<AutomationAction['type'], { required: string[]; properties: Record<string, unknown> }> = {
  setFields: { required: ['values'], properties: { values: ref('expressionMap') } },
  createRecord: { required: ['object', 'values'], properties: { object: ref('key'), values: ref('expressionMap') } },
  createTask: { required: ['assignee', 'title'], properties: { assignee: ref('expression'), title: ref('expression'), dueDate: ref('expression') } },
  notify: { required: ['recipients', 'message'], properties: { recipients: ref('expression'), message: ref('expression') } },
  startFlow: { required: ['flow'], properties: { flow: ref('key') } },
};

const automationAction = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: [...AUTOMATION_ACTION_TYPES] } },
  allOf: AUTOMATION_ACTION_TYPES.map((type) => ({
    if: { properties: { type: { const: type } } },
    then: {
      required: ACTION_PROPERTIES[type].required,
      properties: { type: true, ...ACTION_PROPERTIES[type].properties },
      additionalProperties: false,
    },
  })),
} as const;

const automationRule = {
  type: 'object',
  required: ['key', 'object', 'on', 'actions'],
  properties: {
    key: ref('key'),
    label: ref('localizedText'),
    object: ref('key'),
    on: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...TRIGGER_EVENTS] } },
    changedFields: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: ref('key') },
    condition: ref('expression'),
    actions: { type: 'array', minItems: 1, maxItems: 50, items: ref('automationAction') },
    active: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

export const ruleSchemaDefs = {
  expression,
  expressionMap,
  rollupDef,
  validationRule,
  duplicateRule,
  layoutItem,
  layoutSection,
  layoutDef,
  automationAction,
  automationRule,
} as const;
