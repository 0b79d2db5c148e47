import { valueKindOf } from '@tessera/metadata';
import { invalidExpression } from '../problems';
import type { EvalEnv, ExprIssue, ExprScope } from '../types';
import { parse, type Node } from '../syntax/parse';
import { compareValues, isEmptyValue, toNumber, truthy } from '../values/compare';
import { isDateUnit, isPeriod, isStepCount, lastNextRange, nowText, periodRange, todayText, type DayRange } from '../dates/relative';

/**
 * Evaluates an expression against one record (values by field key, as stored). Meant for
 * expressions that passed checkExpression; anything else evaluates leniently (a comparison
 * of mismatched kinds is false) or, if malformed, throws ProblemError.
 *
 * Pass the scope when two number fields may be compared with each other: currency is
 * stored as a decimal string, and only the scope says that such a string is a number.
 */
export function evaluateExpression(expr: unknown, record: Record<string, unknown>, env: EvalEnv, scope?: ExprScope): unknown {
  const issues: ExprIssue[] = [];
  const node = parse(expr, issues);
  if (issues.length > 0) throw invalidExpression(issues);
  return new Evaluator(record, env, scope).evaluate(node);
}

const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

class Evaluator {
  constructor(
    private readonly record: Record<string, unknown>,
    private readonly env: EvalEnv,
    private readonly scope: ExprScope | undefined,
  ) {}

  evaluate(node: Node): unknown {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'array':
        return node.items.map((i) => this.evaluate(i));
      case 'var':
        return this.read(node.key);
      case 'op':
        return this.apply(node);
      case 'invalid':
        throw invalidExpression([{ path: node.path, code: 'invalid_expression', message: 'Malformed expression' }]);
    }
  }

  private read(key: string): unknown {
    const value = Object.prototype.hasOwnProperty.call(this.record, key) ? this.record[key] : undefined;
    if (value === undefined) return null;
    if (!this.scope) return value;
    const field = this.scope.object.fields.find((f) => f.key === key);
    if (field?.deleted) return null;
    if (field && valueKindOf(field.type) === 'number' && typeof value === 'string') return toNumber(value);
    return value;
  }

  private apply(node: Extract<Node, { kind: 'op' }>): unknown {
    const { op, args } = node;
    const at = (i: number): unknown => (args[i] ? this.evaluate(args[i]) : null);
    const all = (): unknown[] => args.map((a) => this.evaluate(a));
    switch (op) {
      case '==':
        return this.equals(args[0], args[1]);
      case '!=': {
        if (isNullLiteral(args[0]) || isNullLiteral(args[1])) return !this.equals(args[0], args[1]);
        const c = compareValues(at(0), at(1));
        return c !== null && c !== 0;
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        return ordered(op, all());
      case 'between': {
        const [x, lo, hi] = all();
        const a = compareValues(x, lo);
        const b = compareValues(x, hi);
        return a !== null && b !== null && a >= 0 && b <= 0;
      }
      case 'in':
        return contains(at(1), at(0));
      case 'contains':
        return contains(at(0), at(1));
      case 'startsWith': {
        const [s, prefix] = all();
        return typeof s === 'string' && typeof prefix === 'string' && s.startsWith(prefix);
      }
      case 'isEmpty':
        return isEmptyValue(at(0));
      case 'and':
        return args.every((a) => truthy(this.evaluate(a)));
      case 'or':
        return args.some((a) => truthy(this.evaluate(a)));
      case '!':
      case 'not':
        return !truthy(at(0));
      case '!!':
        return truthy(at(0));
      case 'today':
        return todayText(this.env);
      case 'now':
        return nowText(this.env);
      case 'currentUser':
        return this.env.userId ?? null;
      case 'inLast':
      case 'inNext':
      case 'inPeriod':
        return inRange(at(0), this.relativeRange(node, all()));
      default:
        throw invalidExpression([{ path: node.path, code: 'unknown_operator', message: `Unknown operator "${op}"` }]);
    }
  }

  /** A literal null asks "is it missing?"; any other comparison with a null is false. */
  private equals(a: Node | undefined, b: Node | undefined): boolean {
    if (isNullLiteral(a)) return b ? this.evaluate(b) === null : true;
    if (isNullLiteral(b)) return a ? this.evaluate(a) === null : true;
    return compareValues(a ? this.evaluate(a) : null, b ? this.evaluate(b) : null) === 0;
  }

  private relativeRange(node: Extract<Node, { kind: 'op' }>, values: unknown[]): DayRange {
    const bad = (message: string) => invalidExpression([{ path: node.path, code: 'invalid_literal', message }]);
    if (node.op === 'inPeriod') {
      if (!isPeriod(values[1])) throw bad(`Unknown period ${JSON.stringify(values[1])}`);
      return periodRange(values[1], this.env);
    }
    if (!isStepCount(values[1])) throw bad(`"${node.op}" needs a whole number of units from 0 to 10000`);
    if (!isDateUnit(values[2])) throw bad(`Unknown unit ${JSON.stringify(values[2])}`);
    return lastNextRange(node.op === 'inLast' ? 'last' : 'next', values[1], values[2], this.env);
  }
}

function isNullLiteral(n: Node | undefined): boolean {
  return n?.kind === 'literal' && n.value === null;
}

function ordered(op: string, values: unknown[]): boolean {
  const holds = (c: number | null): boolean => {
    if (c === null) return false;
    if (op === '<') return c < 0;
    if (op === '<=') return c <= 0;
    if (op === '>') return c > 0;
    return c >= 0;
  };
  for (let i = 0; i + 1 < values.length; i++) {
    if (!holds(compareValues(values[i], values[i + 1]))) return false;
  }
  return true;
}

/** List has an equal element, or text has the substring. */
function contains(haystack: unknown, needle: unknown): boolean {
  if (needle === null || needle === undefined) return false;
  if (Array.isArray(haystack)) return haystack.some((item) => compareValues(item, needle) === 0);
  // json-logic finds nothing in an empty string, not even ""
  if (typeof haystack === 'string' && typeof needle === 'string') return haystack !== '' && haystack.includes(needle);
  return false;
}

/** Dates compare with the day range; datetimes with the instants bounding it. */
function inRange(value: unknown, range: DayRange): boolean {
  if (typeof value !== 'string') return false;
  if (DATE_SHAPE.test(value)) return value >= range.from && value <= range.to;
  return value >= range.fromInstant && value < range.toInstantExclusive;
}
