import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addIsoDuration,
  cronProblem,
  isIsoDuration,
  isValidCron,
  nextCronFire,
  parseIsoDuration,
  retryDelayMs,
  retryMaxAttempts,
} from '../src/time';
import { instantOfWall, wallClockAt } from '../src/time';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

describe('ISO 8601 durations', () => {
  it('parses every unit', () => {
    expect(parseIsoDuration('P1Y2M3W4DT5H6M7.5S')).toEqual({
      ok: true,
      duration: { years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7.5 },
    });
    expect(isIsoDuration('PT15M')).toBe(true);
    expect(isIsoDuration('P0D')).toBe(true);
  });

  it.each([
    ['', 'not an ISO 8601 duration'],
    ['P', 'not an ISO 8601 duration'],
    ['2D', 'not an ISO 8601 duration'],
    ['p1d', 'not an ISO 8601 duration'],
    ['-P1D', 'negative'],
    ['P1DT', 'a "T" with no hours'],
    ['P1.5D', 'fraction of days'],
    ['P0.5M', 'fraction of months'],
  ])('refuses %j with a reason', (text, reason) => {
    const parsed = parseIsoDuration(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(reason);
  });

  it('adding a bad duration or zone throws a ProblemError naming it', () => {
    expect(() => addIsoDuration(new Date(), 'P1X')).toThrow(/P1X/);
    expect(() => addIsoDuration(new Date(), 'P1D', 'Mars/Olympus')).toThrow(/Mars\/Olympus/);
  });
});

describe('addIsoDuration', () => {
  it('steps months on the calendar, clamping to the month end (default zone Asia/Shanghai)', () => {
    // 31 Jan 2026 10:00 in Shanghai is 02:00Z
    expect(addIsoDuration(at('2026-01-31T02:00:00Z'), 'P1M')).toEqual(at('2026-02-28T02:00:00Z'));
    expect(addIsoDuration(at('2028-01-31T02:00:00Z'), 'P1M')).toEqual(at('2028-02-29T02:00:00Z'));
    expect(addIsoDuration(at('2026-01-31T02:00:00Z'), 'P2M')).toEqual(at('2026-03-31T02:00:00Z'));
    expect(addIsoDuration(at('2028-02-29T02:00:00Z'), 'P1Y')).toEqual(at('2029-02-28T02:00:00Z'));
    // 31 Jan 20:00Z is already 1 Feb 04:00 in Shanghai: the month is stepped from the local date
    expect(addIsoDuration(at('2026-01-31T20:00:00Z'), 'P1M')).toEqual(at('2026-02-28T20:00:00Z'));
    expect(addIsoDuration(at('2026-01-31T20:00:00Z'), 'P1M', 'UTC')).toEqual(at('2026-02-28T20:00:00Z'));
    expect(addIsoDuration(at('2026-01-30T20:00:00Z'), 'P1M', 'UTC')).toEqual(at('2026-02-28T20:00:00Z'));
    // 30 Jan 20:00Z is 31 Jan 04:00 in Shanghai, so it clamps to 28 Feb 04:00 there
    expect(addIsoDuration(at('2026-01-30T20:00:00Z'), 'P1M')).toEqual(at('2026-02-27T20:00:00Z'));
  });

  it('steps days on the wall clock across a DST change, hours in elapsed time', () => {
    const ny = 'America/New_York';
    // 7 March 2026 12:00 EST; clocks jump forward on 8 March
    expect(addIsoDuration(at('2026-03-07T17:00:00Z'), 'P1D', ny)).toEqual(at('2026-03-08T16:00:00Z'));
    expect(addIsoDuration(at('2026-03-07T17:00:00Z'), 'PT24H', ny)).toEqual(at('2026-03-08T17:00:00Z'));
    // 02:30 does not exist on 8 March: the same distance past the gap, 03:30 EDT
    expect(addIsoDuration(at('2026-03-07T07:30:00Z'), 'P1D', ny)).toEqual(at('2026-03-08T07:30:00Z'));
    // 01:30 happens twice on 1 November: the first one
    expect(addIsoDuration(at('2026-10-31T05:30:00Z'), 'P1D', ny)).toEqual(at('2026-11-01T05:30:00Z'));
    expect(addIsoDuration(at('2026-10-31T16:00:00Z'), 'P1W', ny)).toEqual(at('2026-11-07T17:00:00Z'));
    expect(addIsoDuration(at('2026-01-01T00:00:00Z'), 'P1DT1H30M0.25S')).toEqual(at('2026-01-02T01:30:00.250Z'));
  });

  const zones = fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe');
  const instants = fc.date({ min: at('1995-01-01T00:00:00Z'), max: at('2060-12-31T00:00:00Z'), noInvalidDate: true });
  const durationParts = fc.record({
    years: fc.nat(3),
    months: fc.nat(14),
    weeks: fc.nat(3),
    days: fc.nat(40),
    hours: fc.nat(30),
    minutes: fc.nat(90),
    seconds: fc.nat(90),
  });
  type Parts = { years: number; months: number; weeks: number; days: number; hours: number; minutes: number; seconds: number };
  const text = (p: Parts) =>
    `P${p.years}Y${p.months}M${p.weeks}W${p.days}DT${p.hours}H${p.minutes}M${p.seconds}S`;

  it('property: never goes back in time, and more of any unit is never earlier', () => {
    const units = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'] as const;
    fc.assert(
      fc.property(instants, durationParts, fc.constantFrom(...units), fc.integer({ min: 1, max: 5 }), zones, (from, parts, unit, more, zone) => {
        const base = addIsoDuration(from, text(parts), zone);
        expect(base.getTime()).toBeGreaterThanOrEqual(from.getTime());
        const longer = addIsoDuration(from, text({ ...parts, [unit]: parts[unit] + more }), zone);
        expect(longer.getTime()).toBeGreaterThanOrEqual(base.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('property: without month steps and in a zone without DST, a later start never ends earlier', () => {
    fc.assert(
      fc.property(instants, fc.nat(90 * 86_400_000), durationParts, fc.constantFrom('Asia/Shanghai', 'UTC', 'Asia/Kolkata'), (from, gap, parts, zone) => {
        const d = text({ ...parts, years: 0, months: 0 });
        const later = new Date(from.getTime() + gap);
        expect(addIsoDuration(later, d, zone).getTime()).toBeGreaterThanOrEqual(addIsoDuration(from, d, zone).getTime());
        // and a day step keeps the local time of day
        const next = addIsoDuration(from, 'P1D', zone);
        const a = wallClockAt(from.getTime(), zone);
        const b = wallClockAt(next.getTime(), zone);
        expect([b.h, b.mi, b.s]).toEqual([a.h, a.mi, a.s]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('instantOfWall', () => {
  it('finds the instant of a local wall time: midnight in Shanghai, a skipped and a repeated hour in New York', () => {
    expect(new Date(instantOfWall(Date.UTC(2026, 4, 20), 'Asia/Shanghai'))).toEqual(at('2026-05-19T16:00:00Z'));
    expect(new Date(instantOfWall(Date.UTC(2026, 2, 8, 2, 30), 'America/New_York'))).toEqual(at('2026-03-08T07:30:00Z'));
    expect(new Date(instantOfWall(Date.UTC(2026, 10, 1, 1, 30), 'America/New_York'))).toEqual(at('2026-11-01T05:30:00Z'));
  });
});

describe('cron', () => {
  it('accepts 5-field crons in a zone and refuses the rest with a reason', () => {
    expect(isValidCron('0 9 * * 1-5')).toBe(true);
    expect(isValidCron('*/15 8-18 * * MON-FRI', 'Europe/Berlin')).toBe(true);
    expect(cronProblem('* * * * * *')).toContain('not a 5-field cron');
    expect(cronProblem('61 * * * *')).toContain('not a 5-field cron');
    expect(cronProblem('every day')).toContain('not a 5-field cron');
    expect(cronProblem('0 0 30 2 *')).toContain('never fires');
    expect(cronProblem('0 9 * * *', 'Mars/Olympus')).toContain('not an IANA time zone');
    expect(nextCronFire('bogus', 'UTC', new Date())).toBeNull();
  });

  it('fires in the zone: nine in Shanghai is one in UTC; strictly after `after`', () => {
    expect(nextCronFire('0 9 * * *', 'Asia/Shanghai', at('2026-01-01T00:00:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
    expect(nextCronFire('0 9 * * *', 'Asia/Shanghai', at('2026-01-01T01:00:00Z'))).toEqual(at('2026-01-02T01:00:00Z'));
    expect(nextCronFire('0 9 * * 1-5', 'Asia/Shanghai', at('2026-01-02T02:00:00Z'))).toEqual(at('2026-01-05T01:00:00Z'));
    // 02:30 is skipped on 8 March 2026 in New York: the run comes right after the gap
    expect(nextCronFire('30 2 * * *', 'America/New_York', at('2026-03-08T05:00:00Z'))).toEqual(at('2026-03-08T07:00:00Z'));
  });

  // crons built from parts, so the test knows independently which minutes they match
  // `*/step` runs over the field's whole range (day of month to 31), listed values stay below 29
  const field = (min: number, max: number, rangeMax = max) =>
    fc.oneof(
      fc.constant({ text: '*', values: null as number[] | null }),
      fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 }).map((v) => ({ text: v.join(','), values: v })),
      fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((step) => {
        const values: number[] = [];
        for (let v = min; v <= rangeMax; v += step) values.push(v);
        return { text: `*/${step}`, values };
      }),
    );
  const crons = fc.record({ minute: field(0, 59), hour: field(0, 23), dom: field(1, 28, 31), month: field(1, 12), dow: field(0, 6) });

  it('property: the next fire is after `after`, matches the cron, and no earlier minute does', () => {
    fc.assert(
      fc.property(crons, fc.date({ min: at('2000-01-01T00:00:00Z'), max: at('2080-01-01T00:00:00Z'), noInvalidDate: true }), fc.constantFrom('Asia/Shanghai', 'UTC', 'Asia/Kolkata'), (c, after, zone) => {
        const text = [c.minute, c.hour, c.dom, c.month, c.dow].map((f) => f.text).join(' ');
        const matches = (t: number) => {
          const w = wallClockAt(t, zone);
          const ok = (f: { values: number[] | null }, v: number) => f.values === null || f.values.includes(v);
          const dow = new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay();
          // classic cron: when both day fields are restricted, either may match
          const day = c.dom.values !== null && c.dow.values !== null ? ok(c.dom, w.d) || ok(c.dow, dow) : ok(c.dom, w.d) && ok(c.dow, dow);
          return w.s === 0 && w.ms === 0 && ok(c.minute, w.mi) && ok(c.hour, w.h) && ok(c.month, w.m) && day;
        };
        const next = nextCronFire(text, zone, after);
        expect(next).not.toBeNull();
        const t = next!.getTime();
        expect(t).toBeGreaterThan(after.getTime());
        expect(matches(t)).toBe(true);
        const firstMinute = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
        if (t - firstMinute <= 2 * 86_400_000) {
          for (let m = firstMinute; m < t; m += 60_000) expect(matches(m)).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('retry backoff', () => {
  it('doubles from PT10S, capped at an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(undefined, n))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(retryDelayMs({ initialDelay: 'PT1M' }, 3)).toBe(240_000);
    expect(retryDelayMs({ initialDelay: 'PT30M' }, 2)).toBe(HOUR);
    expect(retryDelayMs(undefined, 10_000)).toBe(HOUR);
    expect(retryMaxAttempts(undefined)).toBe(5);
    expect(retryMaxAttempts({ maxAttempts: 2 })).toBe(2);
  });

  it('property: jitter adds at most 20%, is the same for the same key, and never passes the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.string(), (attempt, key) => {
        const plain = retryDelayMs(undefined, attempt);
        const jittered = retryDelayMs(undefined, attempt, key);
        expect(jittered).toBe(retryDelayMs(undefined, attempt, key));
        expect(jittered).toBeGreaterThanOrEqual(plain);
        expect(jittered).toBeLessThanOrEqual(Math.min(HOUR, plain * 1.2));
      }),
    );
  });
});
