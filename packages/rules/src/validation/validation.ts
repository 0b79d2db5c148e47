import { ProblemError, type AppDocument, type Locale, type ObjectDef, type ValidationRule } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import type { WriteWarning } from '@tessera/store';
import { compileRule, truthy, type CompiledRule } from '../expressions/compile';
import { localized, message } from '../messages';

export interface CompiledValidation {
  rule: ValidationRule;
  assert: CompiledRule;
}

export function compileValidations(object: ObjectDef, app: AppDocument): CompiledValidation[] {
  return (object.validations ?? []).map((rule) => ({ rule, assert: compileRule(rule.assert, object, app) }));
}

/**
 * Checks every rule that applies to this action. Errors are all reported together, each
 * field error carrying the rule key as its code; warnings are returned for the response.
 */
export function checkValidations(
  validations: readonly CompiledValidation[],
  action: 'create' | 'update',
  view: Record<string, unknown>,
  env: EvalEnv,
  locale: Locale,
): WriteWarning[] {
  const warnings: WriteWarning[] = [];
  const failed: Array<{ rule: ValidationRule; text: string }> = [];
  for (const { rule, assert } of validations) {
    if (rule.on && !rule.on.includes(action)) continue;
    if (truthy(assert.run(view, env))) continue;
    const text = localized(rule.message, locale, rule.key);
    if (rule.severity === 'warning') warnings.push({ rule: rule.key, code: 'validation', message: text, fields: rule.fields ?? [] });
    else failed.push({ rule, text });
  }
  if (failed.length > 0) {
    const errors = failed.flatMap(({ rule, text }) =>
      (rule.fields?.length ? rule.fields : ['']).map((field) => ({ field, code: rule.key, message: text })),
    );
    throw new ProblemError('unprocessable', failed.length === 1 ? failed[0]!.text : message('invalidRecord', locale), errors, {
      rules: failed.map((f) => f.rule.key),
    });
  }
  return warnings;
}
