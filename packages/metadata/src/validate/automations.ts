import type { FieldError } from '../errors';
import { isComputed } from '../field-kinds';
import type { AutomationAction, AutomationRule, Expression, ObjectDef } from '../types';
import { checkUniqueKeys, err, type DocIndex } from './doc-index';

/** Automations name a live object, fields it has, and only write fields a person could write. */
export function checkAutomations(rules: AutomationRule[], index: DocIndex, errors: FieldError[], flows: readonly unknown[] = []): void {
  checkUniqueKeys(rules, 'rules', 'automation', errors);
  rules.forEach((rule, i) => {
    const path = `rules/${i}`;
    const object = index.object(rule.object);
    if (!object) {
      errors.push(err(`${path}/object`, 'unknown_object', `${rule.object} is not an object of this app`));
      return;
    }
    checkChangedFields(rule, object, path, index, errors);
    rule.actions.forEach((action, j) => checkAction(action, rule, object, `${path}/actions/${j}`, index, errors, flows));
  });
}

function checkChangedFields(rule: AutomationRule, object: ObjectDef, path: string, index: DocIndex, errors: FieldError[]): void {
  if (rule.changedFields === undefined) return;
  if (!rule.on.includes('update')) {
    errors.push(err(`${path}/changedFields`, 'not_applicable', 'changedFields only applies to an automation that runs on update'));
  }
  rule.changedFields.forEach((key, j) => {
    if (!index.field(object.key, key)) errors.push(err(`${path}/changedFields/${j}`, 'unknown_field', `${key} is not a field of ${object.key}`));
  });
}

function checkAction(action: AutomationAction, rule: AutomationRule, object: ObjectDef, path: string, index: DocIndex, errors: FieldError[], flows: readonly unknown[]): void {
  switch (action.type) {
    case 'setFields':
      if (rule.on.length === 1 && rule.on[0] === 'delete') {
        errors.push(err(`${path}/type`, 'not_applicable', 'a deleted record cannot have fields set; use createRecord or notify'));
      }
      checkValues(action.values, object, `${path}/values`, index, errors);
      return;
    case 'createRecord': {
      const target = index.object(action.object);
      if (!target) {
        errors.push(err(`${path}/object`, 'unknown_object', `${action.object} is not an object of this app`));
        return;
      }
      checkValues(action.values, target, `${path}/values`, index, errors);
      checkRequiredGiven(action.values, target, `${path}/values`, errors);
      return;
    }
    case 'startFlow':
      checkStartFlow(action.flow, object, `${path}/flow`, flows, errors);
      return;
    case 'createTask':
    case 'notify':
      return; // expressions only: typed by the expression checker
  }
}

/** Targets must be live fields a person could write: computed values are the engine's own. */
function checkValues(values: Record<string, Expression>, object: ObjectDef, path: string, index: DocIndex, errors: FieldError[]): void {
  for (const key of Object.keys(values)) {
    const field = index.field(object.key, key);
    if (!field) errors.push(err(`${path}/${key}`, 'unknown_field', `${key} is not a field of ${object.key}`));
    else if (isComputed(field)) errors.push(err(`${path}/${key}`, 'read_only', `${object.key}.${key} is a ${field.type} field: it is computed and cannot be set`));
  }
}

/** A created record must pass the same required check as any other create. */
function checkRequiredGiven(values: Record<string, Expression>, object: ObjectDef, path: string, errors: FieldError[]): void {
  for (const field of object.fields) {
    if (field.deleted || !field.required || isComputed(field)) continue;
    if (field.defaultValue !== undefined || field.defaultExpression !== undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(values, field.key)) {
      errors.push(err(`${path}/${field.key}`, 'required', `${object.key}.${field.key} is required: give it a value`));
    }
  }
}

/**
 * The flow must be of this app and about this rule's object, since it is started with the
 * record that fired the rule. (The flows section's own shape is checked by the workflow
 * package; only key and object are read here.)
 */
function checkStartFlow(flowKey: string, object: ObjectDef, path: string, flows: readonly unknown[], errors: FieldError[]): void {
  const flow = flows.find((f): f is { key: string; object?: unknown } => typeof f === 'object' && f !== null && (f as { key?: unknown }).key === flowKey);
  if (!flow) {
    errors.push(err(path, 'unknown_flow', `${flowKey} is not a flow of this app`));
    return;
  }
  if (flow.object !== object.key) {
    errors.push(err(path, 'wrong_object', `flow ${flowKey} is about ${typeof flow.object === 'string' ? flow.object : 'no object'}, not ${object.key}`));
  }
}
