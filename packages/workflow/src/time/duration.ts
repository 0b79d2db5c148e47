/**
 * ISO 8601 durations ('P2D', 'PT15M', 'P1M') as flows write due dates, timers and retry delays.
 *
 * Why calendar-aware: "P1M" after a task created on 31 January means the end of February to
 * the person who wrote it, and "P1D" means the same time tomorrow even across a DST change,
 * so years/months/weeks/days step the wall clock in the flow's zone (default Asia/Shanghai,
 * the product's home zone) and only hours/minutes/seconds are exact elapsed time: the same
 * rule as Temporal's ZonedDateTime.add. A month step keeps the day of month, clamped to the
 * month's length (Jan 31 + P1M = Feb 28/29).
 *
 * Parsing is tinyduration's; on top of it we refuse what a flow should never hold: negative
 * durations, a dangling 'T' ('P1DT'), and fractions anywhere but seconds (half a month has no
 * meaning on a calendar).
 */
import { ProblemError } from '@tessera/metadata';
import { parse } from 'tinyduration';
import { instantOfWall, isTimeZone, wallAsUtc, wallClockAt } from './zone';

export const DEFAULT_FLOW_TIMEZONE = 'Asia/Shanghai';

export interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export type ParsedDuration = { ok: true; duration: IsoDuration } | { ok: false; error: string };

const WHOLE_UNITS = ['years', 'months', 'weeks', 'days', 'hours', 'minutes'] as const;

export function parseIsoDuration(s: string): ParsedDuration {
  if (typeof s !== 'string') return { ok: false, error: 'a duration is an ISO 8601 text such as "P2D" or "PT15M"' };
  if (s.startsWith('-')) return { ok: false, error: `"${s}" is negative; a duration here must not be` };
  if (s.endsWith('T')) return { ok: false, error: `"${s}" has a "T" with no hours, minutes or seconds after it` };
  let parsed;
  try {
    parsed = parse(s);
  } catch {
    return { ok: false, error: `"${s}" is not an ISO 8601 duration such as "P2D", "PT15M" or "P1M"` };
  }
  const duration: IsoDuration = {
    years: parsed.years ?? 0,
    months: parsed.months ?? 0,
    weeks: parsed.weeks ?? 0,
    days: parsed.days ?? 0,
    hours: parsed.hours ?? 0,
    minutes: parsed.minutes ?? 0,
    seconds: parsed.seconds ?? 0,
  };
  const fractional = WHOLE_UNITS.find((unit) => !Number.isInteger(duration[unit]));
  if (fractional) return { ok: false, error: `"${s}" has a fraction of ${fractional}; only seconds may have one` };
  return { ok: true, duration };
}

export function isIsoDuration(s: string): boolean {
  return parseIsoDuration(s).ok;
}

function durationOrThrow(duration: string): IsoDuration {
  const parsed = parseIsoDuration(duration);
  if (!parsed.ok) throw new ProblemError('bad_request', parsed.error, [{ field: 'duration', code: 'invalid', message: parsed.error }]);
  return parsed.duration;
}

function zoneOrThrow(timezone: string): void {
  if (!isTimeZone(timezone)) {
    const message = `"${timezone}" is not an IANA time zone`;
    throw new ProblemError('bad_request', message, [{ field: 'timezone', code: 'invalid', message }]);
  }
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** `from` plus the duration; throws ProblemError('bad_request') for a bad duration or zone */
export function addIsoDuration(from: Date, duration: string, timezone: string = DEFAULT_FLOW_TIMEZONE): Date {
  const d = durationOrThrow(duration);
  zoneOrThrow(timezone);
  let t = from.getTime();
  const monthSteps = d.years * 12 + d.months;
  const daySteps = d.weeks * 7 + d.days;
  if (monthSteps !== 0 || daySteps !== 0) {
    const wall = wallClockAt(t, timezone);
    const monthIndex = wall.y * 12 + (wall.m - 1) + monthSteps;
    const y = Math.floor(monthIndex / 12);
    const m = monthIndex - y * 12 + 1;
    const stepped = { ...wall, y, m, d: Math.min(wall.d, daysInMonth(y, m)) };
    t = instantOfWall(wallAsUtc(stepped) + daySteps * 86_400_000, timezone);
  }
  return new Date(t + Math.round((d.hours * 3600 + d.minutes * 60 + d.seconds) * 1000));
}

/**
 * A duration as fixed milliseconds, for delays that are elapsed time rather than calendar
 * steps (retry backoff): days are 24 h, months are measured from the epoch in UTC.
 */
export function isoDurationMs(duration: string): number {
  return addIsoDuration(new Date(0), duration, 'UTC').getTime();
}
