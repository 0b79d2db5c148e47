import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkExpression } from '../src/index';
import { scope } from './fixture';

const v = (key: string) => ({ var: key });

function errorsOf(expr: unknown) {
  return checkExpression(expr, scope, 'boolean').errors;
}

describe('checkExpression accepts', () => {
  it.each([
    [{ '==': [v('stage'), 'won'] }],
    [{ '>=': [v('amount'), 1000] }],
    [{ '<': [v('amount'), v('cost')] }],
    [{ '<': [v('close_date'), '2024-06-30'] }],
    [{ '<': [v('close_date'), { today: [] }] }],
    [{ '>': [v('due_at'), '2024-06-30T16:00:00.000Z'] }],
    [{ '<=': [v('due_at'), { now: [] }] }],
    [{ '==': [v('owner_id'), { currentUser: [] }] }],
    [{ '==': [v('tags'), null] }],
    [{ '!=': [null, v('title')] }],
    [{ in: [v('stage'), ['new', 'won']] }],
    [{ in: ['vip', v('tags')] }],
    [{ contains: [v('tags'), 'vip'] }],
    [{ contains: [v('title'), '合同'] }],
    [{ startsWith: [v('title'), 'A'] }],
    [{ isEmpty: [v('tags')] }],
    [{ between: [v('qty'), 1, 10] }],
    [{ '<': [1, v('qty'), 10] }],
    [{ and: [v('hot'), { '!': v('hot') }, { not: [{ '!!': [v('title')] }] }] }],
    [{ inLast: [v('close_date'), 7, 'day'] }],
    [{ inNext: [v('due_at'), 1, 'quarter'] }],
    [{ inPeriod: [v('created_at'), 'this_month'] }],
    [{ '>': [v('version'), 1] }],
    [true],
  ])('%j', (expr) => {
    expect(errorsOf(expr)).toEqual([]);
  });

  it('says what type a value expression has', () => {
    expect(checkExpression(v('amount'), scope).type).toBe('number');
    expect(checkExpression(v('tags'), scope).type).toBe('list');
    expect(checkExpression({ today: [] }, scope).type).toBe('date');
    expect(checkExpression(v('created_at'), scope).type).toBe('datetime');
    expect(checkExpression('x', scope).type).toBe('text');
  });
});

describe('checkExpression rejects, naming the path', () => {
  it('an unknown field, with its key', () => {
    expect(errorsOf({ and: [true, { '==': [v('nope'), 1] }] })).toEqual([
      { path: 'and/1/==/0', code: 'unknown_field', message: expect.stringContaining('"nope"') },
    ]);
  });

  it('a soft-deleted field as unknown', () => {
    expect(errorsOf({ '==': [v('gone'), 'x'] })[0]?.code).toBe('unknown_field');
  });

  it('an unknown operator, even one named like an Object property', () => {
    expect(errorsOf({ regex: [v('title'), 'a.*'] })).toEqual([{ path: '', code: 'unknown_operator', message: 'Unknown operator "regex"' }]);
    expect(errorsOf({ or: [{ constructor: [] }] })[0]).toMatchObject({ path: 'or/0', code: 'unknown_operator' });
  });

  it('the wrong number of arguments', () => {
    expect(errorsOf({ '==': [v('title')] })[0]).toMatchObject({ path: '', code: 'arity', message: '"==" takes 2 arguments, got 1' });
    expect(errorsOf({ between: [1, 2] })[0]?.code).toBe('arity');
    expect(errorsOf({ and: [] })[0]?.code).toBe('arity');
    expect(errorsOf({ '<': [v('today'), { today: [1] }] }).map((e) => e.code)).toContain('arity');
  });

  it('mismatched types', () => {
    expect(errorsOf({ '<': [v('title'), 5] })[0]).toMatchObject({ path: '</1', code: 'type_mismatch' });
    expect(errorsOf({ '==': [v('qty'), '5'] })[0]?.code).toBe('type_mismatch');
    expect(errorsOf({ '<': [v('close_date'), { now: [] }] })[0]?.code).toBe('type_mismatch');
    expect(errorsOf({ '<': [v('hot'), true] })[0]?.code).toBe('type_mismatch');
    expect(errorsOf({ '==': [v('tags'), 'vip'] })[0]?.code).toBe('type_mismatch');
    expect(errorsOf({ contains: [v('qty'), '1'] })[0]?.code).toBe('type_mismatch');
    expect(errorsOf({ in: [v('qty'), ['1']] })[0]?.code).toBe('type_mismatch');
    expect(errorsOf({ inLast: [v('title'), 7, 'day'] })[0]?.code).toBe('type_mismatch');
  });

  it('date and datetime literals not written the one way they compare correctly', () => {
    expect(errorsOf({ '<': [v('close_date'), '2024-02-30'] })[0]).toMatchObject({ path: '</1', code: 'invalid_literal' });
    const [issue] = errorsOf({ '<': [v('due_at'), '2024-06-30T16:00:00Z'] });
    expect(issue).toMatchObject({ code: 'invalid_literal' });
    expect(issue?.message).toContain('2024-06-30T16:00:00.000Z');
  });

  it('a non-boolean where a condition is expected', () => {
    expect(errorsOf(v('title'))[0]).toMatchObject({ path: '', code: 'not_boolean' });
    expect(errorsOf({ and: [v('hot'), v('qty')] })[0]).toMatchObject({ path: 'and/1', code: 'not_boolean' });
    expect(errorsOf({ '!': [v('title')] })[0]?.code).toBe('not_boolean');
  });

  it('what SQL cannot express', () => {
    expect(errorsOf({ '==': [v('stage'), ['a']] })[0]?.code).toBe('unsupported');
    expect(errorsOf({ in: [v('stage'), [v('title')]] })[0]?.code).toBe('unsupported');
    expect(errorsOf({ '==': [{ var: ['title', 'default'] }, 'x'] })[0]?.code).toBe('unsupported');
    expect(errorsOf({ inLast: [v('close_date'), v('qty'), 'day'] })[0]?.code).toBe('invalid_literal');
    expect(errorsOf({ inLast: [v('close_date'), 7, 'fortnight'] })[0]?.code).toBe('invalid_literal');
    expect(errorsOf({ inPeriod: [v('close_date'), 'this_decade'] })[0]?.code).toBe('invalid_literal');
  });

  it('a dotted json-logic path as an unknown field', () => {
    expect(errorsOf({ '==': [v('company.name'), 'x'] })[0]).toMatchObject({ code: 'unknown_field', message: expect.stringContaining('company.name') });
  });

  it('malformed shapes', () => {
    expect(errorsOf({})[0]?.code).toBe('invalid_expression');
    expect(errorsOf({ '==': [1, 1], '!=': [1, 2] })[0]?.code).toBe('invalid_expression');
    expect(errorsOf({ '<': [v('qty'), Number.NaN] })[0]?.code).toBe('invalid_literal');
    let deep: unknown = true;
    for (let i = 0; i < 500; i++) deep = { '!': [deep] };
    expect(errorsOf(deep)[0]?.code).toBe('too_deep');
  });

  it('never throws on arbitrary JSON, and reports issues with string paths', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => {
        const { errors } = checkExpression(json, scope, 'boolean');
        for (const e of errors) expect(typeof e.path).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});
