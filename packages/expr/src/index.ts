export type { Expr, ExprType, ExprScope, ExprIssue, EvalEnv, SqlFragment } from './types';
export { DEFAULT_TIMEZONE } from './types';
export { OPERATORS, DATE_UNITS, PERIODS, type DateUnit, type Period } from './syntax/operators';
export { checkExpression } from './check/check-expression';
export { evaluateExpression } from './evaluate/evaluate';
export { compileFilterToSql } from './sql/compile';
export { fieldSqlExpression, systemFieldSqlExpression } from './sql/fields';
