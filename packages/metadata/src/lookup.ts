import type { AppDocument, FieldDef, ObjectDef } from './types';

export interface LookupOptions {
  /** Soft-deleted objects and fields are invisible to the API and forms unless asked for. */
  includeDeleted?: boolean;
}

export function findObject(doc: AppDocument, key: string, options: LookupOptions = {}): ObjectDef | undefined {
  return doc.objects.find((o) => o.key === key && (options.includeDeleted || !o.deleted));
}

export function findField(object: ObjectDef, key: string, options: LookupOptions = {}): FieldDef | undefined {
  return object.fields.find((f) => f.key === key && (options.includeDeleted || !f.deleted));
}

/** The fields a record of this object exposes: everything that is not soft-deleted. */
export function liveFields(object: ObjectDef): FieldDef[] {
  return object.fields.filter((f) => !f.deleted);
}

export function liveObjects(doc: AppDocument): ObjectDef[] {
  return doc.objects.filter((o) => !o.deleted);
}

export function findObjectById(doc: AppDocument, id: string): ObjectDef | undefined {
  return doc.objects.find((o) => o.id === id);
}

export function findFieldById(object: ObjectDef, id: string): FieldDef | undefined {
  return object.fields.find((f) => f.id === id);
}
