import { ProblemError } from '@tessera/metadata';
import { DEFAULT_TIMEZONE, type EvalEnv } from '../types';
import { DATE_UNITS, PERIODS, type DateUnit, type Period } from '../syntax/operators';
import { addDays, addMonths, formatDate, localDate, startOfDay, weekday, type Ymd } from './calendar';

/**
 * Relative dates are resolved here, in JS, from env — never with SQL now() — so the
 * evaluator and the SQL compiler see the very same bounds.
 */

/** An inclusive range of local calendar days, and the instants that bound it (end exclusive). */
export interface DayRange {
  from: string;
  to: string;
  fromInstant: string;
  toInstantExclusive: string;
}

export function timezoneOf(env: EvalEnv): string {
  return env.timezone ?? DEFAULT_TIMEZONE;
}

function checkedNow(env: EvalEnv): Date {
  if (!(env.now instanceof Date) || !Number.isFinite(env.now.getTime())) {
    throw new ProblemError('bad_request', 'The evaluation time is not a valid date', [{ field: 'now', code: 'invalid', message: 'env.now must be a valid Date' }]);
  }
  return env.now;
}

export function today(env: EvalEnv): Ymd {
  return localDate(checkedNow(env), timezoneOf(env));
}

export function todayText(env: EvalEnv): string {
  return formatDate(today(env));
}

export function nowText(env: EvalEnv): string {
  return checkedNow(env).toISOString();
}

export function isDateUnit(u: unknown): u is DateUnit {
  return typeof u === 'string' && (DATE_UNITS as readonly string[]).includes(u);
}

export function isPeriod(p: unknown): p is Period {
  return typeof p === 'string' && (PERIODS as readonly string[]).includes(p);
}

/** Counts for inLast/inNext: whole, non-negative, and small enough to stay inside the calendar. */
export function isStepCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 10000;
}

export function shift(date: Ymd, n: number, unit: DateUnit): Ymd {
  switch (unit) {
    case 'day':
      return addDays(date, n);
    case 'week':
      return addDays(date, 7 * n);
    case 'month':
      return addMonths(date, n);
    case 'quarter':
      return addMonths(date, 3 * n);
    case 'year':
      return addMonths(date, 12 * n);
  }
}

function range(from: Ymd, to: Ymd, timezone: string): DayRange {
  return {
    from: formatDate(from),
    to: formatDate(to),
    fromInstant: startOfDay(from, timezone).toISOString(),
    toInstantExclusive: startOfDay(addDays(to, 1), timezone).toISOString(),
  };
}

/** `inLast`: [today - N units, today]; `inNext`: [today, today + N units]. */
export function lastNextRange(direction: 'last' | 'next', n: number, unit: DateUnit, env: EvalEnv): DayRange {
  const t = today(env);
  const other = shift(t, direction === 'last' ? -n : n, unit);
  return direction === 'last' ? range(other, t, timezoneOf(env)) : range(t, other, timezoneOf(env));
}

export function periodRange(period: Period, env: EvalEnv): DayRange {
  const t = today(env);
  const tz = timezoneOf(env);
  if (period === 'today') return range(t, t, tz);
  if (period === 'yesterday') return range(addDays(t, -1), addDays(t, -1), tz);
  if (period === 'tomorrow') return range(addDays(t, 1), addDays(t, 1), tz);
  const [which, unit] = period.split('_') as ['last' | 'this' | 'next', 'week' | 'month' | 'quarter' | 'year'];
  const step = which === 'last' ? -1 : which === 'next' ? 1 : 0;
  const start = periodStart(t, unit);
  const from = shift(start, step, unit);
  const to = addDays(shift(from, 1, unit), -1);
  return range(from, to, tz);
}

function periodStart(t: Ymd, unit: 'week' | 'month' | 'quarter' | 'year'): Ymd {
  switch (unit) {
    case 'week':
      return addDays(t, 1 - weekday(t));
    case 'month':
      return { y: t.y, m: t.m, d: 1 };
    case 'quarter':
      return { y: t.y, m: t.m - ((t.m - 1) % 3), d: 1 };
    case 'year':
      return { y: t.y, m: 1, d: 1 };
  }
}
