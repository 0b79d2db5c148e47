import * as exprLib from '@tessera/expr';
import type { EvalEnv, ExprScope, ExprType } from '@tessera/expr';
import type { AppDocument, ObjectDef } from '@tessera/metadata';

/** An expression ready to run many times: compiled once per published app version. */
export interface CompiledRule {
  run(record: Record<string, unknown>, env: EvalEnv): unknown;
  /** relation paths read, e.g. [['company', 'industry']]; the caller pre-loads them */
  paths: string[][];
}

type NativeCompile = (
  expr: unknown,
  scope: ExprScope & { app?: AppDocument },
  context?: 'filter' | 'formula',
) => { type: ExprType; run(record: Record<string, unknown>, env: EvalEnv): unknown; paths: string[][] };

// The expression package's closure compiler, when the installed version has it; the
// tree-walking evaluator otherwise, which reads relation paths from flattened keys.
const nativeCompile = (exprLib as unknown as { compileExpression?: NativeCompile }).compileExpression;

/**
 * Compiles one expression of `object`. A broken expression (possible only in a version
 * published before the checks existed) does not break the whole app: it fails, with its
 * problem, when a write actually needs it.
 */
export function compileRule(expr: unknown, object: ObjectDef, app: AppDocument, context: 'filter' | 'formula' = 'formula'): CompiledRule {
  if (nativeCompile) {
    try {
      const compiled = nativeCompile(expr, { object, app }, context);
      return { run: (record, env) => compiled.run(record, env), paths: compiled.paths };
    } catch (e) {
      return { run: () => { throw e; }, paths: [] };
    }
  }
  const scope: ExprScope = { object };
  return { run: (record, env) => exprLib.evaluateExpression(expr, record, env, scope), paths: relationPaths(expr) };
}

/** `{"var": "company.industry"}` -> ['company', 'industry'], everywhere in the expression. */
export function relationPaths(expr: unknown): string[][] {
  const out: string[][] = [];
  for (const key of varKeys(expr)) {
    const parts = key.split('.');
    if (parts.length > 1) out.push(parts);
  }
  return out;
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
