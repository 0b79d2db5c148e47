import type { ExprIssue } from '../types';
import { OPERATORS } from './operators';

export type Literal = string | number | boolean | null;

export type Node =
  | { kind: 'literal'; value: Literal; path: string }
  | { kind: 'array'; items: Node[]; path: string }
  | { kind: 'var'; key: string; path: string }
  | { kind: 'op'; op: string; args: Node[]; path: string }
  | { kind: 'invalid'; path: string };

/** Deep enough for any hand-written or designer-built condition, shallow enough never to exhaust the stack. */
const MAX_DEPTH = 64;

export function joinPath(path: string, ...segments: (string | number)[]): string {
  return [path, ...segments.map(String)].filter((s) => s !== '').join('/');
}

/**
 * Turns JSON into a syntax tree, reporting shape errors (not types) into `issues`.
 * Operator names are looked up in a Map, so `constructor` or `__proto__` are just unknown.
 */
export function parse(expr: unknown, issues: ExprIssue[], path = '', depth = 0): Node {
  const fail = (code: string, message: string): Node => {
    issues.push({ path, code, message });
    return { kind: 'invalid', path };
  };
  if (depth > MAX_DEPTH) return fail('too_deep', `Expressions nest at most ${MAX_DEPTH} levels`);
  if (expr === null || typeof expr === 'string' || typeof expr === 'boolean') return { kind: 'literal', value: expr, path };
  if (typeof expr === 'number') {
    return Number.isFinite(expr) ? { kind: 'literal', value: expr, path } : fail('invalid_literal', 'Numbers must be finite');
  }
  if (Array.isArray(expr)) {
    return { kind: 'array', items: expr.map((item, i) => parse(item, issues, joinPath(path, i), depth + 1)), path };
  }
  if (typeof expr !== 'object' || expr === undefined) {
    return fail('invalid_expression', `A ${typeof expr} is not an expression`);
  }
  const keys = Object.keys(expr);
  if (keys.length !== 1) {
    return fail('invalid_expression', `An operation is an object with exactly one operator key, got ${keys.length} keys`);
  }
  const op = keys[0]!;
  const raw = (expr as Record<string, unknown>)[op];
  if (op === 'var') return parseVar(raw, path, fail);
  if (!OPERATORS.has(op)) return fail('unknown_operator', `Unknown operator "${op}"`);
  // json-logic lets a single argument stand without its array: {"!": x}
  const rawArgs = Array.isArray(raw) ? raw : raw === null && OPERATORS.get(op)!.max === 0 ? [] : [raw];
  const args = rawArgs.map((arg, i) => parse(arg, issues, joinPath(path, op, i), depth + 1));
  return { kind: 'op', op, args, path };
}

function parseVar(raw: unknown, path: string, fail: (code: string, message: string) => Node): Node {
  const args = Array.isArray(raw) ? raw : [raw];
  if (args.length !== 1) {
    return fail('unsupported', '"var" takes exactly one field key (defaults are not supported)');
  }
  const key = args[0];
  if (typeof key !== 'string' || key === '') return fail('invalid_expression', '"var" needs a field key');
  return { kind: 'var', key, path };
}
