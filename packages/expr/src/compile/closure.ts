import { ProblemError } from '@tessera/metadata';
import type { CompiledExpression, EvalEnv, ExprContext, ExprIssue, ExprScope } from '../types';
import { checkTyped } from '../check/checker';
import { isNullLiteral, type Typed } from '../check/typed';
import type { FieldSource } from '../check/scope';
import { compareValues, isEmptyValue, toNumber, truthy } from '../values/compare';
import { isCnCreditCode, isCnMobile, isEmail } from '../values/validators';
import { addDaysTo, addMonthsTo, diffDaysOf, startOfValue } from '../dates/math';
import { isDateUnit, isPeriod, isStepCount, lastNextRange, nowText, periodRange, todayText, type DayRange } from '../dates/relative';
import type { StartUnit } from '../syntax/operators';
import { contains, inRange } from '../functions/conditions';
import * as ops from '../functions/ops';

type Rec = Record<string, unknown>;
type Fn = (record: Rec, env: EvalEnv) => unknown;

/**
 * Type-checks an expression once and turns it into a JS closure that gives what
 * evaluateExpression gives, without re-reading the JSON on every record. Compiled
 * closures are cached per expression object (and scope object and context), so an app
 * version's expressions compile once however many records they run on.
 * Throws ProblemError('unprocessable') listing every problem with its path.
 */
export function compileExpression(expr: unknown, scope: ExprScope, context: ExprContext = 'formula'): CompiledExpression {
  const cached = cacheGet(expr, scope, context);
  if (cached) return cached;
  const { typed, errors } = checkTyped(expr, scope, undefined, context);
  if (errors.length > 0) throw uncompilable(errors);
  const paths: string[][] = [];
  const fn = new ClosureCompiler(paths).compile(typed);
  const compiled: CompiledExpression = { type: typed.type, run: fn, paths };
  cachePut(expr, scope, context, compiled);
  return compiled;
}

function uncompilable(issues: ExprIssue[]): ProblemError {
  const first = issues[0]!;
  return new ProblemError(
    'unprocessable',
    `Invalid expression: ${first.message}${first.path ? ` (at ${first.path})` : ''}`,
    issues.map((i) => ({ field: i.path ? `expression/${i.path}` : 'expression', code: i.code, message: i.message })),
  );
}

// ---- cache: expression object -> scope object -> app -> context ---------------------

type ByContext = Partial<Record<ExprContext, CompiledExpression>>;
const cache = new WeakMap<object, WeakMap<object, WeakMap<object, ByContext>>>();
const NO_APP = {};

function cacheGet(expr: unknown, scope: ExprScope, context: ExprContext): CompiledExpression | undefined {
  if (typeof expr !== 'object' || expr === null) return undefined;
  return cache.get(expr)?.get(scope.object)?.get(scope.app ?? NO_APP)?.[context];
}

function cachePut(expr: unknown, scope: ExprScope, context: ExprContext, compiled: CompiledExpression): void {
  if (typeof expr !== 'object' || expr === null) return;
  let byObject = cache.get(expr);
  if (!byObject) cache.set(expr, (byObject = new WeakMap()));
  let byApp = byObject.get(scope.object);
  if (!byApp) byObject.set(scope.object, (byApp = new WeakMap()));
  let byContext = byApp.get(scope.app ?? NO_APP);
  if (!byContext) byApp.set(scope.app ?? NO_APP, (byContext = {}));
  byContext[context] = compiled;
}

// ---- per-env memo: today, now and relative ranges are the same for every record of a run

function perEnv<T>(compute: (env: EvalEnv) => T): (env: EvalEnv) => T {
  const memo = new WeakMap<EvalEnv, { now: Date; tz: string | undefined; value: T }>();
  return (env) => {
    const hit = memo.get(env);
    if (hit && hit.now === env.now && hit.tz === env.timezone) return hit.value;
    const value = compute(env);
    memo.set(env, { now: env.now, tz: env.timezone, value });
    return value;
  };
}

const HOLDS: Record<string, (c: number | null) => boolean> = {
  '<': (c) => c !== null && c < 0,
  '<=': (c) => c !== null && c <= 0,
  '>': (c) => c !== null && c > 0,
  '>=': (c) => c !== null && c >= 0,
};

// ---- reading fields ------------------------------------------------------------------

/** Keys a plain object inherits (a field may be called `constructor`): read only own properties for those. */
function ownReader(key: string): (o: Rec) => unknown {
  if (key in Object.prototype) return (o) => (Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined);
  return (o) => o[key];
}

function asNumber(v: unknown): unknown {
  return typeof v === 'string' ? toNumber(v) : v;
}

class ClosureCompiler {
  constructor(private readonly paths: string[][]) {}

  compile(n: Typed): Fn {
    switch (n.kind) {
      case 'literal': {
        const value = n.value;
        return () => value;
      }
      case 'var':
        return this.reader(n.source, n.type === 'number');
      case 'op':
        return this.op(n);
      default:
        throw new Error(`cannot compile a ${n.kind} node`);
    }
  }

  private reader(source: FieldSource, numeric: boolean): Fn {
    if ('relation' in source) {
      const [relationKey, fieldKey] = source.path;
      if (!this.paths.some((p) => p[0] === relationKey && p[1] === fieldKey)) this.paths.push([relationKey, fieldKey]);
      const related = ownReader('$related');
      const byRelation = ownReader(relationKey);
      const byField = ownReader(fieldKey);
      return (r) => {
        const all = related(r);
        if (all === null || typeof all !== 'object') return null;
        const target = byRelation(all as Rec);
        if (target === null || typeof target !== 'object') return null;
        const v = byField(target as Rec);
        return v === undefined || v === null ? null : numeric ? asNumber(v) : v;
      };
    }
    const read = ownReader('field' in source ? source.field.key : source.system);
    if (numeric) {
      return (r) => {
        const v = read(r);
        return v === undefined || v === null ? null : asNumber(v);
      };
    }
    return (r) => {
      const v = read(r);
      return v === undefined ? null : v;
    };
  }

  private op(n: Extract<Typed, { kind: 'op' }>): Fn {
    const args = n.args;
    const fs = args.map((a) => (a.kind === 'array' ? this.arrayOf(a) : this.compile(a)));
    const [f0, f1, f2] = fs as [Fn, Fn | undefined, Fn | undefined];
    const all = (r: Rec, e: EvalEnv) => fs.map((f) => f(r, e));
    switch (n.op) {
      case '==':
      case '!=': {
        const eq = this.equality(args[0]!, args[1]!, f0, f1!);
        if (n.op === '==') return eq;
        if (isNullLiteral(args[0]!) || isNullLiteral(args[1]!)) return (r, e) => !eq(r, e);
        return (r, e) => {
          const c = compareValues(f0(r, e), f1!(r, e));
          return c !== null && c !== 0;
        };
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const op = n.op;
        const holds = HOLDS[op]!;
        if (fs.length === 2) return (r, e) => holds(compareValues(f0(r, e), f1!(r, e)));
        return (r, e) => {
          const middle = f1!(r, e);
          return holds(compareValues(f0(r, e), middle)) && holds(compareValues(middle, f2!(r, e)));
        };
      }
      case 'between':
        return (r, e) => {
          const x = f0(r, e);
          const a = compareValues(x, f1!(r, e));
          const b = compareValues(x, f2!(r, e));
          return a !== null && b !== null && a >= 0 && b <= 0;
        };
      case 'in': {
        const list = args[1]!;
        if (list.kind === 'array' && list.items.every((i) => i.kind === 'literal')) {
          const values = list.items.map((i) => (i as { value: unknown }).value);
          return (r, e) => contains(values, f0(r, e));
        }
        return (r, e) => contains(f1!(r, e), f0(r, e));
      }
      case 'contains':
        return (r, e) => contains(f0(r, e), f1!(r, e));
      case 'startsWith':
        return (r, e) => {
          const s = f0(r, e);
          const p = f1!(r, e);
          return typeof s === 'string' && typeof p === 'string' && s.startsWith(p);
        };
      case 'isEmpty':
        return (r, e) => isEmptyValue(f0(r, e));
      case 'and':
        return (r, e) => {
          for (const f of fs) if (!truthy(f(r, e))) return false;
          return true;
        };
      case 'or':
        return (r, e) => {
          for (const f of fs) if (truthy(f(r, e))) return true;
          return false;
        };
      case '!':
      case 'not':
        return (r, e) => !truthy(f0(r, e));
      case '!!':
        return (r, e) => truthy(f0(r, e));
      case 'today': {
        const today = perEnv(todayText);
        return (_r, e) => today(e);
      }
      case 'now': {
        const now = perEnv(nowText);
        return (_r, e) => now(e);
      }
      case 'currentUser':
        return (_r, e) => e.userId ?? null;
      case 'inLast':
      case 'inNext':
      case 'inPeriod': {
        const range = perEnv(this.relativeRange(n));
        return (r, e) => inRange(f0(r, e), range(e));
      }
      default:
        return this.valueOp(n, fs, all);
    }
  }

  private valueOp(n: Extract<Typed, { kind: 'op' }>, fs: Fn[], all: (r: Rec, e: EvalEnv) => unknown[]): Fn {
    const [f0, f1, f2] = fs as [Fn, Fn | undefined, Fn | undefined];
    switch (n.op) {
      case '+':
        return fs.length === 2 ? (r, e) => ops.add2(f0(r, e), f1!(r, e)) : (r, e) => ops.sumOf(all(r, e));
      case '*':
        return fs.length === 2 ? (r, e) => ops.mul2(f0(r, e), f1!(r, e)) : (r, e) => ops.productOf(all(r, e));
      case '-':
        return fs.length === 1 ? (r, e) => ops.negate(f0(r, e)) : (r, e) => ops.binary('-', f0(r, e), f1!(r, e));
      case '/':
      case '%': {
        const op = n.op;
        return (r, e) => ops.binary(op, f0(r, e), f1!(r, e));
      }
      case 'round': {
        const digits = n.args[1] ? (n.args[1] as { value: number }).value : 0;
        return (r, e) => ops.roundTo(f0(r, e), digits);
      }
      case 'abs':
        return (r, e) => ops.absOf(f0(r, e));
      case 'min':
      case 'max': {
        const sign = n.op === 'min' ? -1 : 1;
        return (r, e) => ops.extreme(all(r, e), sign);
      }
      case 'coalesce':
        return (r, e) => {
          for (const f of fs) {
            const v = f(r, e);
            if (v !== null && v !== undefined) return v;
          }
          return null;
        };
      case 'if':
        return (r, e) => {
          let i = 0;
          for (; i + 1 < fs.length; i += 2) if (truthy(fs[i]!(r, e))) return fs[i + 1]!(r, e);
          return i < fs.length ? fs[i]!(r, e) : null;
        };
      case 'concat':
      case 'cat':
        return (r, e) => ops.concatOf(all(r, e));
      case 'lower':
        return (r, e) => ops.lowerOf(f0(r, e));
      case 'upper':
        return (r, e) => ops.upperOf(f0(r, e));
      case 'length':
        return (r, e) => ops.lengthOf(f0(r, e));
      case 'substr':
        return f2 ? (r, e) => ops.substrOf(f0(r, e), f1!(r, e), f2(r, e)) : (r, e) => ops.substrOf(f0(r, e), f1!(r, e));
      case 'matches': {
        const pattern = (n.args[1] as { value: string }).value;
        const re = ops.regexOf(pattern)!;
        return (r, e) => {
          const s = f0(r, e);
          return typeof s === 'string' && re.test(s);
        };
      }
      case 'addDays':
        return (r, e) => addDaysTo(f0(r, e), f1!(r, e));
      case 'addMonths':
        return (r, e) => addMonthsTo(f0(r, e), f1!(r, e));
      case 'diffDays':
        return (r, e) => diffDaysOf(f0(r, e), f1!(r, e));
      case 'startOf': {
        const unit = (n.args[1] as { value: StartUnit }).value;
        return (r, e) => startOfValue(f0(r, e), unit, e);
      }
      case 'isEmail':
        return (r, e) => isEmail(f0(r, e));
      case 'isCnMobile':
        return (r, e) => isCnMobile(f0(r, e));
      case 'isCnCreditCode':
        return (r, e) => isCnCreditCode(f0(r, e));
      default:
        throw new Error(`no closure for operator ${n.op}`);
    }
  }

  /** A literal null asks "is it missing?"; any other comparison with a null is false. */
  private equality(a: Typed, b: Typed, fa: Fn, fb: Fn): Fn {
    if (isNullLiteral(a)) return (r, e) => fb(r, e) === null;
    if (isNullLiteral(b)) return (r, e) => fa(r, e) === null;
    return (r, e) => compareValues(fa(r, e), fb(r, e)) === 0;
  }

  private arrayOf(n: Extract<Typed, { kind: 'array' }>): Fn {
    const items = n.items.map((i) => this.compile(i));
    return (r, e) => items.map((f) => f(r, e));
  }

  private relativeRange(n: Extract<Typed, { kind: 'op' }>): (env: EvalEnv) => DayRange {
    const [, second, third] = n.args.map((a) => (a.kind === 'literal' ? a.value : undefined));
    if (n.op === 'inPeriod') {
      if (!isPeriod(second)) throw new Error('unchecked period');
      return (env) => periodRange(second, env);
    }
    if (!isStepCount(second) || !isDateUnit(third)) throw new Error('unchecked range');
    const direction = n.op === 'inLast' ? 'last' : 'next';
    return (env) => lastNextRange(direction, second, third, env);
  }
}
