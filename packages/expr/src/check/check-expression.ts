import type { Expr, ExprIssue, ExprScope, ExprType } from '../types';
import { checkTyped } from './checker';

/**
 * What type an expression yields against an object's fields, and everything wrong with it:
 * unknown fields or operators, wrong arity, mismatched types, a non-boolean where a
 * condition is expected, and anything the SQL compiler could not express.
 */
export function checkExpression(expr: Expr, scope: ExprScope, expected?: ExprType): { type: ExprType; errors: ExprIssue[] } {
  const { type, errors } = checkTyped(expr, scope, expected);
  return { type, errors };
}
