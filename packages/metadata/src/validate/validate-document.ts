import type { ValidateFunction } from 'ajv';
import type { FieldError } from '../errors';
import { appDocumentSchema } from '../schema/app-document-schema';
import { sharedAjv } from '../schema/ajv';
import { toFieldErrors } from '../schema/ajv-errors';
import { FIELD_TYPES, SYSTEM_FIELDS, type AppDocument, type FieldDef, type FieldType, type LocalizedText, type ObjectDef } from '../types';
import { checkAutomations } from './automations';
import { checkComputedAndDefaults } from './computed-fields';
import { err, indexDocument, type DocIndex } from './doc-index';
import { checkLayouts } from './layouts';
import { checkObjectRules } from './object-rules';

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  compiled ??= sharedAjv().compile(appDocumentSchema);
  return compiled;
}

/**
 * Structure (JSON Schema) first, then the cross-references a schema cannot express.
 * Semantic checks only run on a structurally valid document, so they can trust its
 * shape; returns [] when the document may be saved as a draft or published.
 */
export function validateAppDocument(doc: unknown): FieldError[] {
  const validate = schemaValidator();
  if (!validate(doc)) return toFieldErrors(validate.errors);
  return semanticErrors(doc as AppDocument);
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

function semanticErrors(doc: AppDocument): FieldError[] {
  const errors: FieldError[] = [];
  const liveObjectKeys = new Map<string, number>();
  doc.objects.forEach((object, i) => {
    if (object.deleted) return;
    const first = liveObjectKeys.get(object.key);
    if (first !== undefined) {
      errors.push(err(`objects/${i}/key`, 'duplicate', `object key ${object.key} is already used by objects/${first}`));
    } else liveObjectKeys.set(object.key, i);
  });
  checkUniqueIds(doc, errors);
  const index = indexDocument(doc);
  doc.objects.forEach((object, i) => checkObject(object, `objects/${i}`, liveObjectKeys, index, errors));
  checkLayouts(doc.layouts ?? [], index, errors);
  checkAutomations(doc.rules ?? [], index, errors, doc.flows ?? []);
  return errors;
}

/** Ids are where values live, so two definitions sharing one would read each other's data. */
function checkUniqueIds(doc: AppDocument, errors: FieldError[]): void {
  const objectIds = new Map<string, string>();
  const fieldIds = new Map<string, string>();
  doc.objects.forEach((object, i) => {
    const path = `objects/${i}`;
    if (object.id !== undefined) claim(objectIds, object.id, `${path}/id`, errors);
    object.fields.forEach((field, j) => {
      if (field.id !== undefined) claim(fieldIds, field.id, `${path}/fields/${j}/id`, errors);
    });
  });
}

function claim(seen: Map<string, string>, id: string, path: string, errors: FieldError[]): void {
  const first = seen.get(id);
  if (first !== undefined) errors.push(err(path, 'duplicate', `id ${id} is already used by ${first}`));
  else seen.set(id, path);
}

function checkObject(object: ObjectDef, path: string, liveObjectKeys: Map<string, number>, index: DocIndex, errors: FieldError[]): void {
  checkLabel(object.label, `${path}/label`, errors);
  if (object.pluralLabel) checkLabel(object.pluralLabel, `${path}/pluralLabel`, errors);
  const liveKeys = new Map<string, number>();
  object.fields.forEach((field, j) => {
    const fieldPath = `${path}/fields/${j}`;
    checkField(field, fieldPath, liveObjectKeys, errors, object.deleted === true);
    if (field.deleted) return;
    // A deleted object's rules are not run, so what they name no longer matters.
    if (!object.deleted) checkComputedAndDefaults(field, object, fieldPath, index, errors);
    const first = liveKeys.get(field.key);
    if (first !== undefined) {
      errors.push(err(`${fieldPath}/key`, 'duplicate', `field key ${field.key} is already used by ${path}/fields/${first}`));
    } else liveKeys.set(field.key, j);
  });
  if (object.titleField !== undefined && !liveKeys.has(object.titleField)) {
    errors.push(err(`${path}/titleField`, 'unknown_field', `titleField ${object.titleField} is not a field of ${object.key}`));
  }
  if (!object.deleted) checkObjectRules(object, path, index, errors);
}

function checkField(field: FieldDef, path: string, liveObjectKeys: Map<string, number>, errors: FieldError[], inDeletedObject: boolean): void {
  checkLabel(field.label, `${path}/label`, errors);
  if (SYSTEM.has(field.key)) {
    errors.push(err(`${path}/key`, 'reserved', `${field.key} is a system field every record already has`));
  }
  if (field.type === 'select' || field.type === 'multiselect') checkOptions(field, path, errors);
  if (field.type === 'relation' && !inDeletedObject) checkTarget(field, path, liveObjectKeys, errors);
  checkApplicable(field, path, errors);
  if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
    errors.push(err(`${path}/max`, 'range', `max ${field.max} is below min ${field.min}`));
  }
}

const NUMERIC: readonly FieldType[] = ['number', 'currency', 'percent'];
/** Types a person enters; computed ones (formula, rollup, autonumber) take no default. */
const INPUT_TYPES: readonly FieldType[] = FIELD_TYPES.filter((t) => t !== 'formula' && t !== 'rollup' && t !== 'autonumber');

/** Settings that only mean something for some types; elsewhere they are a designer's mistake. */
const APPLIES_TO: Partial<Record<keyof FieldDef, readonly FieldType[]>> = {
  options: ['select', 'multiselect'],
  maxLength: ['text', 'longtext'],
  min: NUMERIC,
  max: NUMERIC,
  scale: NUMERIC,
  currency: ['currency'],
  target: ['relation'],
  pattern: ['autonumber'],
  formula: ['formula'],
  resultType: ['formula'],
  rollup: ['rollup'],
  defaultValue: INPUT_TYPES,
  defaultExpression: INPUT_TYPES,
};

/** A unique index over true/false or over a list is never what was meant. */
const NEVER_UNIQUE: readonly FieldType[] = ['boolean', 'multiselect'];

function checkApplicable(field: FieldDef, path: string, errors: FieldError[]): void {
  for (const [setting, types] of Object.entries(APPLIES_TO) as [keyof FieldDef, readonly FieldType[]][]) {
    if (field[setting] !== undefined && !types.includes(field.type)) {
      errors.push(err(`${path}/${setting}`, 'not_applicable', `${setting} does not apply to a ${field.type} field`));
    }
  }
  if (field.unique && NEVER_UNIQUE.includes(field.type)) {
    errors.push(err(`${path}/unique`, 'not_applicable', `a ${field.type} field cannot be unique`));
  }
  if (field.encrypted) checkEncrypted(field, path, errors);
}

/** Text a person enters can be encrypted; ciphertext cannot back an index, a unique check or a text search. */
const ENCRYPTABLE: readonly FieldType[] = ['text', 'longtext', 'email', 'phone', 'url'];

function checkEncrypted(field: FieldDef, path: string, errors: FieldError[]): void {
  if (!ENCRYPTABLE.includes(field.type)) {
    errors.push(err(`${path}/encrypted`, 'not_applicable', `a ${field.type} field cannot be encrypted (only ${ENCRYPTABLE.join(', ')})`));
  }
  if (field.unique) errors.push(err(`${path}/unique`, 'encrypted', 'an encrypted field cannot be unique'));
  if (field.indexed) errors.push(err(`${path}/indexed`, 'encrypted', 'an encrypted field cannot be indexed; exact-match filters use its keyed hash'));
  if (field.searchable === true) errors.push(err(`${path}/searchable`, 'encrypted', 'an encrypted field is found by exact match only, never by text search'));
}

function checkOptions(field: FieldDef, path: string, errors: FieldError[]): void {
  const options = field.options ?? [];
  if (options.length === 0) {
    errors.push(err(`${path}/options`, 'required', `a ${field.type} field needs at least one option`));
    return;
  }
  const seen = new Set<string>();
  options.forEach((option, k) => {
    checkLabel(option.label, `${path}/options/${k}/label`, errors);
    if (seen.has(option.value)) {
      errors.push(err(`${path}/options/${k}/value`, 'duplicate', `option value ${option.value} appears twice`));
    }
    seen.add(option.value);
  });
}

function checkTarget(field: FieldDef, path: string, liveObjectKeys: Map<string, number>, errors: FieldError[]): void {
  // A deleted relation (or one in a deleted object) may point at an object that was deleted too; it is not read.
  if (field.deleted) return;
  if (field.target === undefined) {
    errors.push(err(`${path}/target`, 'required', 'a relation field needs a target object'));
  } else if (!liveObjectKeys.has(field.target)) {
    errors.push(err(`${path}/target`, 'unknown_object', `relation target ${field.target} is not an object of this app`));
  }
}

function checkLabel(label: LocalizedText, path: string, errors: FieldError[]): void {
  if (!label.en?.trim() && !label.zh?.trim()) {
    errors.push(err(path, 'required', 'a label needs an en or zh text'));
  }
}
