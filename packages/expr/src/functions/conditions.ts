import type { DayRange } from '../dates/relative';
import { compareValues } from '../values/compare';

const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

export function ordered(op: string, values: unknown[]): boolean {
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
export function contains(haystack: unknown, needle: unknown): boolean {
  if (needle === null || needle === undefined) return false;
  if (Array.isArray(haystack)) return haystack.some((item) => compareValues(item, needle) === 0);
  // json-logic finds nothing in an empty string, not even ""
  if (typeof haystack === 'string' && typeof needle === 'string') return haystack !== '' && haystack.includes(needle);
  return false;
}

/** Dates compare with the day range; datetimes with the instants bounding it. */
export function inRange(value: unknown, range: DayRange): boolean {
  if (typeof value !== 'string') return false;
  if (DATE_SHAPE.test(value)) return value >= range.from && value <= range.to;
  return value >= range.fromInstant && value < range.toInstantExclusive;
}
