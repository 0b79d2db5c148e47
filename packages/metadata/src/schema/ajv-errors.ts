import type { ErrorObject } from 'ajv';
import type { FieldError } from '../errors';

const CODES: Record<string, string> = {
  required: 'required',
  additionalProperties: 'unknown_field',
  type: 'type',
  enum: 'enum',
  const: 'enum',
  pattern: 'pattern',
  format: 'format',
  maxLength: 'max_length',
  minLength: 'min_length',
  minimum: 'min',
  maximum: 'max',
  exclusiveMinimum: 'min',
  exclusiveMaximum: 'max',
  maxItems: 'max_items',
  minItems: 'min_items',
  uniqueItems: 'duplicate',
  multipleOf: 'multiple_of',
};

/** `/objects/0/fields/2` + missing `key` -> `objects/0/fields/2/key`. */
export function ajvErrorPath(e: ErrorObject): string {
  const base = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required' && typeof params.missingProperty === 'string') base.push(params.missingProperty);
  if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') base.push(params.additionalProperty);
  // an error about a property's name (propertyNames) belongs to that property
  if (typeof e.propertyName === 'string') base.push(e.propertyName);
  return base.join('/');
}

export function ajvErrorCode(e: ErrorObject): string {
  return CODES[e.keyword] ?? e.keyword;
}

export function ajvErrorMessage(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `unknown property ${String(params.additionalProperty)}`;
  if (e.keyword === 'required') return `${String(params.missingProperty)} is required`;
  if (typeof e.propertyName === 'string') return `${JSON.stringify(e.propertyName)} is not a valid key`;
  if (e.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    const allowed = params.allowedValues.filter((v) => v !== null).map((v) => JSON.stringify(v));
    return `must be one of ${allowed.slice(0, 20).join(', ')}${allowed.length > 20 ? ', ...' : ''}`;
  }
  return e.message ?? e.keyword;
}

/**
 * ajv's errors as FieldErrors with our codes, each path under `prefix` (e.g. `flows` when
 * a section is validated on its own), so every section of an app document reports shape
 * errors the same way.
 */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    // "must match then" and "property name is invalid" always come with the inner failure, which says more.
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    const path = ajvErrorPath(e);
    const field = prefix === '' ? path : path === '' ? prefix : `${prefix}/${path}`;
    const code = ajvErrorCode(e);
    const dedupe = `${field}\u0000${code}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    out.push({ field, code, message: ajvErrorMessage(e) });
  }
  return out;
}
