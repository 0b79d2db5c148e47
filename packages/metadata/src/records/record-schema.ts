import type { AppDocument, FieldDef, FormulaResultType, ObjectDef } from '../types';
import { isComputed, valueKindOfField } from '../field-kinds';
import { findField, findObject, liveFields } from '../lookup';
import { DECIMAL_INPUT_PATTERN, DEFAULT_MAX_LENGTH, PHONE_PATTERN } from './formats';

export type RecordSchemaMode = 'create' | 'update' | 'read';
type Schema = Record<string, unknown>;

/**
 * JSON Schema of a record as the API speaks it (by field key), for validation and for
 * the generated OpenAPI document. Input modes describe what a client may send (computed
 * fields - formula, rollup, autonumber - and system fields are read-only, so absent);
 * `read` describes what it gets back. A non-required field accepts null, which clears it.
 * `app` lets `read` say whether a min/max rollup yields a number or a date.
 */
export function recordJsonSchema(object: ObjectDef, mode: RecordSchemaMode, app?: AppDocument): object {
  const fields = liveFields(object);
  if (mode === 'read') return readSchema(object, fields, app);
  const writable = fields.filter((f) => !isComputed(f));
  const properties: Record<string, Schema> = {};
  for (const field of writable) properties[field.key] = withTitle(field, inputSchema(field));
  const required = mode === 'create' ? writable.filter((f) => f.required).map((f) => f.key) : [];
  return {
    type: 'object',
    title: objectTitle(object),
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

function objectTitle(object: ObjectDef): string {
  return object.label.en || object.label.zh || object.key;
}

function withTitle(field: FieldDef, schema: Schema): Schema {
  const title = field.label.en || field.label.zh;
  return title ? { title, ...schema } : schema;
}

/** Required fields never take null, and "required" means non-empty for text and lists. */
function inputSchema(field: FieldDef): Schema {
  const base = baseInputSchema(field);
  if (field.required) return requireNonEmpty(field, base);
  return nullable(base);
}

function requireNonEmpty(field: FieldDef, schema: Schema): Schema {
  if (schema.type === 'string' && schema.enum === undefined && schema.format === undefined) return { ...schema, minLength: 1 };
  if (field.type === 'multiselect') return { ...schema, minItems: 1 };
  return schema;
}

function nullable(schema: Schema): Schema {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const out: Schema = { ...schema, type: [...types, 'null'] };
  if (Array.isArray(schema.enum)) out.enum = [...schema.enum, null];
  return out;
}

function baseInputSchema(field: FieldDef): Schema {
  switch (field.type) {
    case 'text':
    case 'longtext':
      return { type: 'string', maxLength: field.maxLength ?? DEFAULT_MAX_LENGTH[field.type] };
    case 'number':
    case 'percent':
      return { type: 'number', ...bounds(field) };
    case 'currency':
      return {
        type: ['string', 'number'],
        description: `decimal string (or number) with at most ${field.scale ?? 2} decimals${field.currency ? `, ${field.currency}` : ''}`,
        pattern: DECIMAL_INPUT_PATTERN,
        maxLength: 40,
        ...bounds(field),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'select':
      return { type: 'string', enum: optionValues(field) };
    case 'multiselect':
      // unique values out of the options: never longer than the option list
      return { type: 'array', items: { type: 'string', enum: optionValues(field) }, uniqueItems: true, maxItems: optionValues(field).length };
    case 'email':
      return { type: 'string', format: 'email', maxLength: 320 };
    case 'phone':
      return { type: 'string', pattern: PHONE_PATTERN, maxLength: 40 };
    case 'url':
      return { type: 'string', format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://', maxLength: 2048 };
    case 'relation':
    case 'user':
      return { type: 'string', format: 'uuid' };
    case 'autonumber':
    case 'formula':
    case 'rollup':
      // never offered as input (see recordJsonSchema); kept total for the type checker
      return { readOnly: true };
  }
}

function bounds(field: FieldDef): Schema {
  return {
    ...(field.min !== undefined ? { minimum: field.min } : {}),
    ...(field.max !== undefined ? { maximum: field.max } : {}),
  };
}

function optionValues(field: FieldDef): string[] {
  return (field.options ?? []).map((o) => o.value);
}

const NULLABLE_UUID = { type: ['string', 'null'], format: 'uuid' };

/**
 * What the API returns. Constraints that tighten over time (maxLength, options, bounds)
 * are left out: values written before stay readable.
 */
function readSchema(object: ObjectDef, fields: FieldDef[], app: AppDocument | undefined): object {
  const properties: Record<string, Schema> = {
    id: { type: 'string', format: 'uuid' },
    version: { type: 'integer', minimum: 1 },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    created_by: NULLABLE_UUID,
    updated_by: NULLABLE_UUID,
    owner_id: NULLABLE_UUID,
  };
  for (const field of fields) properties[field.key] = withTitle(field, nullable(readValueSchema(field, app)));
  return {
    type: 'object',
    title: objectTitle(object),
    properties,
    required: ['id', 'version', 'created_at', 'updated_at', 'created_by', 'updated_by', 'owner_id'],
    additionalProperties: false,
  };
}

function readValueSchema(field: FieldDef, app: AppDocument | undefined): Schema {
  switch (field.type) {
    case 'formula':
      return RESULT_SCHEMA[field.resultType ?? 'text'];
    case 'rollup':
      return rollupSchema(field, app);
    case 'autonumber':
      return { type: 'string', readOnly: true };
    case 'number':
    case 'percent':
      return { type: 'number' };
    case 'currency':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'multiselect':
      return { type: 'array', items: { type: 'string' } };
    case 'relation':
    case 'user':
      return { type: 'string', format: 'uuid' };
    default:
      return { type: 'string' };
  }
}

const RESULT_SCHEMA: Record<FormulaResultType, Schema> = {
  text: { type: 'string', readOnly: true },
  number: { type: 'number', readOnly: true },
  currency: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', readOnly: true },
  percent: { type: 'number', readOnly: true },
  boolean: { type: 'boolean', readOnly: true },
  date: { type: 'string', format: 'date', readOnly: true },
  datetime: { type: 'string', format: 'date-time', readOnly: true },
};

/** A number, except min/max over a date or datetime child field, which yields that kind. */
function rollupSchema(field: FieldDef, app: AppDocument | undefined): Schema {
  const rollup = field.rollup;
  if (rollup?.aggregate !== 'min' && rollup?.aggregate !== 'max') return { type: 'number', readOnly: true };
  const child = app ? findObject(app, rollup.object) : undefined;
  const childField = child && rollup.field ? findField(child, rollup.field) : undefined;
  if (!childField) return { type: ['number', 'string'], readOnly: true };
  const kind = valueKindOfField(childField);
  if (kind === 'date') return { type: 'string', format: 'date', readOnly: true };
  if (kind === 'datetime') return { type: 'string', format: 'date-time', readOnly: true };
  return { type: 'number', readOnly: true };
}
