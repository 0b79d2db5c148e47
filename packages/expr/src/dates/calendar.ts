import { ProblemError } from '@tessera/metadata';

/** A calendar date without a zone. Months are 1-12. */
export interface Ymd {
  y: number;
  m: number;
  d: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseDate(s: string): Ymd | null {
  const match = DATE.exec(s);
  if (!match) return null;
  const ymd = { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
  return ymd.m >= 1 && ymd.m <= 12 && ymd.d >= 1 && ymd.d <= daysInMonth(ymd.y, ymd.m) ? ymd : null;
}

/** Datetimes are compared as text, which only works for the one form toISOString writes. */
export function isCanonicalDatetime(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s)) return false;
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s;
}

export function formatDate({ y, m, d }: Ymd): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export function addDays(date: Ymd, n: number): Ymd {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** Month steps keep the day of month, clamped: Mar 31 minus one month is Feb 28 (or 29). */
export function addMonths(date: Ymd, n: number): Ymd {
  const index = date.y * 12 + (date.m - 1) + n;
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  return { y, m, d: Math.min(date.d, daysInMonth(y, m)) };
}

/** ISO weekday: Monday 1 .. Sunday 7. */
export function weekday(date: Ymd): number {
  const day = new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
  return day === 0 ? 7 : day;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ProblemError('bad_request', `Unknown time zone "${timezone}"`, [
        { field: 'timezone', code: 'invalid', message: `"${timezone}" is not an IANA time zone` },
      ]);
    }
    formatters.set(timezone, f);
  }
  return f;
}

export type WallClock = Readonly<{ y: number; m: number; d: number; h: number; mi: number; s: number }>;

/**
 * The last answer per zone, by whole second: `today` and relative dates ask for the same
 * second many times per write and across concurrent writes, and formatToParts is the
 * costliest step of evaluating them (it showed in the profile of a create with rules).
 */
const lastWallClock = new Map<string, { second: number; wall: WallClock }>();

/** Wall-clock fields of an instant in a zone (whole seconds); throws ProblemError for an unknown zone. */
export function wallClock(t: number, timezone: string): WallClock {
  const second = Math.floor(t / 1000);
  const last = lastWallClock.get(timezone);
  if (last && last.second === second) return last.wall;
  const parts: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall: WallClock = { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
  lastWallClock.set(timezone, { second, wall });
  return wall;
}

export function localDate(now: Date, timezone: string): Ymd {
  const { y, m, d } = wallClock(now.getTime(), timezone);
  return { y, m, d };
}

function offsetAt(t: number, timezone: string): number {
  const w = wallClock(t, timezone);
  const asUtc = Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The instant a local calendar day begins in a zone (on a day whose midnight is skipped, the first instant of it). */
export function startOfDay(date: Ymd, timezone: string): Date {
  const wall = Date.UTC(date.y, date.m - 1, date.d);
  const first = wall - offsetAt(wall, timezone);
  const second = wall - offsetAt(first, timezone);
  const sameDay = (t: number) => {
    const local = localDate(new Date(t), timezone);
    return local.y === date.y && local.m === date.m && local.d === date.d;
  };
  const candidates = [first, second].filter(sameDay);
  return new Date(candidates.length > 0 ? Math.min(...candidates) : Math.max(first, second));
}
