import type { FieldError } from '../errors';
import type { AppDocument, FieldDef, ObjectDef } from '../types';

/** Live objects and their live fields by key: what rules, layouts and automations may name. */
export interface DocIndex {
  object(key: string): ObjectDef | undefined;
  field(objectKey: string, fieldKey: string): FieldDef | undefined;
}

export function indexDocument(doc: AppDocument): DocIndex {
  const objects = new Map<string, { object: ObjectDef; fields: Map<string, FieldDef> }>();
  for (const object of doc.objects) {
    if (object.deleted || objects.has(object.key)) continue;
    const fields = new Map<string, FieldDef>();
    for (const field of object.fields) if (!field.deleted && !fields.has(field.key)) fields.set(field.key, field);
    objects.set(object.key, { object, fields });
  }
  return {
    object: (key) => objects.get(key)?.object,
    field: (objectKey, fieldKey) => objects.get(objectKey)?.fields.get(fieldKey),
  };
}

export function err(field: string, code: string, message: string): FieldError {
  return { field, code, message };
}

/** Reports the second and later items with the same key, at `<path>/key`. */
export function checkUniqueKeys(items: readonly { key: string }[], path: string, what: string, errors: FieldError[]): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.key);
    if (first !== undefined) errors.push(err(`${path}/${i}/key`, 'duplicate', `${what} key ${item.key} is already used by ${path}/${first}`));
    else seen.set(item.key, i);
  });
}
