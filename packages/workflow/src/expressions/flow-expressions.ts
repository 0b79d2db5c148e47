import { ProblemError, type AppDocument, type FieldDef, type FieldType, type ObjectDef } from '@tessera/metadata';
import { checkExpression, compileExpression, compileFilterToSql, type EvalEnv, type ExprIssue, type ExprScope, type ExprType, type SqlFragment } from '@tessera/expr';
import type { FlowDef, FlowVariable } from '../model/types';

/**
 * Flow expressions are the app's expression language, checked and compiled by @tessera/expr
 * unchanged. Instance variables are made visible to it as a synthetic relation: the flow's
 * object gets an extra relation field `$vars` pointing to a synthetic object whose fields are
 * the flow's declared variables. So `{"var":"$vars.amount"}` type-checks like any relation
 * path and reads `record.$related.$vars.amount` at run time. `$` never starts a real key
 * (KEY_PATTERN), so the synthetic names cannot collide with the app's.
 */
export const VARS_PREFIX = '$vars';
const VARS_OBJECT_KEY = '$vars';
/** the object of a flow that has none (scheduled or API flows): only `$vars` and system fields */
const NO_OBJECT_KEY = '$flow';

export interface FlowEvalInput {
  /** the flow's record as the API shows it (values by field key, system fields), or null */
  record: Record<string, unknown> | null;
  vars: Record<string, unknown>;
  /** now, timezone, userId (the user the step runs for) */
  env: EvalEnv;
}

export interface CompiledFlowExpression {
  type: ExprType;
  run(input: FlowEvalInput): unknown;
  /** relation paths to preload into record.$related (the `$vars` paths are not among them) */
  paths: string[][];
}

const VARIABLE_FIELD_TYPE: Record<FlowVariable['type'], FieldType> = {
  text: 'text',
  number: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
  list: 'multiselect',
};

function variableField(v: FlowVariable): FieldDef {
  return { key: v.name, type: VARIABLE_FIELD_TYPE[v.type] ?? 'text', label: { en: v.name } };
}

/** The live object a flow is about, or undefined when it names none or an unknown one. */
export function flowObject(app: AppDocument, flow: FlowDef): ObjectDef | undefined {
  return flow.object === undefined ? undefined : app.objects.find((o) => o.key === flow.object && !o.deleted);
}

// one scope per (app document, flow) object pair, so compileExpression's own cache (keyed by
// expression, scope object and app) compiles each expression of a version once
const scopes = new WeakMap<AppDocument, WeakMap<FlowDef, ExprScope>>();

/** the scope a flow's expressions are type-checked in: the flow's object's fields by key, `$vars.<name>` variables, system fields */
export function flowExpressionScope(app: AppDocument, flow: FlowDef): ExprScope {
  let byFlow = scopes.get(app);
  if (!byFlow) scopes.set(app, (byFlow = new WeakMap()));
  const hit = byFlow.get(flow);
  if (hit) return hit;
  const base = flowObject(app, flow) ?? { key: NO_OBJECT_KEY, label: { en: flow.key }, fields: [] };
  const varsField: FieldDef = { key: VARS_PREFIX, type: 'relation', target: VARS_OBJECT_KEY, label: { en: 'Variables' } };
  const object: ObjectDef = { ...base, fields: [...base.fields.filter((f) => f.key !== VARS_PREFIX), varsField] };
  const varsObject: ObjectDef = { key: VARS_OBJECT_KEY, label: { en: 'Variables' }, fields: (flow.variables ?? []).map(variableField) };
  const scope: ExprScope = { object, app: { ...app, objects: [...app.objects, varsObject] } };
  byFlow.set(flow, scope);
  return scope;
}

// expression object -> scope -> expected type -> compiled
const compiledCache = new WeakMap<object, WeakMap<ExprScope, Map<string, CompiledFlowExpression>>>();

function expressionProblem(issues: ExprIssue[]): ProblemError {
  const first = issues[0]!;
  return new ProblemError(
    'unprocessable',
    `Invalid expression: ${first.message}${first.path ? ` (at ${first.path})` : ''}`,
    issues.map((i) => ({ field: i.path ? `expression/${i.path}` : 'expression', code: i.code, message: i.message })),
  );
}

/** Problems with a flow expression (empty when it is fine); formulas context: relation paths and JS-only operators allowed. */
export function checkFlowExpression(app: AppDocument, flow: FlowDef, expr: unknown, expected?: ExprType): ExprIssue[] {
  return checkExpression(expr, flowExpressionScope(app, flow), expected, 'formula').errors;
}

/** type-checks and compiles once (cache by app+flow+expression identity); throws ProblemError naming the problem */
export function compileFlowExpression(app: AppDocument, flow: FlowDef, expr: unknown, expected?: ExprType): CompiledFlowExpression {
  const scope = flowExpressionScope(app, flow);
  const cacheable = typeof expr === 'object' && expr !== null;
  const key = expected ?? '';
  if (cacheable) {
    const hit = compiledCache.get(expr)?.get(scope)?.get(key);
    if (hit) return hit;
  }
  const issues = checkFlowExpression(app, flow, expr, expected);
  if (issues.length > 0) throw expressionProblem(issues);
  const compiled = compileExpression(expr, scope, 'formula');
  const readsVars = compiled.paths.some((p) => p[0] === VARS_PREFIX);
  const result: CompiledFlowExpression = {
    type: compiled.type,
    paths: compiled.paths.filter((p) => p[0] !== VARS_PREFIX),
    run: readsVars ? (input) => compiled.run(withVars(input), input.env) : (input) => compiled.run(input.record ?? {}, input.env),
  };
  if (cacheable) {
    let byScope = compiledCache.get(expr);
    if (!byScope) compiledCache.set(expr, (byScope = new WeakMap()));
    let byExpected = byScope.get(scope);
    if (!byExpected) byScope.set(scope, (byExpected = new Map()));
    byExpected.set(key, result);
  }
  return result;
}

function withVars(input: FlowEvalInput): Record<string, unknown> {
  const record = input.record ?? {};
  const related = record.$related;
  const base = related !== null && typeof related === 'object' ? (related as Record<string, unknown>) : {};
  return { ...record, $related: { ...base, [VARS_PREFIX]: input.vars } };
}

// ---- filters compiled to SQL ------------------------------------------------------------

type VarValue = (name: string, path: string) => unknown;

/** A copy of `filter` whose `{"var":"$vars.x"}` reads are replaced by literals that `value` gives. */
function substituteVars(filter: unknown, value: VarValue, path = ''): unknown {
  if (Array.isArray(filter)) return filter.map((item, i) => substituteVars(item, value, path ? `${path}/${i}` : String(i)));
  if (filter === null || typeof filter !== 'object') return filter;
  const entries = Object.entries(filter as Record<string, unknown>);
  if (entries.length === 1 && entries[0]![0] === 'var') {
    const raw = entries[0]![1];
    const key = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
    if (typeof key === 'string' && key.startsWith(`${VARS_PREFIX}.`)) return value(key.slice(VARS_PREFIX.length + 1), path);
    return filter;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, substituteVars(v, value, path ? `${path}/${k}` : k)]));
}

function isLiteral(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * A missing value as an expression of the variable's type that is NULL in SQL. A bare `null`
 * literal would not do: `{"==": [x, null]}` means "x is empty" and `>` refuses a null
 * literal, whereas the JS closure treats a comparison with a missing variable as false.
 */
const TYPED_NULL: Record<FlowVariable['type'], unknown> = {
  text: { if: [false, '', null] },
  number: { if: [false, 0, null] },
  boolean: { if: [false, false, null] },
  date: { if: [false, { today: [] }, null] },
  datetime: { if: [false, { now: [] }, null] },
  list: [],
};

/** A value stands in for `$vars.x` in SQL only as a literal (or a list of them, for `in`). */
function asLiteral(variable: FlowVariable, path: string, v: unknown): unknown {
  const name = variable.name;
  if (v === undefined || v === null) return TYPED_NULL[variable.type] ?? null;
  if (isLiteral(v)) return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) && v.every(isLiteral)) return v;
  throw new ProblemError('unprocessable', `Variable "${name}" holds a value a filter cannot compare (at ${path || 'the filter root'})`, [
    { field: path ? `filter/${path}` : 'filter', code: 'not_a_literal', message: `"$vars.${name}" must hold text, a number, a boolean, a date or a list of them` },
  ]);
}

function declared(flow: FlowDef, name: string): FlowVariable | undefined {
  return flow.variables?.find((v) => v.name === name);
}

function undeclared(name: string, path: string): ProblemError {
  return new ProblemError('unprocessable', `Unknown variable "$vars.${name}" in the filter`, [
    { field: path ? `filter/${path}` : 'filter', code: 'unknown_variable', message: `"${name}" is not one of the flow's declared variables` },
  ]);
}

/** a filter (queryRecords) whose `$vars.x` / currentUser are substituted by values first, then compiled by the SQL compiler */
export function compileFlowFilterToSql(app: AppDocument, flow: FlowDef, object: ObjectDef, filter: unknown, input: FlowEvalInput): SqlFragment {
  const substituted = substituteVars(filter, (name, path) => {
    const variable = declared(flow, name);
    if (!variable) throw undeclared(name, path);
    return asLiteral(variable, path, input.vars[name]);
  });
  return compileFilterToSql(substituted, { object, app }, input.env);
}

/** A value of each variable type that type-checks as that type, to check a filter before any value exists. */
const PLACEHOLDER: Record<FlowVariable['type'], unknown> = {
  text: 'x',
  number: 0,
  boolean: false,
  date: '2000-01-01',
  datetime: '2000-01-01T00:00:00.000Z',
  list: ['x'],
};

/** Problems with a queryRecords filter against the queried object (empty when it compiles to SQL). */
export function checkFlowFilter(app: AppDocument, flow: FlowDef, object: ObjectDef, filter: unknown): ExprIssue[] {
  const unknown: ExprIssue[] = [];
  const substituted = substituteVars(filter, (name, path) => {
    const v = declared(flow, name);
    if (v) return PLACEHOLDER[v.type] ?? null;
    unknown.push({ path, code: 'unknown_variable', message: `"$vars.${name}" is not one of the flow's declared variables` });
    return null;
  });
  if (unknown.length > 0) return unknown;
  return checkExpression(substituted, { object, app }, 'boolean', 'filter').errors;
}
