import type { ExprContext, ExprIssue, ExprScope, ExprType } from '../types';
import { OPERATORS, START_UNITS } from '../syntax/operators';
import { MAX_PATTERN_LENGTH, regexOf } from '../functions/ops';
import { parse, type Literal, type Node } from '../syntax/parse';
import { isCanonicalDatetime, parseDate } from '../dates/calendar';
import { isDateUnit, isPeriod, isStepCount } from '../dates/relative';
import { resolveKey } from './scope';
import type { Typed } from './typed';

const EQUATABLE: ExprType[] = ['number', 'text', 'date', 'datetime', 'boolean'];
const ORDERED: ExprType[] = ['number', 'text', 'date', 'datetime'];
const DATE_LIKE: ExprType[] = ['date', 'datetime'];

const RESULT: Record<string, ExprType> = { today: 'date', now: 'datetime', currentUser: 'text' };
const TEXT_LIKE: ExprType[] = ['text', 'date', 'datetime'];
/** Operators PostgreSQL cannot mean the same way; `why` goes into the message. */
const JS_ONLY: Record<string, string> = {
  lower: 'PostgreSQL\'s "C" collation only folds ASCII letters',
  upper: 'PostgreSQL\'s "C" collation only folds ASCII letters',
  substr: 'it is evaluated in JavaScript only',
  matches: 'JavaScript and PostgreSQL regular expressions differ',
  isCnCreditCode: 'its check digit is computed in JavaScript only',
  '/': 'decimal division rounds differently in PostgreSQL',
  '%': 'it is evaluated in JavaScript only',
};

export interface CheckResult {
  type: ExprType;
  errors: ExprIssue[];
  typed: Typed;
}

export interface CheckOptions {
  /** the type the whole expression must have */
  expected?: ExprType;
  /** default 'filter': everything must compile to SQL */
  context?: ExprContext;
  /** a null result is acceptable (a value to store may be empty) */
  nullable?: boolean;
}

/** Parses and type-checks; the typed tree is what the SQL compiler and the closure compiler walk. */
export function checkTyped(expr: unknown, scope: ExprScope, expected?: ExprType, context: ExprContext = 'filter'): CheckResult {
  return checkWith(expr, scope, { expected, context });
}

export function checkWith(expr: unknown, scope: ExprScope, options: CheckOptions = {}): CheckResult {
  const errors: ExprIssue[] = [];
  const typed = new Checker(scope, errors, options.context ?? 'filter').check(parse(expr, errors));
  const expected = options.expected;
  const nullOk = options.nullable && typed.type === 'null';
  if (expected && expected !== 'any' && typed.type !== 'any' && !nullOk && !fits(typed, expected)) {
    errors.push({
      path: typed.path,
      code: expected === 'boolean' ? 'not_boolean' : 'type_mismatch',
      message: `Expected a ${expected} expression, got ${typed.type}`,
    });
  }
  return { type: typed.type, errors, typed };
}

/** Operators whose result is a computed value rather than a true/false condition. */
export const VALUE_OPS: ReadonlySet<string> = new Set([
  '+', '-', '*', '/', '%', 'round', 'abs', 'min', 'max', 'coalesce', 'if',
  'concat', 'cat', 'lower', 'upper', 'substr', 'length', 'addDays', 'addMonths', 'diffDays', 'startOf',
]);

function isWholeLiteral(n: Typed, limit: number, lowest = -limit): boolean {
  return n.kind === 'literal' && typeof n.value === 'number' && Number.isInteger(n.value) && n.value >= lowest && n.value <= limit;
}

/** addDays/addMonths keep their argument's kind; a text literal is a date if it reads as one. */
function dateKind(n: Typed): ExprType {
  if (n.type === 'date' || n.type === 'datetime' || n.type === 'any') return n.type;
  if (isStringLiteral(n)) return fits(n, 'date') ? 'date' : 'datetime';
  return 'any';
}

/** Only text literals to choose from: they are dates or datetimes if they all read as such. */
function literalsType(literals: Typed[]): ExprType {
  if (literals.every((a) => fits(a, 'date'))) return 'date';
  if (literals.every((a) => fits(a, 'datetime'))) return 'datetime';
  return 'text';
}

function literalType(value: Literal): ExprType {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'text';
  return typeof value === 'number' ? 'number' : 'boolean';
}

function isStringLiteral(n: Typed): n is Typed & { kind: 'literal'; value: string } {
  return n.kind === 'literal' && typeof n.value === 'string';
}

/** A text literal stands for a date or datetime where one is expected, if it is written in that form. */
function fits(n: Typed, type: ExprType): boolean {
  if (n.type === type || n.type === 'any') return true;
  if (!isStringLiteral(n)) return false;
  if (type === 'date') return parseDate(n.value) !== null;
  if (type === 'datetime') return isCanonicalDatetime(n.value);
  return false;
}

class Checker {
  constructor(
    private readonly scope: ExprScope,
    private readonly errors: ExprIssue[],
    private readonly context: ExprContext,
  ) {}

  private issue(path: string, code: string, message: string): void {
    this.errors.push({ path, code, message });
  }

  check(node: Node): Typed {
    switch (node.kind) {
      case 'invalid':
        return { ...node, type: 'any' };
      case 'literal':
        return { ...node, type: literalType(node.value) };
      case 'array':
        this.issue(node.path, 'unsupported', 'An array is only allowed as the list of values of "in"');
        return { ...node, items: node.items.map((i) => this.check(i)), type: 'any' };
      case 'var': {
        const resolved = resolveKey(this.scope, node.key);
        if ('error' in resolved) {
          this.issue(node.path, resolved.code, resolved.error);
          return { kind: 'invalid', path: node.path, type: 'any' };
        }
        if ('relation' in resolved.source && this.context === 'filter') {
          this.issue(node.path, 'not_in_sql', `"${node.key}" reads through a relation, which filters cannot do; use it in formulas, validations or automations`);
        }
        return { ...node, source: resolved.source, type: resolved.type };
      }
      case 'op':
        return this.checkOp(node);
    }
  }

  /** Array literals are only legal as `in`'s list, so the caller checks them itself. */
  private checkArg(node: Node, allowArray: boolean): Typed {
    if (allowArray && node.kind === 'array') {
      return { ...node, items: node.items.map((i) => this.check(i)), type: 'list' };
    }
    return this.check(node);
  }

  private checkOp(node: Extract<Node, { kind: 'op' }>): Typed {
    const spec = OPERATORS.get(node.op)!;
    const args = node.args.map((a, i) => this.checkArg(a, node.op === 'in' && i === 1));
    const result = (type: ExprType): Typed => ({ kind: 'op', op: node.op, args, path: node.path, type });
    const type = RESULT[node.op] ?? 'boolean';
    if (args.length < spec.min || args.length > spec.max) {
      const wanted = spec.min === spec.max ? `${spec.min}` : spec.max === Infinity ? `at least ${spec.min}` : `${spec.min} to ${spec.max}`;
      this.issue(node.path, 'arity', `"${node.op}" takes ${wanted} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`);
      return result(VALUE_OPS.has(node.op) ? 'any' : type);
    }
    if (this.context === 'filter') this.checkSqlCapable(node.op, args, node.path);
    const valueType = this.checkValueOp(node.op, args, node.path);
    if (valueType !== undefined) return result(valueType);
    this.checkOperands(node.op, args, node.path);
    return result(type);
  }

  private checkSqlCapable(op: string, args: Typed[], path: string): void {
    const reject = (at: string, why: string) => this.issue(at, 'not_in_sql', `"${op}" cannot be used in a filter: ${why}`);
    if (JS_ONLY[op]) return reject(path, JS_ONLY[op]);
    if ((op === 'addDays' || op === 'addMonths') && !isWholeLiteral(args[1]!, 100_000)) {
      return reject(args[1]!.path, 'in a filter the count must be a whole-number literal from -100000 to 100000');
    }
    if (op === 'startOf' && args[0]!.type === 'datetime') return reject(args[0]!.path, 'a datetime\'s local date depends on the time zone; filters take dates here');
    if ((op === 'concat' || op === 'cat') && args.some((a) => a.type !== 'any' && a.type !== 'null' && !TEXT_LIKE.includes(a.type))) {
      return reject(path, 'in a filter it joins text and dates only');
    }
    if (op === 'coalesce' && args.some((a) => a.type === 'list')) return reject(path, 'list fields cannot be coalesced in a filter');
  }

  /** Typing of the operators that compute a value (not a condition); undefined for the others. */
  private checkValueOp(op: string, args: Typed[], path: string): ExprType | undefined {
    switch (op) {
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case 'abs':
        for (const a of args) this.expectType(op, a, ['number']);
        return 'number';
      case 'round':
        this.expectType(op, args[0]!, ['number']);
        if (args[1] && !isWholeLiteral(args[1], 10, -6)) this.issue(args[1].path, 'invalid_literal', '"round" takes a whole number of decimals from -6 to 10 as a literal');
        return 'number';
      case 'min':
      case 'max':
        return this.unifyValues(op, args, ORDERED);
      case 'coalesce':
        return this.unifyValues(op, args, [...EQUATABLE, 'list']);
      case 'if':
        return this.checkIf(args);
      case 'concat':
      case 'cat':
        for (const a of args) this.expectType(op, a, ['text', 'number', 'date', 'datetime', 'boolean', 'null']);
        return 'text';
      case 'lower':
      case 'upper':
        this.expectType(op, args[0]!, ['text']);
        return 'text';
      case 'substr':
        this.expectType(op, args[0]!, ['text']);
        for (const a of args.slice(1)) this.expectType(op, a, ['number']);
        return 'text';
      case 'length':
        this.expectType(op, args[0]!, ['text', 'list']);
        return 'number';
      case 'addDays':
      case 'addMonths':
        this.expectDateLike(op, args[0]!);
        this.expectType(op, args[1]!, ['number']);
        return dateKind(args[0]!);
      case 'diffDays':
        if (args.every(isStringLiteral)) {
          // two literals: each must read as a date or datetime, and both the same
          for (const a of args) this.expectDateLike(op, a);
          if (dateKind(args[0]!) !== dateKind(args[1]!)) this.issue(args[1]!.path, 'type_mismatch', '"diffDays" takes two dates or two datetimes');
        } else {
          this.unify(op, args, DATE_LIKE, path);
        }
        return 'number';
      case 'startOf':
        this.expectDateLike(op, args[0]!);
        if (!(args[1]!.kind === 'literal' && (START_UNITS as readonly unknown[]).includes(args[1]!.value))) {
          this.issue(args[1]!.path, 'invalid_literal', `"startOf" needs a unit: ${START_UNITS.map((u) => `"${u}"`).join(', ')}`);
        }
        return 'date';
      default:
        return undefined;
    }
  }

  private checkIf(args: Typed[]): ExprType {
    const values: Typed[] = [];
    args.forEach((a, i) => {
      const isCondition = i % 2 === 0 && i < args.length - 1;
      if (isCondition) this.expectBoolean('if', a);
      else values.push(a);
    });
    return this.unifyValues('if', values, [...EQUATABLE, 'list']);
  }

  /** Values that may each be null share one type; text literals take it (dates written as text). */
  private unifyValues(op: string, args: Typed[], allowed: ExprType[]): ExprType {
    const present = args.filter((a) => a.type !== 'null');
    if (present.length === 0) return 'null';
    if (present.some((a) => a.type === 'any')) return 'any';
    const anchor = present.find((a) => !isStringLiteral(a))?.type ?? literalsType(present);
    if (!allowed.includes(anchor)) {
      this.issue(present.find((a) => a.type === anchor)!.path, 'type_mismatch', `"${op}" cannot take ${anchor} values (it takes ${allowed.join(', ')})`);
      return 'any';
    }
    for (const a of present) {
      if (!fits(a, anchor)) this.issue(a.path, 'type_mismatch', `"${op}" mixes ${anchor} with ${a.type}; all its values must have one type`);
    }
    return anchor;
  }

  private expectType(op: string, a: Typed, allowed: ExprType[]): void {
    if (a.type === 'any' || allowed.some((t) => fits(a, t))) return;
    this.issue(a.path, 'type_mismatch', `"${op}" needs ${allowed.filter((t) => t !== 'null').join(' or ')} here, got ${a.type}`);
  }

  private checkOperands(op: string, args: Typed[], path: string): void {
    switch (op) {
      case 'matches': {
        this.expectType(op, args[0]!, ['text']);
        const pattern = args[1]!;
        if (!(pattern.kind === 'literal' && typeof pattern.value === 'string' && regexOf(pattern.value))) {
          this.issue(pattern.path, 'invalid_literal', `"matches" needs a valid regular expression literal of at most ${MAX_PATTERN_LENGTH} characters`);
        }
        return;
      }
      case 'isEmail':
      case 'isCnMobile':
      case 'isCnCreditCode':
        this.expectType(op, args[0]!, ['text', 'null']);
        return;
      case '==':
      case '!=':
        if (args.some((a) => a.type === 'null')) return;
        this.unify(op, args, EQUATABLE, path);
        return;
      case '<':
      case '<=':
      case '>':
      case '>=':
      case 'between':
        this.unify(op, args, ORDERED, path);
        return;
      case 'in':
        this.checkIn(args[0]!, args[1]!, path);
        return;
      case 'contains':
        this.checkContains(op, args[0]!, args[1]!);
        return;
      case 'startsWith':
        this.unify(op, args, ['text'], path);
        return;
      case 'and':
      case 'or':
      case '!':
      case 'not':
        for (const a of args) this.expectBoolean(op, a);
        return;
      case 'inLast':
      case 'inNext':
        this.expectDateLike(op, args[0]!);
        if (!(args[1]!.kind === 'literal' && isStepCount(args[1]!.value))) {
          this.issue(args[1]!.path, 'invalid_literal', `"${op}" needs a whole number of units from 0 to 10000 as a literal`);
        }
        if (!(args[2]!.kind === 'literal' && isDateUnit(args[2]!.value))) {
          this.issue(args[2]!.path, 'invalid_literal', `"${op}" needs a unit: "day", "week", "month", "quarter" or "year"`);
        }
        return;
      case 'inPeriod':
        this.expectDateLike(op, args[0]!);
        if (!(args[1]!.kind === 'literal' && isPeriod(args[1]!.value))) {
          this.issue(args[1]!.path, 'invalid_literal', `"${op}" needs a period such as "this_month", "last_week" or "today"`);
        }
        return;
      default:
        // isEmpty, !!, today, now, currentUser take anything (or nothing)
        return;
    }
  }

  private expectBoolean(op: string, a: Typed): void {
    if (a.type !== 'boolean' && a.type !== 'any') {
      this.issue(a.path, 'not_boolean', `"${op}" needs a true/false condition here, got ${a.type}`);
    }
  }

  private expectDateLike(op: string, a: Typed): void {
    if (a.type === 'any' || DATE_LIKE.includes(a.type) || fits(a, 'date') || fits(a, 'datetime')) return;
    this.issue(a.path, 'type_mismatch', `"${op}" needs a date or datetime, got ${a.type}`);
  }

  /**
   * All operands must share one type. Text literals take the type of the others, so
   * `{"<": [{"var": "close_date"}, "2024-06-30"]}` compares dates.
   */
  private unify(op: string, args: Typed[], allowed: ExprType[], path: string): ExprType {
    if (args.some((a) => a.type === 'any')) return 'any';
    const anchor = args.find((a) => !isStringLiteral(a))?.type ?? 'text';
    if (!allowed.includes(anchor)) {
      const at = args.find((a) => a.type === anchor)?.path ?? path;
      this.issue(at, 'type_mismatch', `"${op}" cannot compare ${anchor} values (it takes ${allowed.join(', ')})`);
      return 'any';
    }
    for (const a of args) {
      if (fits(a, anchor)) continue;
      if (isStringLiteral(a) && anchor === 'date') {
        this.issue(a.path, 'invalid_literal', `"${a.value}" is not a date; write dates as YYYY-MM-DD`);
      } else if (isStringLiteral(a) && anchor === 'datetime') {
        const t = Date.parse(a.value);
        const hint = Number.isFinite(t) ? ` such as "${new Date(t).toISOString()}"` : ' such as "2024-06-30T16:00:00.000Z"';
        this.issue(a.path, 'invalid_literal', `"${a.value}" is not a datetime; write datetimes in UTC exactly as ISO-8601 with milliseconds,${hint}`);
      } else {
        this.issue(a.path, 'type_mismatch', `"${op}" cannot compare ${anchor} with ${a.type}`);
      }
    }
    return anchor;
  }

  private checkIn(needle: Typed, haystack: Typed, path: string): void {
    if (haystack.kind === 'array') {
      if (needle.type === 'list') {
        this.issue(needle.path, 'type_mismatch', '"in" looks up one value; to test a list field use {"in": [value, {"var": "field"}]}');
        return;
      }
      for (const item of haystack.items) {
        if (item.kind !== 'literal' || item.value === null) {
          this.issue(item.path, 'unsupported', 'The values of "in" must be literals (not null)');
        } else {
          this.unify('in', [needle, item], EQUATABLE, path);
        }
      }
      return;
    }
    this.checkContains('in', haystack, needle);
  }

  /** `contains` and the non-array forms of `in`: list has element, text has substring. */
  private checkContains(op: string, haystack: Typed, needle: Typed): void {
    if (haystack.type === 'any' || needle.type === 'any') return;
    if (haystack.type === 'list' || haystack.type === 'text') {
      if (!fits(needle, 'text')) this.issue(needle.path, 'type_mismatch', `"${op}" looks for text in a ${haystack.type}, got ${needle.type}`);
      return;
    }
    this.issue(haystack.path, 'type_mismatch', `"${op}" looks inside text or a list field, got ${haystack.type}`);
  }
}
