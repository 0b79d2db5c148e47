import type { FieldError } from '../errors';
import type { FieldDef, FieldType, MatchMethod, ObjectDef } from '../types';
import { checkUniqueKeys, err, type DocIndex } from './doc-index';

/** Validation and duplicate rules of a live object: unique keys, fields that exist and fit. */
export function checkObjectRules(object: ObjectDef, path: string, index: DocIndex, errors: FieldError[]): void {
  const validations = object.validations ?? [];
  checkUniqueKeys(validations, `${path}/validations`, 'validation rule', errors);
  validations.forEach((rule, i) => {
    const rulePath = `${path}/validations/${i}`;
    if (!rule.message.en?.trim() && !rule.message.zh?.trim()) errors.push(err(`${rulePath}/message`, 'required', 'a message needs an en or zh text'));
    (rule.fields ?? []).forEach((key, j) => {
      if (!index.field(object.key, key)) errors.push(err(`${rulePath}/fields/${j}`, 'unknown_field', `${key} is not a field of ${object.key}`));
    });
  });
  const duplicates = object.duplicateRules ?? [];
  checkUniqueKeys(duplicates, `${path}/duplicateRules`, 'duplicate rule', errors);
  duplicates.forEach((rule, i) => {
    const seen = new Set<string>();
    rule.match.forEach((m, j) => {
      const matchPath = `${path}/duplicateRules/${i}/match/${j}`;
      const field = index.field(object.key, m.field);
      if (!field) errors.push(err(`${matchPath}/field`, 'unknown_field', `${m.field} is not a field of ${object.key}`));
      else if (!methodFits(m.method, field)) errors.push(err(`${matchPath}/method`, 'not_applicable', methodMessage(m.method, field)));
      if (seen.has(m.field)) errors.push(err(`${matchPath}/field`, 'duplicate', `${m.field} is matched twice in this rule`));
      seen.add(m.field);
    });
  });
}

const TEXTUAL: readonly FieldType[] = ['text', 'longtext', 'email', 'phone', 'url'];

/** Which field types each match method can normalise; `exact` compares stored values as they are. */
const METHOD_TYPES: Record<Exclude<MatchMethod, 'exact'>, readonly FieldType[]> = {
  normalized: TEXTUAL,
  phone: ['phone', 'text'],
  email: ['email', 'text'],
  company: ['text'],
};

function methodFits(method: MatchMethod, field: FieldDef): boolean {
  if (method === 'exact') return field.type !== 'multiselect';
  return METHOD_TYPES[method].includes(field.type);
}

function methodMessage(method: MatchMethod, field: FieldDef): string {
  if (method === 'exact') return `${field.key} is a multiselect: its lists cannot be matched exactly`;
  return `${method} matching needs a ${METHOD_TYPES[method].join(' or ')} field; ${field.key} is ${field.type}`;
}
