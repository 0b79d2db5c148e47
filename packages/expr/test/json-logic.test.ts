import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import jsonLogic from 'json-logic-js';
import { evaluateExpression } from '../src/index';

/**
 * Our operators extend json-logic; on its base operators and well-typed, non-null inputs
 * we must give json-logic-js's answer, so json-logic written elsewhere keeps its meaning.
 * (Where we differ on purpose — null comparisons, code-point order beyond U+FFFF — the
 * inputs here stay out of the way.)
 */
const env = { now: new Date('2024-04-01T00:00:00.000Z') };

const record = fc.record({
  n1: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
  n2: fc.integer({ min: -5, max: 5 }),
  s1: fc.string({ maxLength: 4 }),
  s2: fc.constantFrom('', 'a', 'ab', 'b', 'B'),
  b1: fc.boolean(),
  l1: fc.subarray(['a', 'b', 'c', 'ab']),
});

const num = fc.oneof(fc.constantFrom({ var: 'n1' }, { var: 'n2' }), fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const str = fc.oneof(fc.constantFrom({ var: 's1' }, { var: 's2' }), fc.constantFrom('', 'a', 'ab', 'b', 'B', 'é'), fc.string({ maxLength: 3 }));

const expr: fc.Arbitrary<unknown> = fc.letrec<{ bool: unknown }>((tie) => {
  const compare = (operand: fc.Arbitrary<unknown>) =>
    fc.oneof(
      fc.tuple(fc.constantFrom('==', '!=', '<', '<=', '>', '>='), operand, operand).map(([op, a, b]) => ({ [op]: [a, b] })),
      fc.tuple(fc.constantFrom('<', '<='), operand, operand, operand).map(([op, a, b, c]) => ({ [op]: [a, b, c] })),
    );
  const leaf = fc.oneof(
    compare(num),
    compare(str),
    fc.tuple(fc.constantFrom('==', '!='), fc.oneof(fc.constant({ var: 'b1' }), fc.boolean()), fc.boolean()).map(([op, a, b]) => ({ [op]: [a, b] })),
    fc.tuple(str, fc.array(fc.constantFrom('', 'a', 'ab', 'b'), { maxLength: 3 })).map(([x, list]) => ({ in: [x, list] })),
    fc.tuple(num, fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 })).map(([x, list]) => ({ in: [x, list] })),
    fc.tuple(str, fc.oneof(fc.constant({ var: 'l1' }), str)).map(([x, hay]) => ({ in: [x, hay] })),
    fc.oneof(num, str, fc.constant({ var: 'l1' }), fc.constant({ var: 'b1' })).map((x) => ({ '!!': [x] })),
    fc.constant({ var: 'b1' }),
    fc.boolean(),
  );
  return {
    bool: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.tuple(fc.constantFrom('and', 'or'), fc.array(tie('bool'), { minLength: 1, maxLength: 3 })).map(([op, xs]) => ({ [op]: xs })),
      tie('bool').map((x) => ({ '!': [x] })),
      tie('bool').map((x) => ({ '!': x })),
    ),
  };
}).bool;

describe('agreement with json-logic-js on its own operators', () => {
  it('gives the same answer for random well-typed expressions and records', () => {
    fc.assert(
      fc.property(expr, record, (e, data) => {
        const ours = evaluateExpression(e, data, env);
        const theirs = jsonLogic.apply(e as jsonLogic.RulesLogic, data);
        expect(ours).toBe(theirs);
      }),
      { numRuns: 3000 },
    );
  });
});
