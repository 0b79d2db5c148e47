/**
 * Wall clocks in IANA zones, from Intl alone (no tz database of our own): the instant -> local
 * fields direction is the expression language's (zonedWallClock); the local -> instant
 * direction is solved here from the zone's offsets around the wanted wall time, resolving a
 * DST gap forward and a repeated hour to its first occurrence (the "compatible" rule of
 * Temporal and of most calendars), so "tomorrow at the same time" lands where a person expects.
 */
import { zonedWallClock } from '@tessera/expr';

export function isTimeZone(timezone: string): boolean {
  try {
    zonedWallClock(0, timezone);
    return true;
  } catch {
    return false;
  }
}

/** local calendar fields of an instant; months 1-12 */
export interface WallClock {
  y: number;
  m: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
}

export function wallClockAt(t: number, timezone: string): WallClock {
  return { ...zonedWallClock(t, timezone), ms: ((t % 1000) + 1000) % 1000 };
}

/** the wall clock read as if it were UTC, in ms: a number line on which local times compare */
export function wallAsUtc(w: WallClock): number {
  const t = new Date(0);
  t.setUTCFullYear(w.y, w.m - 1, w.d);
  t.setUTCHours(w.h, w.mi, w.s, w.ms);
  return t.getTime();
}

function offsetAt(t: number, timezone: string): number {
  return wallAsUtc(wallClockAt(t, timezone)) - t;
}

const DAY_MS = 86_400_000;

/** the instant a wall time (given as wallAsUtc) happens in a zone */
export function instantOfWall(wall: number, timezone: string): number {
  const before = wall - offsetAt(wall - DAY_MS, timezone);
  const after = wall - offsetAt(wall + DAY_MS, timezone);
  const matches = [before, after].filter((t) => wallAsUtc(wallClockAt(t, timezone)) === wall);
  if (matches.length > 0) return Math.min(...matches);
  // in a gap (clocks jumped forward): read the wall time with the offset before the jump,
  // which lands as far past the gap as the wall time was into it
  return before;
}
