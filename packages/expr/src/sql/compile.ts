import type { EvalEnv, ExprScope, ExprType, SqlFragment } from '../types';
import { checkTyped } from '../check/checker';
import { isNullLiteral, type Typed } from '../check/typed';
import { invalidExpression } from '../problems';
import { isCanonicalDatetime } from '../dates/calendar';
import { isDateUnit, isPeriod, isStepCount, lastNextRange, nowText, periodRange, todayText, type DayRange } from '../dates/relative';
import { fieldSqlExpression, systemFieldSqlExpression } from './fields';
import { join, param, q, raw, toSqlFragment, type Frag } from './fragment';

/**
 * Compiles a filter into a boolean SQL predicate over `records` that is never NULL, so
 * NOT behaves as the JS evaluator's `!`. Comparisons get the form
 * `(x = $1 AND x IS NOT NULL)` rather than COALESCE(x = $1, false): both are false for a
 * missing x, but only the first lets the planner use the field's expression index.
 * Type-checks first and throws ProblemError('bad_request') naming the offending path.
 */
export function compileFilterToSql(expr: unknown, scope: ExprScope, env: EvalEnv): SqlFragment {
  const { typed, errors } = checkTyped(expr, scope, 'boolean');
  if (errors.length > 0) throw invalidExpression(errors, 'filter');
  return toSqlFragment(new Compiler(env).predicate(typed));
}

const COMPARISON: Record<string, string> = { '==': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/** Text-like parameters take the "C" collation, like the field expressions they meet. */
function textParam(value: string | null): Frag {
  return q`(${param(value)}::text COLLATE "C")`;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Literals, today, now and conditions are never NULL; fields and the current user may be. */
function mayBeNull(n: Typed): boolean {
  if (n.kind === 'literal') return n.value === null;
  if (n.kind === 'op') return n.op === 'currentUser';
  return true;
}

class Compiler {
  constructor(private readonly env: EvalEnv) {}

  /** A value, possibly NULL. */
  value(n: Typed): Frag {
    switch (n.kind) {
      case 'literal':
        if (n.value === null) return raw('NULL');
        if (typeof n.value === 'number') return q`(${param(String(n.value))}::numeric)`;
        if (typeof n.value === 'boolean') return q`(${param(String(n.value))}::boolean)`;
        return textParam(n.value);
      case 'var':
        return raw('field' in n.source ? fieldSqlExpression(n.source.field) : systemFieldSqlExpression(n.source.system));
      case 'op':
        if (n.op === 'today') return textParam(todayText(this.env));
        if (n.op === 'now') return textParam(nowText(this.env));
        if (n.op === 'currentUser') return textParam(this.env.userId ?? null);
        return this.predicate(n);
      default:
        throw new Error(`cannot compile a ${n.kind} node as a value`);
    }
  }

  /** A condition that is true or false, never NULL. */
  predicate(n: Typed): Frag {
    if (n.kind !== 'op') return this.truthy(n);
    const args = n.args;
    const a = args[0]!;
    const b = args[1]!;
    switch (n.op) {
      case '==':
      case '!=':
        if (isNullLiteral(a) || isNullLiteral(b)) {
          const test = this.isNull(isNullLiteral(a) ? b : a);
          return n.op === '==' ? test : q`(NOT ${test})`;
        }
        return this.compare(COMPARISON[n.op]!, a, b);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const pairs = args.slice(1).map((next, i) => q`${this.value(args[i]!)} ${raw(COMPARISON[n.op]!)} ${this.value(next)}`);
        return this.guarded(join(pairs, ' AND '), args);
      }
      case 'between':
        return this.guarded(q`${this.value(a)} >= ${this.value(b)} AND ${this.value(a)} <= ${this.value(args[2]!)}`, args);
      case 'in':
        return b.kind === 'array' ? this.oneOf(a, b.items) : this.contains(b, a);
      case 'contains':
        return this.contains(a, b);
      case 'startsWith':
        if (b.kind === 'literal' && typeof b.value === 'string') {
          return this.guarded(q`${this.value(a)} LIKE ${param(likeEscape(b.value) + '%')}`, [a]);
        }
        return this.guarded(q`starts_with(${this.value(a)}, ${this.value(b)})`, [a, b]);
      case 'isEmpty':
        return this.isEmpty(a);
      case 'and':
      case 'or':
        return q`(${join(args.map((x) => this.predicate(x)), n.op === 'and' ? ' AND ' : ' OR ')})`;
      case '!':
      case 'not':
        return q`(NOT ${this.predicate(a)})`;
      case '!!':
        return this.truthy(a);
      case 'inLast':
      case 'inNext':
      case 'inPeriod':
        return this.inRange(a, this.relativeRange(n));
      default:
        throw new Error(`operator ${n.op} is not a condition`);
    }
  }

  /**
   * `cond` is NULL only when one of `operands` is; ANDing their IS NOT NULL turns that
   * NULL into false (NULL AND false is false) while leaving the comparison sargable.
   */
  private guarded(cond: Frag, operands: Typed[]): Frag {
    const guards = operands.filter((o) => mayBeNull(o)).map((o) => q`${this.value(o)} IS NOT NULL`);
    return q`(${join([cond, ...guards], ' AND ')})`;
  }

  private compare(op: string, a: Typed, b: Typed): Frag {
    return this.guarded(q`${this.value(a)} ${raw(op)} ${this.value(b)}`, [a, b]);
  }

  private oneOf(needle: Typed, items: Typed[]): Frag {
    if (items.length === 0) return raw('false');
    return this.guarded(q`${this.value(needle)} IN (${join(items.map((i) => this.value(i)), ', ')})`, [needle]);
  }

  /** List has the element (jsonb containment), or text has the substring. */
  private contains(haystack: Typed, needle: Typed): Frag {
    const h = this.value(haystack);
    const x = this.value(needle);
    if (haystack.type === 'list') {
      return this.guarded(q`${h} @> jsonb_build_array(${x})`, [haystack, needle]);
    }
    return this.guarded(q`${h} <> '' AND strpos(${h}, ${x}) > 0`, [haystack, needle]);
  }

  private isNull(n: Typed): Frag {
    // a list is read as jsonb, where a stored JSON null is not SQL NULL
    if (n.type === 'list') return q`COALESCE(jsonb_typeof(${this.value(n)}) = 'null', true)`;
    return q`(${this.value(n)} IS NULL)`;
  }

  private isEmpty(n: Typed): Frag {
    const v = this.value(n);
    switch (n.type) {
      case 'null':
        return raw('true');
      case 'list':
        return q`COALESCE((jsonb_typeof(${v}) <> 'array' OR ${v} = '[]'::jsonb), true)`;
      case 'text':
      case 'date':
      case 'datetime':
        return q`(${v} IS NULL OR ${v} = '')`;
      default:
        return q`(${v} IS NULL)`;
    }
  }

  /** json-logic truthiness: null, false, 0, "" and [] are false. */
  private truthy(n: Typed): Frag {
    const v = this.value(n);
    switch (n.type as ExprType) {
      case 'boolean':
        return this.guarded(v, [n]);
      case 'number':
        return this.guarded(q`${v} <> 0`, [n]);
      case 'text':
      case 'date':
      case 'datetime':
        return this.guarded(q`${v} <> ''`, [n]);
      case 'list':
        return q`COALESCE((jsonb_typeof(${v}) = 'array' AND ${v} <> '[]'::jsonb), false)`;
      default:
        return raw('false');
    }
  }

  private relativeRange(n: Extract<Typed, { kind: 'op' }>): DayRange {
    const [, second, third] = n.args.map((a) => (a.kind === 'literal' ? a.value : undefined));
    if (n.op === 'inPeriod') {
      if (!isPeriod(second)) throw new Error('unchecked period');
      return periodRange(second, this.env);
    }
    if (!isStepCount(second) || !isDateUnit(third)) throw new Error('unchecked range');
    return lastNextRange(n.op === 'inLast' ? 'last' : 'next', second, third, this.env);
  }

  private inRange(x: Typed, range: DayRange): Frag {
    const v = this.value(x);
    const datetime = x.type === 'datetime' || (x.kind === 'literal' && typeof x.value === 'string' && isCanonicalDatetime(x.value));
    return datetime
      ? this.guarded(q`${v} >= ${textParam(range.fromInstant)} AND ${v} < ${textParam(range.toInstantExclusive)}`, [x])
      : this.guarded(q`${v} >= ${textParam(range.from)} AND ${v} <= ${textParam(range.to)}`, [x]);
  }
}
