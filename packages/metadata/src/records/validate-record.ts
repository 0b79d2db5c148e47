import type { ErrorObject, ValidateFunction } from 'ajv';
import { ProblemError, type FieldError } from '../errors';
import { isComputed } from '../field-kinds';
import { liveFields } from '../lookup';
import { sharedAjv } from '../schema/ajv';
import { ajvErrorCode, ajvErrorMessage } from '../schema/ajv-errors';
import { SYSTEM_FIELDS, type FieldDef, type ObjectDef } from '../types';
import { DEFAULT_CURRENCY_SCALE, MAX_CURRENCY_DIGITS } from './formats';
import { recordJsonSchema } from './record-schema';

type InputMode = 'create' | 'update';

/** Compiled per ObjectDef identity: published documents are immutable and cached by version. */
const compiled = new WeakMap<ObjectDef, Partial<Record<InputMode, ValidateFunction>>>();

function validatorFor(object: ObjectDef, mode: InputMode): ValidateFunction {
  let perMode = compiled.get(object);
  if (!perMode) compiled.set(object, (perMode = {}));
  let validate = perMode[mode];
  if (!validate) {
    const ajv = sharedAjv();
    const schema = recordJsonSchema(object, mode);
    validate = ajv.compile(schema);
    // ajv keeps every compiled schema in its own cache; drop it so old app versions can be collected.
    ajv.removeSchema(schema);
    perMode[mode] = validate;
  }
  return validate;
}

/**
 * Checks a record payload (by field key) and returns the values to store, normalised and
 * keyed by field id. `create` enforces required fields; `update` (PATCH) checks only what
 * is sent. null clears a non-required field. Throws ProblemError('unprocessable') naming
 * every bad field by key.
 */
export function validateRecordInput(object: ObjectDef, input: unknown, mode: InputMode): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ProblemError('unprocessable', 'Invalid record', [{ field: '', code: 'type', message: 'a record must be a JSON object keyed by field key' }]);
  }
  const body = input as Record<string, unknown>;
  const validate = validatorFor(object, mode);
  const errors = validate(body) ? [] : recordErrors(object, body, validate.errors ?? []);
  const byKey = new Map(liveFields(object).map((f) => [f.key, f]));
  const values: Record<string, unknown> = {};
  const failed = new Set(errors.map((e) => e.field));
  for (const [key, raw] of Object.entries(body)) {
    const field = byKey.get(key);
    if (!field || failed.has(key)) continue;
    if (hasNul(raw)) {
      // PostgreSQL's text and jsonb cannot hold U+0000: refused here, named, rather than failing the write
      errors.push({ field: key, code: 'invalid_character', message: 'text may not contain the NUL character (U+0000)' });
      continue;
    }
    const result = normalise(field, raw);
    if ('error' in result) errors.push({ field: key, ...result.error });
    else values[storageId(field)] = result.value;
  }
  if (errors.length > 0) throw new ProblemError('unprocessable', 'Invalid record', errors);
  return values;
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  return Array.isArray(value) && value.some((v) => typeof v === 'string' && v.includes('\u0000'));
}

/** Synthetic one-field objects by field definition, so repeated checks reuse one compiled schema. */
const probes = new Map<string, ObjectDef>();
const MAX_PROBES = 256;

/**
 * The problems a single value would have as input for `field` (as in a PATCH that sets
 * only it); [] when it would be accepted. Works on drafts (fields without ids), e.g. to
 * check a field's defaultValue before publishing.
 */
export function fieldValueErrors(field: FieldDef, value: unknown): FieldError[] {
  const probe: FieldDef = { ...field, id: 'f_probe', deleted: false, defaultValue: undefined, defaultExpression: undefined };
  const cacheKey = JSON.stringify(probe);
  let object = probes.get(cacheKey);
  if (!object) {
    if (probes.size >= MAX_PROBES) probes.clear();
    object = { key: 'probe', label: { en: 'probe' }, fields: [probe] };
    probes.set(cacheKey, object);
  }
  try {
    validateRecordInput(object, { [field.key]: value }, 'update');
    return [];
  } catch (e) {
    if (e instanceof ProblemError) return e.errors;
    throw e;
  }
}

function storageId(field: FieldDef): string {
  // Only published objects carry ids; validating against a draft is a programming error.
  if (!field.id) throw new Error(`field ${field.key} has no id: validate records against a published document`);
  return field.id;
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

/** One error per key, with the code a client can act on. */
function recordErrors(object: ObjectDef, body: Record<string, unknown>, raw: ErrorObject[]): FieldError[] {
  const readOnly = new Set([...SYSTEM, ...liveFields(object).filter(isComputed).map((f) => f.key)]);
  const required = new Set(liveFields(object).filter((f) => f.required).map((f) => f.key));
  const fieldTypes = new Map<string, string>(liveFields(object).map((f) => [f.key, f.type]));
  const out = new Map<string, FieldError>();
  for (const e of raw) {
    const key = topLevelKey(e);
    if (out.has(key)) continue;
    out.set(key, describe(e, key, body, readOnly, required, fieldTypes));
  }
  return [...out.values()];
}

function topLevelKey(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.instancePath === '') {
    if (e.keyword === 'required') return String(params.missingProperty);
    if (e.keyword === 'additionalProperties') return String(params.additionalProperty);
    return '';
  }
  const first = e.instancePath.split('/')[1] ?? '';
  return first.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describe(
  e: ErrorObject,
  key: string,
  body: Record<string, unknown>,
  readOnly: Set<string>,
  required: Set<string>,
  fieldTypes: Map<string, string>,
): FieldError {
  if (e.keyword === 'additionalProperties') {
    return readOnly.has(key)
      ? { field: key, code: 'read_only', message: `${key} is ${SYSTEM.has(key) ? 'set by the system' : 'computed'} and cannot be written` }
      : { field: key, code: 'unknown_field', message: `${key} is not a field of this object` };
  }
  if (e.keyword === 'required' || (required.has(key) && (body[key] === null || body[key] === '' || isEmptyList(body[key])))) {
    return { field: key, code: 'required', message: `${key} is required` };
  }
  const hint = e.keyword === 'pattern' || e.keyword === 'format' ? FORMAT_HINTS[fieldTypes.get(key) ?? ''] : undefined;
  return { field: key, code: e.keyword === 'pattern' ? 'format' : ajvErrorCode(e), message: `${key}: ${hint ?? ajvErrorMessage(e)}` };
}

/** Schema patterns are unreadable to people; say what is expected instead. */
const FORMAT_HINTS: Record<string, string> = {
  currency: 'must be a decimal amount such as 1234.50',
  phone: 'must be a phone number such as 13812345678, 010-12345678 or +1 415 555 0100',
  url: 'must be an http(s) URL',
  email: 'must be an email address',
  date: 'must be a date as YYYY-MM-DD',
  datetime: 'must be an ISO 8601 date-time with a time zone, e.g. 2024-05-01T08:30:00Z',
  relation: 'must be a record id (uuid)',
  user: 'must be a user id (uuid)',
};

function isEmptyList(v: unknown): boolean {
  return Array.isArray(v) && v.length === 0;
}

type Normalised = { value: unknown } | { error: { code: string; message: string } };

/** Runs after the schema passed: the checks a schema cannot express, and the stored form. */
function normalise(field: FieldDef, raw: unknown): Normalised {
  if (raw === null) return { value: null };
  switch (field.type) {
    case 'currency':
      return currency(field, raw as string | number);
    case 'datetime':
      return datetime(field, raw as string);
    case 'relation':
    case 'user':
      return { value: (raw as string).toLowerCase() };
    default:
      return { value: raw };
  }
}

function fail(code: string, message: string): Normalised {
  return { error: { code, message } };
}

/** Money never passes through a float: the decimal text is padded to the field's scale. */
function currency(field: FieldDef, raw: string | number): Normalised {
  const scale = field.scale ?? DEFAULT_CURRENCY_SCALE;
  const text = typeof raw === 'number' ? String(raw) : raw;
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!m) return fail('range', `${field.key}: ${text} is too large or too small for money`);
  const integer = (m[2] ?? '0').replace(/^0+(?=\d)/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > scale) return fail('scale', `${field.key}: at most ${scale} decimal place(s)`);
  if (integer.length > MAX_CURRENCY_DIGITS) return fail('range', `${field.key}: at most ${MAX_CURRENCY_DIGITS} digits before the decimal point`);
  const digits = scale > 0 ? `${integer}.${fraction.padEnd(scale, '0')}` : integer;
  const isZero = /^[0.]+$/.test(digits);
  const value = (m[1] && !isZero ? '-' : '') + digits;
  const amount = Number(value);
  if (field.min !== undefined && amount < field.min) return fail('min', `${field.key}: must be >= ${field.min}`);
  if (field.max !== undefined && amount > field.max) return fail('max', `${field.key}: must be <= ${field.max}`);
  return { value };
}

/** Stored exactly as Date.prototype.toISOString gives, so stored values sort as text. */
function datetime(field: FieldDef, raw: string): Normalised {
  const time = Date.parse(raw);
  if (Number.isNaN(time)) return fail('format', `${field.key}: not a valid date-time`);
  const iso = new Date(time).toISOString();
  if (!/^\d{4}-/.test(iso) || iso.startsWith('0000')) return fail('range', `${field.key}: year must be between 0001 and 9999`);
  return { value: iso };
}
