import type { ValueKind } from '@tessera/metadata';
import type { EvalEnv, ExprScope, ExprType, SqlFragment } from '../types';
import { checkTyped, VALUE_OPS } from '../check/checker';
import { CN_MOBILE_PATTERN, CN_MOBILE_SEPARATORS, EMAIL_PATTERN } from '../values/validators';
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

/** Literals, today, now and conditions are never NULL; fields, the current user and computed values may be. */
function mayBeNull(n: Typed): boolean {
  if (n.kind === 'literal') return n.value === null;
  if (n.kind === 'op') return n.op === 'currentUser' || (VALUE_OPS.has(n.op) && n.op !== 'concat' && n.op !== 'cat');
  return true;
}

const DATETIME_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** The bound count of addDays/addMonths; the checker made it a small whole literal in filters. */
function countOf(n: Typed): Frag {
  if (n.kind !== 'literal' || typeof n.value !== 'number' || !Number.isInteger(n.value)) throw new Error('unchecked count');
  return q`(${param(String(n.value))}::int)`;
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
        if ('relation' in n.source) throw new Error('relation paths are not compiled to SQL (the checker rejects them in filters)');
        if ('field' in n.source) return raw(fieldSqlExpression(n.source.field, n.type === 'any' || n.type === 'null' ? undefined : (n.type as ValueKind)));
        return raw(systemFieldSqlExpression(n.source.system));
      case 'op':
        if (n.op === 'today') return textParam(todayText(this.env));
        if (n.op === 'now') return textParam(nowText(this.env));
        if (n.op === 'currentUser') return textParam(this.env.userId ?? null);
        if (VALUE_OPS.has(n.op)) return this.computed(n);
        return this.predicate(n);
      default:
        throw new Error(`cannot compile a ${n.kind} node as a value`);
    }
  }

  /** A condition that is true or false, never NULL. */
  predicate(n: Typed): Frag {
    if (n.kind !== 'op' || VALUE_OPS.has(n.op)) return this.truthy(n);
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
      case 'isEmail':
        return this.guarded(q`${this.value(a)} ~ ${textParam(EMAIL_PATTERN)}`, [a]);
      case 'isCnMobile':
        return this.guarded(q`regexp_replace(${this.value(a)}, ${textParam(CN_MOBILE_SEPARATORS)}, '', 'g') ~ ${textParam(CN_MOBILE_PATTERN)}`, [a]);
      default:
        throw new Error(`operator ${n.op} is not a condition`);
    }
  }

  /**
   * The computing operators, mirroring functions/ops.ts and dates/math.ts. NULL in, NULL
   * out, as in JS. Numbers are numeric (exact decimals, like the JS decimal arithmetic);
   * dates and datetimes are text in their stored forms, cast only inside the expression.
   */
  private computed(n: Extract<Typed, { kind: 'op' }>): Frag {
    const args = n.args;
    const v = (i: number) => this.value(args[i]!);
    const values = () => args.map((x) => this.value(x));
    switch (n.op) {
      case '+':
      case '*':
        return q`(${join(values(), ` ${n.op} `)})`;
      case '-':
        return args.length === 1 ? q`(- ${v(0)})` : q`(${v(0)} - ${v(1)})`;
      case 'abs':
        return q`abs(${v(0)})`;
      case 'round':
        return q`round(${v(0)}, ${args[1] ? countOf(args[1]) : raw('0')})`;
      case 'min':
        return this.extreme('LEAST', args);
      case 'max':
        return this.extreme('GREATEST', args);
      case 'coalesce':
        return this.typedValue(q`COALESCE(${join(values(), ', ')})`, n.type);
      case 'if':
        return this.typedValue(this.caseWhen(args), n.type);
      case 'concat':
      case 'cat':
        return q`(concat(${join(values(), ', ')}) COLLATE "C")`;
      case 'length':
        if (args[0]!.type === 'list') return q`(CASE WHEN jsonb_typeof(${v(0)}) = 'array' THEN jsonb_array_length(${v(0)}) END)::numeric`;
        return q`(char_length(${v(0)})::numeric)`;
      case 'addDays':
      case 'addMonths': {
        const step = n.op === 'addDays' ? q`make_interval(days => ${countOf(args[1]!)})` : q`make_interval(months => ${countOf(args[1]!)})`;
        return n.type === 'datetime'
          ? q`(to_char((${v(0)})::timestamp + ${step}, ${raw(DATETIME_FORMAT)}) COLLATE "C")`
          : q`(to_char((${v(0)})::date + ${step}, 'YYYY-MM-DD') COLLATE "C")`;
      }
      case 'diffDays':
        if (args[0]!.type === 'datetime' || args[1]!.type === 'datetime') {
          return q`trunc(extract(epoch from ((${v(1)})::timestamp - (${v(0)})::timestamp)) / 86400)`;
        }
        return q`(((${v(1)})::date - (${v(0)})::date)::numeric)`;
      case 'startOf': {
        const unit = args[1]!.kind === 'literal' ? args[1]!.value : null;
        return q`(to_char(date_trunc(${param(unit)}::text, (${v(0)})::date::timestamp), 'YYYY-MM-DD') COLLATE "C")`;
      }
      default:
        throw new Error(`operator ${n.op} does not compile to SQL (the checker rejects it in filters)`);
    }
  }

  /** LEAST/GREATEST skip NULLs, as the JS min/max do; a null literal argument is just left out. */
  private extreme(fn: 'LEAST' | 'GREATEST', args: Typed[]): Frag {
    const present = args.filter((x) => !isNullLiteral(x));
    if (present.length === 0) return raw('NULL');
    return q`${raw(fn)}(${join(present.map((x) => this.value(x)), ', ')})`;
  }

  private caseWhen(args: Typed[]): Frag {
    const parts: Frag[] = [];
    let i = 0;
    for (; i + 1 < args.length; i += 2) parts.push(q`WHEN ${this.predicate(args[i]!)} THEN ${this.value(args[i + 1]!)}`);
    const otherwise = i < args.length ? this.value(args[i]!) : raw('NULL');
    return q`(CASE ${join(parts, ' ')} ELSE ${otherwise} END)`;
  }

  /** COALESCE/CASE over only null literals would have type unknown: give it the checked type. */
  private typedValue(frag: Frag, type: ExprType): Frag {
    switch (type) {
      case 'number':
        return q`(${frag})::numeric`;
      case 'boolean':
        return q`(${frag})::boolean`;
      case 'list':
        return q`(${frag})::jsonb`;
      default:
        return q`((${frag})::text COLLATE "C")`;
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
