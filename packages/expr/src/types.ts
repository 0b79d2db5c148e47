import type { AppDocument, ObjectDef } from '@tessera/metadata';

/** A json-logic style expression as JSON: literals, `{"var": key}`, `{"op": [args]}`. */
export type Expr = unknown;

export type ExprType = 'boolean' | 'number' | 'text' | 'date' | 'datetime' | 'list' | 'null' | 'any';

/** The published object an expression is written against: every live field has an `id`. */
export interface ExprScope {
  object: ObjectDef;
  /** The app the object belongs to; needed to follow relation paths such as `company.industry`. */
  app?: AppDocument;
}

/**
 * Where an expression runs. 'filter' expressions must compile to SQL (views, scopes,
 * rollup filters); 'formula' expressions run as JS closures (formulas, validations,
 * defaults, form behaviour, automations) and may use JS-only operators and relation paths.
 */
export type ExprContext = 'filter' | 'formula';

/** An expression type-checked once and turned into a JS closure. */
export interface CompiledExpression {
  type: ExprType;
  /** `record` is keyed by field key (stored JSON forms) plus system fields; relation paths read `record.$related[relation][field]`. */
  run(record: Record<string, unknown>, env: EvalEnv): unknown;
  /** relation paths the expression reads, e.g. [['company', 'industry']]; the caller pre-loads them into `$related` */
  paths: string[][];
}

/** One problem with an expression. `path` is relative to the expression root, e.g. `and/1/==/0`. */
export interface ExprIssue {
  path: string;
  code: string;
  message: string;
}

/** What "now" means for one evaluation; relative dates are computed from it, never from the DB clock. */
export interface EvalEnv {
  now: Date;
  /** IANA zone deciding what "today" and "this month" are; default Asia/Shanghai. */
  timezone?: string;
  userId?: string;
}

/** A parameterised SQL text: `strings.length === values.length + 1`, like a template-strings array. */
export interface SqlFragment {
  strings: string[];
  values: unknown[];
}

export const DEFAULT_TIMEZONE = 'Asia/Shanghai';
