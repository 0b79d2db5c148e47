import { compileExpression, type EvalEnv } from '@tessera/expr';
import type { AppDocument, ObjectDef } from '@tessera/metadata';

/** An expression ready to run many times: compiled once per published app version. */
export interface CompiledRule {
  run(record: Record<string, unknown>, env: EvalEnv): unknown;
  /** relation paths read, e.g. [['company', 'industry']]; the caller pre-loads them */
  paths: string[][];
}

/**
 * Compiles one expression of `object` into a JS closure (every rule runs in JS, so the
 * 'formula' context: JS-only operators and relation paths allowed). A broken expression
 * (possible only in a version published before the checks existed) does not break the
 * whole app: it fails, with its problem, when a write actually needs it.
 */
export function compileRule(expr: unknown, object: ObjectDef, app: AppDocument): CompiledRule {
  try {
    return compileExpression(expr, { object, app }, 'formula');
  } catch (e) {
    return { run: () => { throw e; }, paths: [] };
  }
}

/** Every key an expression reads with `var`, as written. */
export function varKeys(expr: unknown, out: string[] = []): string[] {
  if (Array.isArray(expr)) {
    for (const item of expr) varKeys(item, out);
  } else if (expr !== null && typeof expr === 'object') {
    for (const [op, args] of Object.entries(expr)) {
      if (op === 'var') {
        const key = Array.isArray(args) ? args[0] : args;
        if (typeof key === 'string') out.push(key);
      } else {
        varKeys(args, out);
      }
    }
  }
  return out;
}

/** json-logic truthiness, as the evaluator uses it for conditions. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}
