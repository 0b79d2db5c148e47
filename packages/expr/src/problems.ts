import { ProblemError } from '@tessera/metadata';
import type { ExprIssue } from './types';

/** Checker issues as the one error type the server answers with; `field` names the input that held the expression. */
export function invalidExpression(issues: ExprIssue[], field = 'expression'): ProblemError {
  const first = issues[0]!;
  return new ProblemError(
    'bad_request',
    `Invalid ${field}: ${first.message}${first.path ? ` (at ${first.path})` : ''}`,
    issues.map((i) => ({ field, code: i.code, message: i.path ? `at ${i.path}: ${i.message}` : i.message })),
  );
}
