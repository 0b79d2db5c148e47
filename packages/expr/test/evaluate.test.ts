import { describe, expect, it } from 'vitest';
import { isProblemError } from '@tessera/metadata';
import { evaluateExpression, type EvalEnv } from '../src/index';
import { scope } from './fixture';

const env: EvalEnv = { now: new Date('2024-03-31T16:30:00.000Z'), userId: 'u1' };
const v = (key: string) => ({ var: key });
const run = (expr: unknown, record: Record<string, unknown> = {}) => evaluateExpression(expr, record, env, scope);

describe('evaluateExpression: missing values', () => {
  it('a comparison with a missing or null value is false, and "!" of it is true', () => {
    for (const record of [{}, { stage: null }]) {
      expect(run({ '==': [v('stage'), 'won'] }, record)).toBe(false);
      expect(run({ '!=': [v('stage'), 'won'] }, record)).toBe(false);
      expect(run({ '<': [v('qty'), 1] }, record)).toBe(false);
      expect(run({ '!': { '!=': [v('stage'), 'won'] } }, record)).toBe(true);
    }
  });

  it('a literal null tests for missing', () => {
    expect(run({ '==': [v('stage'), null] }, {})).toBe(true);
    expect(run({ '==': [null, v('stage')] }, { stage: null })).toBe(true);
    expect(run({ '==': [v('stage'), null] }, { stage: '' })).toBe(false);
    expect(run({ '!=': [v('tags'), null] }, { tags: [] })).toBe(true);
  });

  it('two missing values are not equal to each other', () => {
    expect(run({ '==': [v('amount'), v('cost')] }, {})).toBe(false);
  });

  it('isEmpty covers null, missing, empty text and the empty list', () => {
    expect([{}, { title: null }, { title: '' }].map((r) => run({ isEmpty: [v('title')] }, r))).toEqual([true, true, true]);
    expect(run({ isEmpty: [v('tags')] }, { tags: [] })).toBe(true);
    expect(run({ isEmpty: [v('tags')] }, { tags: ['vip'] })).toBe(false);
    expect(run({ isEmpty: [v('qty')] }, { qty: 0 })).toBe(false);
  });
});

describe('evaluateExpression: values', () => {
  it('compares currency decimal strings as numbers, with each other too', () => {
    expect(run({ '>': [v('amount'), 999.5] }, { amount: '1000.00' })).toBe(true);
    expect(run({ '==': [v('amount'), 1000] }, { amount: '1000.00' })).toBe(true);
    expect(run({ '<': [v('cost'), v('amount')] }, { amount: '10.00', cost: '9.00' })).toBe(true);
    expect(run({ '==': [v('cost'), v('amount')] }, { amount: '1.5', cost: '1.50' })).toBe(true);
    expect(run({ '!!': [v('amount')] }, { amount: '0.00' })).toBe(false);
  });

  it('orders text by code point, like PostgreSQL\'s "C" collation', () => {
    // JS's own < says the opposite: it compares UTF-16 units, and U+FF01 > U+D83D
    expect('\uff01' < '😀').toBe(false);
    expect(run({ '<': [v('title'), '😀'] }, { title: '\uff01' })).toBe(true);
    expect(run({ '<': [v('title'), 'a'] }, { title: 'B' })).toBe(true);
    expect(run({ '<': [v('title'), '北京'] }, { title: '上海' })).toBe(true); // 上 U+4E0A < 北 U+5317
  });

  it('between is inclusive at both ends', () => {
    expect([0, 1, 5, 10, 11].map((qty) => run({ between: [v('qty'), 1, 10] }, { qty }))).toEqual([false, true, true, true, false]);
  });

  it('in: one of a literal list, list membership, substring', () => {
    expect(run({ in: [v('stage'), ['new', 'won']] }, { stage: 'won' })).toBe(true);
    expect(run({ in: [v('stage'), []] }, { stage: 'won' })).toBe(false);
    expect(run({ in: ['vip', v('tags')] }, { tags: ['vip', 'renewal'] })).toBe(true);
    expect(run({ in: ['vip', v('tags')] }, {})).toBe(false);
    expect(run({ in: ['合同', v('title')] }, { title: '采购合同 2024' })).toBe(true);
  });

  it('contains and startsWith are case-sensitive', () => {
    expect(run({ contains: [v('title'), 'Con'] }, { title: 'Big Contract' })).toBe(true);
    expect(run({ contains: [v('title'), 'con'] }, { title: 'Big Contract' })).toBe(false);
    expect(run({ contains: [v('tags'), 'vip'] }, { tags: ['vip'] })).toBe(true);
    expect(run({ startsWith: [v('title'), 'Big'] }, { title: 'Big Contract' })).toBe(true);
    expect(run({ startsWith: [v('title'), 'big'] }, { title: 'Big Contract' })).toBe(false);
  });

  it('reads system fields and the current user', () => {
    const record = { version: 3, created_at: '2024-03-01T00:00:00.000Z', owner_id: 'u1' };
    expect(run({ '>': [v('version'), 2] }, record)).toBe(true);
    expect(run({ '<': [v('created_at'), { now: [] }] }, record)).toBe(true);
    expect(run({ '==': [v('owner_id'), { currentUser: [] }] }, record)).toBe(true);
    expect(evaluateExpression({ '==': [v('owner_id'), { currentUser: [] }] }, record, { now: env.now })).toBe(false);
  });

  it('returns values for value expressions', () => {
    expect(run({ today: [] })).toBe('2024-04-01');
    expect(run({ now: [] })).toBe('2024-03-31T16:30:00.000Z');
    expect(run(v('title'), { title: 'x' })).toBe('x');
  });

  it('without a scope still treats a currency string as a number next to a number', () => {
    expect(evaluateExpression({ '>': [v('amount'), 5] }, { amount: '10.00' }, env)).toBe(true);
  });

  it('throws a ProblemError, not a crash, on a malformed expression', () => {
    for (const bad of [{ nope: [] }, {}, { var: 5 }]) {
      try {
        run(bad);
        expect.unreachable();
      } catch (e) {
        expect(isProblemError(e)).toBe(true);
      }
    }
  });
});
