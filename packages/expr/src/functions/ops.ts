import { compareValues, toNumber } from '../values/compare';
import { decimalAdd, decimalDiv, decimalMod, decimalMul, decimalRound, decimalSub } from '../values/decimal';
import { codePointLength, concatText, substr } from '../values/text';

/**
 * The value operators on already-evaluated arguments, shared by the evaluator and the
 * compiled closures so both give the same answer. Null (or a value of the wrong kind)
 * in, null out; conditions are handled by their callers.
 */

export function sumOf(values: unknown[]): number | null {
  let acc: number | null = 0;
  for (const v of values) {
    const n = toNumber(v);
    if (n === null) return null;
    acc = decimalAdd(acc, n);
    if (acc === null) return null;
  }
  return acc;
}

export function productOf(values: unknown[]): number | null {
  let acc: number | null = 1;
  for (const v of values) {
    const n = toNumber(v);
    if (n === null) return null;
    acc = decimalMul(acc, n);
    if (acc === null) return null;
  }
  return acc;
}

export function add2(a: unknown, b: unknown): number | null {
  const x = toNumber(a);
  const y = toNumber(b);
  return x === null || y === null ? null : decimalAdd(x, y);
}

export function mul2(a: unknown, b: unknown): number | null {
  const x = toNumber(a);
  const y = toNumber(b);
  return x === null || y === null ? null : decimalMul(x, y);
}

export function negate(a: unknown): number | null {
  const x = toNumber(a);
  return x === null ? null : x === 0 ? 0 : -x;
}

type Binary = (x: number, y: number) => number | null;
const BINARY: Record<string, Binary> = { '-': decimalSub, '/': decimalDiv, '%': decimalMod };

export function binary(op: '-' | '/' | '%', a: unknown, b: unknown): number | null {
  const x = toNumber(a);
  const y = toNumber(b);
  return x === null || y === null ? null : BINARY[op]!(x, y);
}

export function roundTo(a: unknown, digits: number): number | null {
  const x = toNumber(a);
  if (!Number.isInteger(digits) || digits < -6 || digits > 10) return null;
  return x === null ? null : decimalRound(x, digits);
}

export function absOf(a: unknown): number | null {
  const x = toNumber(a);
  return x === null ? null : Math.abs(x);
}

/** min (sign -1) or max (sign 1), skipping nulls as SQL's LEAST/GREATEST do. */
export function extreme(values: unknown[], sign: 1 | -1): unknown {
  const numeric = values.some((v) => typeof v === 'number');
  let best: unknown = null;
  for (const raw of values) {
    const v = numeric ? toNumber(raw) : raw;
    if (v === null || v === undefined) continue;
    if (best === null) {
      best = v;
      continue;
    }
    const c = compareValues(v, best);
    if (c !== null && c * sign > 0) best = v;
  }
  return best;
}

export function coalesceOf(values: unknown[]): unknown {
  for (const v of values) if (v !== null && v !== undefined) return v;
  return null;
}

export function lengthOf(v: unknown): number | null {
  if (typeof v === 'string') return codePointLength(v);
  return Array.isArray(v) ? v.length : null;
}

export function concatOf(values: unknown[]): string {
  return concatText(values);
}

export function lowerOf(v: unknown): string | null {
  return typeof v === 'string' ? v.toLowerCase() : null;
}

export function upperOf(v: unknown): string | null {
  return typeof v === 'string' ? v.toUpperCase() : null;
}

export function substrOf(s: unknown, start: unknown, length?: unknown): string | null {
  const from = toNumber(start);
  if (typeof s !== 'string' || from === null) return null;
  if (length === undefined) return substr(s, from);
  const count = toNumber(length);
  return count === null ? null : substr(s, from, count);
}

/** Patterns longer than this are refused by the checker; a guard against pathological input. */
export const MAX_PATTERN_LENGTH = 500;
const patterns = new Map<string, RegExp | null>();

/** The regex of a `matches` pattern, or null when it is not a valid JavaScript (Unicode) regex. */
export function regexOf(pattern: string): RegExp | null {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = pattern.length <= MAX_PATTERN_LENGTH ? new RegExp(pattern, 'u') : null;
    } catch {
      re = null;
    }
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re;
}

export function matchesOf(s: unknown, pattern: unknown): boolean {
  if (typeof s !== 'string' || typeof pattern !== 'string') return false;
  return regexOf(pattern)?.test(s) ?? false;
}
