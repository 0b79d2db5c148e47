/**
 * One error type crosses every package so the server can answer any failure as
 * application/problem+json without knowing where it came from.
 */
export interface FieldError {
  /** JSON-pointer-ish path of the offending input: `amount`, `objects/0/fields/2/key`, `filter` */
  field: string;
  /** machine-readable reason, e.g. `required`, `unknown_field`, `type`, `duplicate` */
  code: string;
  message: string;
}

export type ProblemKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_required'
  | 'payload_too_large'
  | 'unprocessable'
  | 'too_many_requests';

const STATUS: Record<ProblemKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_required: 428,
  payload_too_large: 413,
  unprocessable: 422,
  too_many_requests: 429,
};

export class ProblemError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ProblemKind,
    message: string,
    readonly errors: FieldError[] = [],
    /** extra members for the problem document, e.g. `{ existingId }` or `{ currentVersion }` */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ProblemError';
    this.status = STATUS[kind];
  }
}

export function isProblemError(e: unknown): e is ProblemError {
  return e instanceof ProblemError;
}
