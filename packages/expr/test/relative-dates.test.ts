import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isProblemError } from '@tessera/metadata';
import { evaluateExpression, type EvalEnv } from '../src/index';
import { scope } from './fixture';

const v = (key: string) => ({ var: key });

/** The local calendar days among `candidates` that a relative-date operator accepts. */
function acceptedDays(expr: (x: unknown) => unknown, env: EvalEnv, from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (evaluateExpression(expr(v('close_date')), { close_date: day }, env, scope)) days.push(day);
  }
  return days;
}

const span = (days: string[]) => [days[0], days[days.length - 1], days.length];

describe('relative dates in the default zone (Asia/Shanghai)', () => {
  // 16:30 UTC on 31 March is already 00:30 on Monday 1 April in Shanghai
  const env: EvalEnv = { now: new Date('2024-03-31T16:30:00.000Z') };
  const period = (p: string) => acceptedDays((x) => ({ inPeriod: [x, p] }), env, '2023-09-01', '2025-06-30');

  it('today is the local date, not the UTC one', () => {
    expect(evaluateExpression({ today: [] }, {}, env)).toBe('2024-04-01');
    expect(period('today')).toEqual(['2024-04-01']);
    expect(period('yesterday')).toEqual(['2024-03-31']);
  });

  it('months and quarters turn over at local midnight', () => {
    expect(span(period('this_month'))).toEqual(['2024-04-01', '2024-04-30', 30]);
    expect(span(period('last_month'))).toEqual(['2024-03-01', '2024-03-31', 31]);
    expect(span(period('next_month'))).toEqual(['2024-05-01', '2024-05-31', 31]);
    expect(span(period('this_quarter'))).toEqual(['2024-04-01', '2024-06-30', 91]);
    expect(span(period('last_quarter'))).toEqual(['2024-01-01', '2024-03-31', 91]);
    expect(span(period('this_year'))).toEqual(['2024-01-01', '2024-12-31', 366]);
  });

  it('weeks start on Monday', () => {
    expect(span(period('this_week'))).toEqual(['2024-04-01', '2024-04-07', 7]);
    expect(span(period('last_week'))).toEqual(['2024-03-25', '2024-03-31', 7]);
  });

  it('inLast / inNext include today and both ends', () => {
    expect(span(acceptedDays((x) => ({ inLast: [x, 7, 'day'] }), env, '2024-03-01', '2024-04-30'))).toEqual(['2024-03-25', '2024-04-01', 8]);
    expect(span(acceptedDays((x) => ({ inNext: [x, 1, 'week'] }), env, '2024-03-01', '2024-04-30'))).toEqual(['2024-04-01', '2024-04-08', 8]);
    expect(span(acceptedDays((x) => ({ inLast: [x, 0, 'day'] }), env, '2024-03-01', '2024-04-30'))).toEqual(['2024-04-01', '2024-04-01', 1]);
  });

  it('a datetime belongs to the local day it falls on', () => {
    const at = (iso: string, p: string) => evaluateExpression({ inPeriod: [v('due_at'), p] }, { due_at: iso }, env, scope);
    expect(at('2024-03-31T16:00:00.000Z', 'this_month')).toBe(true); // 00:00 on 1 April local
    expect(at('2024-03-31T15:59:59.999Z', 'this_month')).toBe(false);
    expect(at('2024-03-31T15:59:59.999Z', 'last_month')).toBe(true);
    expect(at('2024-04-30T15:59:59.999Z', 'this_month')).toBe(true);
    expect(at('2024-04-30T16:00:00.000Z', 'this_month')).toBe(false);
  });
});

describe('relative dates across ends of months and years', () => {
  it('a month back from the 31st clamps to the end of February (leap year)', () => {
    const env: EvalEnv = { now: new Date('2024-03-31T12:00:00.000Z'), timezone: 'UTC' };
    const days = acceptedDays((x) => ({ inLast: [x, 1, 'month'] }), env, '2024-02-01', '2024-04-30');
    expect(span(days)).toEqual(['2024-02-29', '2024-03-31', 32]);
  });

  it('a quarter ahead of 30 November lands on the last of February', () => {
    const env: EvalEnv = { now: new Date('2023-11-30T12:00:00.000Z'), timezone: 'UTC' };
    const days = acceptedDays((x) => ({ inNext: [x, 1, 'quarter'] }), env, '2023-11-01', '2024-03-31');
    expect(span(days)).toEqual(['2023-11-30', '2024-02-29', 92]);
  });

  it('the last millisecond of a year in Shanghai is still that year; one more is the next', () => {
    const last = { now: new Date('2024-12-31T15:59:59.999Z') };
    const next = { now: new Date('2024-12-31T16:00:00.000Z') };
    const inThisYear = (env: EvalEnv) => evaluateExpression({ inPeriod: ['2024-06-01', 'this_year'] }, {}, env);
    expect(inThisYear(last)).toBe(true);
    expect(inThisYear(next)).toBe(false);
    expect(evaluateExpression({ inPeriod: ['2024-12-31', 'last_year'] }, {}, next)).toBe(true);
    expect(evaluateExpression({ inPeriod: ['2024-10-01', 'last_quarter'] }, {}, next)).toBe(true);
  });
});

describe('relative dates in other zones', () => {
  it('the same instant is a different today in another zone', () => {
    const now = new Date('2024-03-31T16:30:00.000Z');
    expect(evaluateExpression({ today: [] }, {}, { now, timezone: 'UTC' })).toBe('2024-03-31');
    expect(evaluateExpression({ today: [] }, {}, { now, timezone: 'America/New_York' })).toBe('2024-03-31');
    expect(evaluateExpression({ today: [] }, {}, { now, timezone: 'Pacific/Kiritimati' })).toBe('2024-04-01');
  });

  it('a day that is 23 hours long (New York springs forward) ends at its own local midnight', () => {
    const env: EvalEnv = { now: new Date('2024-03-10T12:00:00.000Z'), timezone: 'America/New_York' };
    const today = (iso: string) => evaluateExpression({ inPeriod: [v('due_at'), 'today'] }, { due_at: iso }, env, scope);
    expect(today('2024-03-10T04:59:59.999Z')).toBe(false); // 23:59 EST the day before
    expect(today('2024-03-10T05:00:00.000Z')).toBe(true); // 00:00 EST
    expect(today('2024-03-11T03:59:59.999Z')).toBe(true); // 23:59 EDT
    expect(today('2024-03-11T04:00:00.000Z')).toBe(false);
  });

  it('a day whose midnight does not exist (Santiago) starts at its first instant', () => {
    const env: EvalEnv = { now: new Date('2024-09-08T15:00:00.000Z'), timezone: 'America/Santiago' };
    const today = (iso: string) => evaluateExpression({ inPeriod: [v('due_at'), 'today'] }, { due_at: iso }, env, scope);
    expect(evaluateExpression({ today: [] }, {}, env)).toBe('2024-09-08');
    expect(today('2024-09-08T03:59:59.999Z')).toBe(false);
    expect(today('2024-09-08T04:00:00.000Z')).toBe(true);
  });

  it('every instant is in exactly one local day: today, yesterday and tomorrow partition a 3-day window', () => {
    const zones = ['Asia/Shanghai', 'UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }), fc.integer({ min: -36, max: 36 }), fc.constantFrom(...zones), (now, hours, timezone) => {
        const env: EvalEnv = { now: new Date(now), timezone };
        const due = new Date(now + hours * 3_600_000).toISOString();
        const hits = ['yesterday', 'today', 'tomorrow'].filter((p) => evaluateExpression({ inPeriod: [v('due_at'), p] }, { due_at: due }, env, scope));
        const local = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(new Date(t));
        const dayDiff = (Date.parse(local(now + hours * 3_600_000)) - Date.parse(local(now))) / 86_400_000;
        expect(hits).toEqual(dayDiff === -1 ? ['yesterday'] : dayDiff === 0 ? ['today'] : dayDiff === 1 ? ['tomorrow'] : []);
      }),
      { numRuns: 1000 },
    );
  });

  it('an unknown zone is a bad request, not a crash', () => {
    try {
      evaluateExpression({ today: [] }, {}, { now: new Date(), timezone: 'Mars/Olympus' });
      expect.unreachable();
    } catch (e) {
      expect(isProblemError(e) && e.errors[0]?.field).toBe('timezone');
    }
  });
});
