import { DEFAULT_TIMEZONE } from '@tessera/expr';
import { isComputed, liveFields, type AppDocument, type FieldDef, type ObjectDef } from '@tessera/metadata';
import type { Actor } from '@tessera/store';
import { compileRule, type CompiledRule } from '../expressions/compile';

interface FieldDefault {
  field: FieldDef;
  value?: unknown;
  expression?: CompiledRule;
}

/** The fields of an object that have a default, compiled. */
export function compileDefaults(object: ObjectDef, app: AppDocument): FieldDefault[] {
  const out: FieldDefault[] = [];
  for (const field of liveFields(object)) {
    if (isComputed(field)) continue;
    if (field.defaultValue !== undefined && field.defaultValue !== null) out.push({ field, value: field.defaultValue });
    else if (field.defaultExpression !== undefined) out.push({ field, expression: compileRule(field.defaultExpression, object, app) });
  }
  return out;
}

/**
 * Adds the defaults of the fields the input leaves out (absent, not null: an explicit
 * null means "empty on purpose"). Values are in API form, so the normal input validation
 * checks and normalises them.
 */
export function applyDefaults(defaults: readonly FieldDefault[], input: Record<string, unknown>, actor: Actor, timezone = DEFAULT_TIMEZONE): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const d of defaults) {
    if (input[d.field.key] !== undefined) continue;
    const value = d.expression ? d.expression.run(input, { now: new Date(), timezone, ...(actor.userId ? { userId: actor.userId } : {}) }) : d.value;
    if (value === null || value === undefined) continue;
    out ??= { ...input };
    out[d.field.key] = value;
  }
  return out ?? input;
}
