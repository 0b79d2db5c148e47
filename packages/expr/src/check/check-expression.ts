import type { Expr, ExprContext, ExprIssue, ExprScope, ExprType } from '../types';
import { checkTyped } from './checker';

/**
 * What type an expression yields against an object's fields, and everything wrong with it:
 * unknown fields or operators, wrong arity, mismatched types, a non-boolean where a
 * condition is expected, and — in the default 'filter' context — anything the SQL
 * compiler could not express (code `not_in_sql`).
 */
export function checkExpression(expr: Expr, scope: ExprScope, expected?: ExprType, context: ExprContext = 'filter'): { type: ExprType; errors: ExprIssue[] } {
  const { type, errors } = checkTyped(expr, scope, expected, context);
  return { type, errors };
}
