import type { ExprIssue, ExprScope, ExprType } from '../types';
import { OPERATORS } from '../syntax/operators';
import { parse, type Literal, type Node } from '../syntax/parse';
import { isCanonicalDatetime, parseDate } from '../dates/calendar';
import { isDateUnit, isPeriod, isStepCount } from '../dates/relative';
import { resolveKey } from './scope';
import type { Typed } from './typed';

const EQUATABLE: ExprType[] = ['number', 'text', 'date', 'datetime', 'boolean'];
const ORDERED: ExprType[] = ['number', 'text', 'date', 'datetime'];
const DATE_LIKE: ExprType[] = ['date', 'datetime'];

const RESULT: Record<string, ExprType> = { today: 'date', now: 'datetime', currentUser: 'text' };

export interface CheckResult {
  type: ExprType;
  errors: ExprIssue[];
  typed: Typed;
}

/** Parses and type-checks; the typed tree is what the SQL compiler walks. */
export function checkTyped(expr: unknown, scope: ExprScope, expected?: ExprType): CheckResult {
  const errors: ExprIssue[] = [];
  const typed = new Checker(scope, errors).check(parse(expr, errors));
  if (expected && expected !== 'any' && typed.type !== 'any' && !fits(typed, expected)) {
    errors.push({
      path: typed.path,
      code: expected === 'boolean' ? 'not_boolean' : 'type_mismatch',
      message: `Expected a ${expected} expression, got ${typed.type}`,
    });
  }
  return { type: typed.type, errors, typed };
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
        if (!resolved) {
          this.issue(node.path, 'unknown_field', `Unknown field "${node.key}" on ${this.scope.object.key}`);
          return { kind: 'invalid', path: node.path, type: 'any' };
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
      return result(type);
    }
    this.checkOperands(node.op, args, node.path);
    return result(type);
  }

  private checkOperands(op: string, args: Typed[], path: string): void {
    switch (op) {
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
