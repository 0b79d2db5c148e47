import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isProblemError } from '@tessera/metadata';
import { checkExpression, compileExpression, evaluateExpression, isCnCreditCode, isCnMobile, isEmail, type EvalEnv } from '../src/index';
import { scope } from './fixture';

const env: EvalEnv = { now: new Date('2024-03-31T16:30:00.000Z'), timezone: 'Asia/Shanghai', userId: 'u1' };
const v = (key: string) => ({ var: key });
/** Both JS interpreters, which must agree; returns their common answer. */
function run(expr: unknown, record: Record<string, unknown> = {}): unknown {
  const reference = evaluateExpression(expr, record, env, scope);
  const compiled = compileExpression(expr, scope).run(record, env);
  expect(compiled).toEqual(reference);
  return compiled;
}

describe('date math', () => {
  it('adds days to dates and 24-hour days to datetimes', () => {
    expect(run({ addDays: [v('close_date'), 30] }, { close_date: '2024-02-15' })).toBe('2024-03-16');
    expect(run({ addDays: ['2024-03-01', -1] })).toBe('2024-02-29');
    expect(run({ addDays: [v('due_at'), 1] }, { due_at: '2024-03-09T15:00:00.000Z' })).toBe('2024-03-10T15:00:00.000Z');
    expect(run({ addDays: [v('close_date'), 3] }, {})).toBeNull();
  });

  it('adds months clamped to the end of shorter months', () => {
    expect(run({ addMonths: ['2024-01-31', 1] })).toBe('2024-02-29');
    expect(run({ addMonths: ['2023-01-31', 1] })).toBe('2023-02-28');
    expect(run({ addMonths: ['2024-03-31', -1] })).toBe('2024-02-29');
    expect(run({ addMonths: ['2024-02-29', 12] })).toBe('2025-02-28');
    expect(run({ addMonths: ['2024-01-31T10:00:00.000Z', 1] })).toBe('2024-02-29T10:00:00.000Z');
  });

  it('diffDays is b - a in calendar days, or whole 24-hour periods for datetimes', () => {
    expect(run({ diffDays: ['2024-02-28', '2024-03-01'] })).toBe(2);
    expect(run({ diffDays: ['2024-03-01', '2024-02-28'] })).toBe(-2);
    expect(run({ diffDays: [v('close_date'), { today: [] }] }, { close_date: '2024-03-25' })).toBe(7); // today is 2024-04-01 in Shanghai
    expect(run({ diffDays: ['2024-01-05T09:00:00.000Z', '2024-01-02T10:00:00.000Z'] })).toBe(-2);
  });

  it('startOf gives the first day of the week (Monday), month, quarter or year; a datetime by its local date', () => {
    expect(run({ startOf: ['2024-04-07', 'week'] })).toBe('2024-04-01');
    expect(run({ startOf: ['2024-05-20', 'month'] })).toBe('2024-05-01');
    expect(run({ startOf: ['2024-05-20', 'quarter'] })).toBe('2024-04-01');
    expect(run({ startOf: ['2024-05-20', 'year'] })).toBe('2024-01-01');
    // 2024-03-31T16:30Z is already April 1st in Shanghai
    expect(run({ startOf: [{ now: [] }, 'month'] })).toBe('2024-04-01');
  });

  it('adding then subtracting days comes back, and diffDays measures it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -20000, max: 20000 }), fc.integer({ min: -3000, max: 3000 }), (offset, n) => {
        const date = new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
        const later = evaluateExpression({ addDays: [date, n] }, {}, env) as string;
        expect(evaluateExpression({ addDays: [later, -n] }, {}, env)).toBe(date);
        expect(evaluateExpression({ diffDays: [date, later] }, {}, env)).toBe(n);
      }),
    );
  });
});

describe('text', () => {
  it('concat (and json-logic cat) joins, treating null as empty', () => {
    expect(run({ concat: [v('title'), '-', v('qty')] }, { title: '合同', qty: 3 })).toBe('合同-3');
    expect(run({ cat: [v('title'), '!'] }, {})).toBe('!');
  });

  it('lower, upper and length count Unicode characters', () => {
    expect(run({ lower: ['ÉCOLE'] })).toBe('école');
    expect(run({ upper: [v('title')] }, { title: 'straße' })).toBe('STRASSE');
    expect(run({ length: ['😀合同'] })).toBe(3);
    expect(run({ length: [v('tags')] }, { tags: ['a', 'b'] })).toBe(2);
    expect(run({ length: [v('title')] }, {})).toBeNull();
  });

  it('substr follows json-logic, counting characters', () => {
    expect(run({ substr: ['jsonlogic', 4] })).toBe('logic');
    expect(run({ substr: ['jsonlogic', -5] })).toBe('logic');
    expect(run({ substr: ['jsonlogic', 0, 1] })).toBe('j');
    expect(run({ substr: ['jsonlogic', 0, -5] })).toBe('json');
    expect(run({ substr: ['😀合同abc', 1, 2] })).toBe('合同');
  });

  it('matches tests a JavaScript regex; an invalid regex is rejected by the checker', () => {
    expect(run({ matches: [v('title'), '^QT-\\d{4}$'] }, { title: 'QT-2024' })).toBe(true);
    expect(run({ matches: [v('title'), '^QT-\\d{4}$'] }, { title: 'qt-2024' })).toBe(false);
    expect(run({ matches: [v('title'), '^QT'] }, {})).toBe(false);
    const errors = checkExpression({ matches: [v('title'), '(unclosed'] }, scope, 'boolean', 'formula').errors;
    expect(errors).toMatchObject([{ path: 'matches/1', code: 'invalid_literal' }]);
  });
});

describe('numbers', () => {
  it('arithmetic is decimal-exact, including currency stored as decimal strings', () => {
    expect(run({ '+': [0.1, 0.2] })).toBe(0.3);
    expect(run({ '*': [v('amount'), 3] }, { amount: '19.99' })).toBe(59.97);
    expect(run({ '-': [v('amount'), v('cost')] }, { amount: '1234567890123.45', cost: '0.05' })).toBe(1234567890123.4);
    expect(run({ '-': [v('qty')] }, { qty: 4 })).toBe(-4);
    expect(run({ '/': [v('amount'), 10] }, { amount: '100.10' })).toBe(10.01);
    expect(run({ '%': [7.5, 2] })).toBe(1.5);
    expect(run({ '/': [1, 0] })).toBeNull();
    expect(run({ '+': [v('qty'), 1] }, {})).toBeNull();
  });

  it('sums of currency values never lose a cent (against exact cent arithmetic)', () => {
    const cents = fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n });
    const text = (c: bigint) => `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, '0')}`;
    fc.assert(
      fc.property(cents, cents, (a, b) => {
        const sum = evaluateExpression({ '+': [v('amount'), v('cost')] }, { amount: text(a), cost: text(b) }, env, scope);
        expect(sum).toBe(Number(text(a + b)));
      }),
      { numRuns: 500 },
    );
  });

  it('round is half away from zero on the decimal as written; abs; min/max skip nulls', () => {
    expect(run({ round: [1.005, 2] })).toBe(1.01);
    expect(run({ round: [-2.5] })).toBe(-3);
    expect(run({ round: [1234.5, -2] })).toBe(1200);
    expect(run({ abs: [-3.5] })).toBe(3.5);
    expect(run({ min: [v('qty'), 5, v('amount')] }, { amount: '2.50' })).toBe(2.5);
    expect(run({ max: [v('close_date'), '2024-01-01'] }, { close_date: '2024-05-01' })).toBe('2024-05-01');
    expect(run({ max: [v('qty')] }, {})).toBeNull();
  });
});

describe('coalesce and if', () => {
  it('coalesce gives the first present value', () => {
    expect(run({ coalesce: [v('title'), v('stage'), 'none'] }, { stage: 'won' })).toBe('won');
    expect(run({ coalesce: [v('title'), 'none'] }, {})).toBe('none');
  });

  it('if chains conditions, with an optional else', () => {
    const tier = { if: [{ '>': [v('amount'), 500000] }, 'key', { '>': [v('amount'), 100000] }, 'large', 'normal'] };
    expect(run(tier, { amount: '600000.00' })).toBe('key');
    expect(run(tier, { amount: '200000.00' })).toBe('large');
    expect(run(tier, { amount: '10.00' })).toBe('normal');
    expect(run({ if: [v('hot'), 1] }, { hot: false })).toBeNull();
  });

  it('the checker rejects branches of different types and non-boolean conditions', () => {
    const errors = checkExpression({ if: [v('qty'), 'a', 1] }, scope, undefined, 'formula').errors;
    expect(errors.map((e) => [e.path, e.code])).toEqual([
      ['if/0', 'not_boolean'],
      ['if/1', 'type_mismatch'],
    ]);
  });
});

describe('validators', () => {
  it('isCnCreditCode accepts real codes and rejects a wrong check digit, charset or length', () => {
    for (const code of ['91350100M000100Y43', '91110000802100433B', '91110108551385082Q', ' 91350100m000100y43 ']) expect(isCnCreditCode(code)).toBe(true);
    for (const code of ['91350100M000100Y44', '91110000802100433A', '9135010OM000100Y43', '91350100M000100Y4', '91350100M000100Y433', '', null]) {
      expect(isCnCreditCode(code)).toBe(false);
    }
  });

  it('any single-character change of a valid credit code is caught', () => {
    const valid = '91350100M000100Y43';
    const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 17 }), fc.constantFrom(...alphabet), (i, c) => {
        fc.pre(valid[i] !== c);
        expect(isCnCreditCode(valid.slice(0, i) + c + valid.slice(i + 1))).toBe(false);
      }),
    );
  });

  it('isCnMobile takes 1[3-9] + 9 digits, +86/86 prefixes, ignoring spaces and dashes', () => {
    for (const p of ['13812345678', '+86 138 1234 5678', '86-199-1234-5678', '+8613812345678']) expect(isCnMobile(p)).toBe(true);
    for (const p of ['12812345678', '1381234567', '138123456789', '010-12345678', '+85213812345678', '138.1234.5678', 'abc']) expect(isCnMobile(p)).toBe(false);
  });

  it('isEmail wants name@domain.tld', () => {
    for (const e of ['a@b.cn', 'first.last+tag@mail.example.com']) expect(isEmail(e)).toBe(true);
    for (const e of ['a@b', 'a b@c.cn', '@b.cn', 'a@.cn', '张三@例子.中国']) expect(isEmail(e)).toBe(false);
  });
});

describe('filter context', () => {
  it('rejects JS-only operators with not_in_sql, naming the path; formulas accept them', () => {
    const cases: unknown[] = [
      { '==': [{ lower: [v('title')] }, 'a'] },
      { matches: [v('title'), 'a'] },
      { '>': [{ '/': [v('amount'), 2] }, 1] },
      { isCnCreditCode: [v('title')] },
      { '<': [v('close_date'), { addDays: [{ today: [] }, v('qty')] }] },
      { '==': [{ startOf: [v('due_at'), 'month'] }, '2024-04-01'] },
    ];
    for (const expr of cases) {
      expect(checkExpression(expr, scope, 'boolean').errors.map((e) => e.code)).toContain('not_in_sql');
      expect(checkExpression(expr, scope, 'boolean', 'formula').errors).toEqual([]);
    }
  });

  it('compileExpression throws an unprocessable problem listing each error path', () => {
    try {
      compileExpression({ and: [{ '<': [v('title'), 5] }, { '==': [v('nope'), 1] }] }, scope);
      expect.unreachable();
    } catch (e) {
      expect(isProblemError(e) && e.kind).toBe('unprocessable');
      if (isProblemError(e)) expect(e.errors.map((x) => [x.field, x.code])).toEqual([
        ['expression/and/0/</1', 'type_mismatch'],
        ['expression/and/1/==/0', 'unknown_field'],
      ]);
    }
  });
});

describe('decimal arithmetic fast path', () => {
  /** An independent reference: the exact decimal of each number's shortest text, in BigInt. */
  function exact(x: number): [bigint, number] {
    const [mantissa, exp = '0'] = String(x).split('e');
    const [int, frac = ''] = mantissa!.split('.');
    const scale = frac.length - Number(exp);
    const c = BigInt(int! + frac);
    return scale >= 0 ? [c, scale] : [c * 10n ** BigInt(-scale), 0];
  }
  /** beyond the largest double, the operators give null */
  const toNum = (c: bigint, s: number) => {
    const n = Number(`${c}e${-s}`);
    return Number.isFinite(n) ? n + 0 : null;
  };
  const norm = (n: number | null) => (n === null ? null : n + 0);
  const decimalish = fc.oneof(
    fc.integer({ min: -1e9, max: 1e9 }).chain((m) => fc.integer({ min: 0, max: 8 }).map((k) => m / 10 ** k)),
    fc.double({ min: -1e12, max: 1e12, noNaN: true }),
    fc.constantFrom(0.1, 0.2, 0.3, 1.005, 19.99, 4503599627370495.5, 1e-7, 123456789.123),
  );

  it('sums, products and quotients equal exact decimal arithmetic rounded once', async () => {
    const { decimalAdd, decimalMul, decimalDiv } = await import('../src/values/decimal');
    fc.assert(
      fc.property(decimalish, decimalish, (a, b) => {
        const [ca, sa] = exact(a);
        const [cb, sb] = exact(b);
        const s = Math.max(sa, sb);
        const x = ca * 10n ** BigInt(s - sa);
        const y = cb * 10n ** BigInt(s - sb);
        expect(norm(decimalAdd(a, b))).toBe(toNum(x + y, s));
        expect(norm(decimalMul(a, b))).toBe(toNum(ca * cb, sa + sb));
        if (y !== 0n) {
          // 60 significant digits then a sticky digit (the implementation uses 40)
          const len = (c: bigint) => (c < 0n ? -c : c).toString().length;
          const digits = 60 + Math.max(0, len(y) - len(x));
          const scaledQ = (x * 10n ** BigInt(digits)) / y;
          const sticky = (x * 10n ** BigInt(digits)) % y === 0n ? 0n : (x < 0n) !== (y < 0n) ? -1n : 1n;
          expect(norm(decimalDiv(a, b))).toBe(toNum(scaledQ * 10n + sticky, digits + 1));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
