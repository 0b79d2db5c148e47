import type { FieldError } from '../errors';
import { isComputed, valueKindOfField, type ValueKind } from '../field-kinds';
import { fieldValueErrors } from '../records/validate-record';
import type { FieldDef, ObjectDef, RollupDef } from '../types';
import { err, type DocIndex } from './doc-index';

/** Settings of computed fields and defaults, checked for a live field of a live object. */
export function checkComputedAndDefaults(field: FieldDef, object: ObjectDef, path: string, index: DocIndex, errors: FieldError[]): void {
  if (isComputed(field) && field.type !== 'autonumber') {
    for (const setting of ['required', 'unique'] as const) {
      if (field[setting]) errors.push(err(`${path}/${setting}`, 'not_applicable', `a ${field.type} field is computed: it cannot be ${setting}`));
    }
  }
  if (field.type === 'formula' && referencesItself(field.formula, field.key)) {
    errors.push(err(`${path}/formula`, 'cycle', `formula of ${field.key} reads ${field.key} itself`));
  }
  if (field.type === 'rollup' && field.rollup) checkRollup(field.rollup, object, `${path}/rollup`, index, errors);
  checkDefaults(field, path, errors);
}

function checkDefaults(field: FieldDef, path: string, errors: FieldError[]): void {
  if (isComputed(field)) return; // reported as not_applicable with the other settings
  if (field.defaultValue !== undefined && field.defaultExpression !== undefined) {
    errors.push(err(`${path}/defaultExpression`, 'conflict', 'give either defaultValue or defaultExpression, not both'));
  }
  if (field.defaultValue === undefined) return;
  for (const problem of fieldValueErrors(field, field.defaultValue)) {
    const message = problem.message.startsWith(`${field.key}: `) ? problem.message.slice(field.key.length + 2) : problem.message;
    errors.push(err(`${path}/defaultValue`, problem.code, `default of ${field.key}: ${message}`));
  }
}

/** Only the trivial cycle: the formula reads its own field. Longer cycles are the expression checker's. */
function referencesItself(expr: unknown, key: string): boolean {
  if (Array.isArray(expr)) return expr.some((e) => referencesItself(e, key));
  if (typeof expr !== 'object' || expr === null) return false;
  for (const [op, args] of Object.entries(expr)) {
    if (op === 'var' && (args === key || (Array.isArray(args) && args[0] === key))) return true;
    if (referencesItself(args, key)) return true;
  }
  return false;
}

const SUMMABLE: readonly ValueKind[] = ['number'];
const ORDERED: readonly ValueKind[] = ['number', 'date', 'datetime'];

/** The child must point here through `via`; what is aggregated must fit the aggregate. */
function checkRollup(rollup: RollupDef, object: ObjectDef, path: string, index: DocIndex, errors: FieldError[]): void {
  const child = index.object(rollup.object);
  if (!child) {
    errors.push(err(`${path}/object`, 'unknown_object', `rollup object ${rollup.object} is not an object of this app`));
    return;
  }
  const via = index.field(child.key, rollup.via);
  if (!via) {
    errors.push(err(`${path}/via`, 'unknown_field', `${rollup.via} is not a field of ${child.key}`));
  } else if (via.type !== 'relation' || via.target !== object.key) {
    errors.push(err(`${path}/via`, 'type', `${child.key}.${rollup.via} must be a relation to ${object.key}`));
  }
  if (rollup.aggregate === 'count') {
    if (rollup.field !== undefined) errors.push(err(`${path}/field`, 'not_applicable', 'count counts child records: it takes no field'));
    return;
  }
  if (rollup.field === undefined) {
    errors.push(err(`${path}/field`, 'required', `${rollup.aggregate} needs the child field to aggregate`));
    return;
  }
  const target = index.field(child.key, rollup.field);
  if (!target) {
    errors.push(err(`${path}/field`, 'unknown_field', `${rollup.field} is not a field of ${child.key}`));
    return;
  }
  const kind = valueKindOfField(target);
  const allowed = rollup.aggregate === 'min' || rollup.aggregate === 'max' ? ORDERED : SUMMABLE;
  if (!allowed.includes(kind)) {
    const wants = allowed === ORDERED ? 'a number, date or datetime' : 'a number';
    errors.push(err(`${path}/field`, 'type', `${rollup.aggregate} needs ${wants} field; ${child.key}.${rollup.field} is ${target.type}`));
  }
}
