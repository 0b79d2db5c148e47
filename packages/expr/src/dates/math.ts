import type { EvalEnv } from '../types';
import { START_UNITS, type StartUnit } from '../syntax/operators';
import { addDays, addMonths, formatDate, isCanonicalDatetime, localDate, parseDate, weekday, type Ymd } from './calendar';
import { timezoneOf } from './relative';

/**
 * Date arithmetic for addDays, addMonths, diffDays and startOf. A date is 'YYYY-MM-DD';
 * a datetime is the ISO UTC text toISOString writes. Anything else gives null, and so does
 * a result outside years 1-9999 (where the text forms stop sorting correctly).
 */

const DAY_MS = 86_400_000;

function inRange(y: number): boolean {
  return y >= 1 && y <= 9999;
}

function dateResult(d: Ymd): string | null {
  return inRange(d.y) ? formatDate(d) : null;
}

function datetimeResult(t: number): string | null {
  if (!Number.isFinite(t)) return null;
  const d = new Date(t);
  return Number.isFinite(d.getTime()) && inRange(d.getUTCFullYear()) ? d.toISOString() : null;
}

function steps(n: unknown): number | null {
  if (typeof n !== 'number' || !Number.isFinite(n)) return null;
  const whole = Math.trunc(n);
  // about 270 years: far enough for any business date, small enough for Date
  return Math.abs(whole) <= 100_000 ? whole : null;
}

export function addDaysTo(v: unknown, n: unknown): string | null {
  const k = steps(n);
  if (k === null || typeof v !== 'string') return null;
  const date = parseDate(v);
  if (date) return dateResult(addDays(date, k));
  return isCanonicalDatetime(v) ? datetimeResult(Date.parse(v) + k * DAY_MS) : null;
}

export function addMonthsTo(v: unknown, n: unknown): string | null {
  const k = steps(n);
  if (k === null || typeof v !== 'string') return null;
  const date = parseDate(v);
  if (date) return dateResult(addMonths(date, k));
  if (!isCanonicalDatetime(v)) return null;
  const t = Date.parse(v);
  const timeOfDay = ((t % DAY_MS) + DAY_MS) % DAY_MS;
  const day = new Date(t - timeOfDay);
  const moved = addMonths({ y: day.getUTCFullYear(), m: day.getUTCMonth() + 1, d: day.getUTCDate() }, k);
  return inRange(moved.y) ? datetimeResult(Date.UTC(moved.y, moved.m - 1, moved.d) + timeOfDay) : null;
}

function dayNumber(d: Ymd): number {
  return Date.UTC(d.y, d.m - 1, d.d) / DAY_MS;
}

/** b − a: calendar days between dates, whole 24-hour periods between datetimes. */
export function diffDaysOf(a: unknown, b: unknown): number | null {
  if (typeof a !== 'string' || typeof b !== 'string') return null;
  const da = parseDate(a);
  const db = parseDate(b);
  if (da && db) return dayNumber(db) - dayNumber(da);
  if (da || db || !isCanonicalDatetime(a) || !isCanonicalDatetime(b)) return null;
  const days = Math.trunc((Date.parse(b) - Date.parse(a)) / DAY_MS);
  return days === 0 ? 0 : days;
}

export function startOfUnit(d: Ymd, unit: StartUnit): Ymd {
  switch (unit) {
    case 'week':
      return addDays(d, 1 - weekday(d));
    case 'month':
      return { y: d.y, m: d.m, d: 1 };
    case 'quarter':
      return { y: d.y, m: d.m - ((d.m - 1) % 3), d: 1 };
    case 'year':
      return { y: d.y, m: 1, d: 1 };
  }
}

/** A datetime starts the period of its local date in env.timezone. */
export function startOfValue(v: unknown, unit: StartUnit, env: EvalEnv): string | null {
  if (typeof v !== 'string' || !(START_UNITS as readonly unknown[]).includes(unit)) return null;
  const date = parseDate(v) ?? (isCanonicalDatetime(v) ? localDate(new Date(v), timezoneOf(env)) : null);
  return date ? dateResult(startOfUnit(date, unit)) : null;
}
