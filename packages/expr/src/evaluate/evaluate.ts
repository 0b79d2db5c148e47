import { invalidExpression } from '../problems';
import { resolveKey } from '../check/scope';
import { addDaysTo, addMonthsTo, diffDaysOf, startOfValue } from '../dates/math';
import { isCnCreditCode, isCnMobile, isEmail } from '../values/validators';
import type { StartUnit } from '../syntax/operators';
import * as ops from '../functions/ops';
import { contains, inRange, ordered } from '../functions/conditions';
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
 * A relation path `company.industry` reads `record.$related.company.industry`.
 */
export function evaluateExpression(expr: unknown, record: Record<string, unknown>, env: EvalEnv, scope?: ExprScope): unknown {
  const issues: ExprIssue[] = [];
  const node = parse(expr, issues);
  if (issues.length > 0) throw invalidExpression(issues);
  return new Evaluator(record, env, scope).evaluate(node);
}

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
    const dot = key.indexOf('.');
    const value = dot < 0 ? own(this.record, key) : own(own(own(this.record, '$related'), key.slice(0, dot)), key.slice(dot + 1));
    if (value === undefined || value === null) return null;
    if (!this.scope) return value;
    if (dot < 0 && this.scope.object.fields.some((f) => f.key === key && f.deleted)) return null;
    const resolved = resolveKey(this.scope, key);
    if ('type' in resolved && resolved.type === 'number' && typeof value === 'string') return toNumber(value);
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
        return this.applyValueOp(node, at, all);
    }
  }

  private applyValueOp(node: Extract<Node, { kind: 'op' }>, at: (i: number) => unknown, all: () => unknown[]): unknown {
    const { op, args } = node;
    switch (op) {
      case '+':
        return ops.sumOf(all());
      case '*':
        return ops.productOf(all());
      case '-':
        return args.length === 1 ? ops.negate(at(0)) : ops.binary('-', at(0), at(1));
      case '/':
      case '%':
        return ops.binary(op, at(0), at(1));
      case 'round':
        return ops.roundTo(at(0), args.length > 1 ? Number(at(1)) : 0);
      case 'abs':
        return ops.absOf(at(0));
      case 'min':
      case 'max':
        return ops.extreme(all(), op === 'min' ? -1 : 1);
      case 'coalesce':
        for (const a of args) {
          const v = this.evaluate(a);
          if (v !== null && v !== undefined) return v;
        }
        return null;
      case 'if': {
        let i = 0;
        for (; i + 1 < args.length; i += 2) if (truthy(this.evaluate(args[i]!))) return this.evaluate(args[i + 1]!);
        return i < args.length ? this.evaluate(args[i]!) : null;
      }
      case 'concat':
      case 'cat':
        return ops.concatOf(all());
      case 'lower':
        return ops.lowerOf(at(0));
      case 'upper':
        return ops.upperOf(at(0));
      case 'length':
        return ops.lengthOf(at(0));
      case 'substr':
        return args.length > 2 ? ops.substrOf(at(0), at(1), at(2)) : ops.substrOf(at(0), at(1));
      case 'matches':
        return ops.matchesOf(at(0), at(1));
      case 'addDays':
        return addDaysTo(at(0), at(1));
      case 'addMonths':
        return addMonthsTo(at(0), at(1));
      case 'diffDays':
        return diffDaysOf(at(0), at(1));
      case 'startOf':
        return startOfValue(at(0), at(1) as StartUnit, this.env);
      case 'isEmail':
        return isEmail(at(0));
      case 'isCnMobile':
        return isCnMobile(at(0));
      case 'isCnCreditCode':
        return isCnCreditCode(at(0));
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

function own(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object' || !Object.prototype.hasOwnProperty.call(o, key)) return undefined;
  return (o as Record<string, unknown>)[key];
}

function isNullLiteral(n: Node | undefined): boolean {
  return n?.kind === 'literal' && n.value === null;
}
