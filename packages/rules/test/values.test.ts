import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FieldDef, FormulaResultType } from '@tessera/metadata';
import { autonumberPeriod, formatAutonumber, parsePattern, storedForm } from '../src/index';

const localDate = (d: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d).split('-');

describe('autonumber patterns', () => {
  const moment = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true });

  it('format the date parts in the workspace zone and pad the counter, whatever the moment and number', () => {
    const pattern = parsePattern('QT-{YYYY}{MM}-{0000}');
    fc.assert(
      fc.property(moment, fc.integer({ min: 1, max: 10_000_000 }), (now, n) => {
        const [y, m] = localDate(now, 'Asia/Shanghai');
        const text = formatAutonumber(pattern, now, 'Asia/Shanghai', n);
        expect(text).toBe(`QT-${y}${m}-${String(n).padStart(4, '0')}`);
        expect(autonumberPeriod(pattern, now, 'Asia/Shanghai')).toBe(`${y}${m}`);
      }),
    );
  });

  it('restart per period only when the pattern shows a date part', () => {
    // 2024-01-31T16:30Z is already February 1st in Shanghai, still January 31st in UTC
    const edge = new Date('2024-01-31T16:30:00Z');
    const monthly = parsePattern('INV-{YY}{MM}-{000}');
    expect(formatAutonumber(monthly, edge, 'Asia/Shanghai', 7)).toBe('INV-2402-007');
    expect(formatAutonumber(monthly, edge, 'UTC', 7)).toBe('INV-2401-007');
    expect(autonumberPeriod(parsePattern('C-{00000}'), edge, 'Asia/Shanghai')).toBe('');
    // a pattern without a counter gets the number appended
    expect(formatAutonumber(parsePattern('REQ-'), edge, 'UTC', 12)).toBe('REQ-12');
    expect(formatAutonumber(parsePattern('{YYYY}{DD}{0}'), edge, 'UTC', 3)).toBe('2024313');
  });
});

describe('formula results in stored form', () => {
  const field = (resultType: FormulaResultType, scale?: number): FieldDef => ({ key: 'f', type: 'formula', label: { en: 'f' }, resultType, ...(scale === undefined ? {} : { scale }) });
  const anyValue = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.array(fc.string()));

  it('are empty or of the result type, never a crash', () => {
    const kinds: Record<FormulaResultType, (v: unknown) => boolean> = {
      text: (v) => typeof v === 'string' && v !== '',
      number: (v) => typeof v === 'number' && Number.isFinite(v),
      percent: (v) => typeof v === 'number' && Number.isFinite(v),
      currency: (v) => typeof v === 'string' && /^-?\d+\.\d{2}$/.test(v) && v !== '-0.00',
      boolean: (v) => typeof v === 'boolean',
      date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
      datetime: (v) => typeof v === 'string' && new Date(v).toISOString() === v,
    };
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(kinds) as FormulaResultType[])), anyValue, (type, value) => {
        const stored = storedForm(field(type), value);
        if (stored !== undefined) expect(kinds[type](stored)).toBe(true);
      }),
    );
  });

  it('keep money exact at the field scale and numbers at theirs', () => {
    expect(storedForm(field('currency'), '1234.5')).toBe('1234.50');
    expect(storedForm(field('currency', 0), 10.6)).toBe('11');
    expect(storedForm(field('currency'), -0.001)).toBe('0.00');
    expect(storedForm(field('number', 2), 1 / 3)).toBe(0.33);
    expect(storedForm(field('date'), '2024-06-30T16:00:00.000Z')).toBe('2024-06-30');
    expect(storedForm(field('text'), '')).toBeUndefined();
    expect(storedForm(field('boolean'), 'yes')).toBeUndefined();
  });
});
