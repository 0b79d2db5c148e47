import { ProblemError } from '../errors';
import { freshId, newFieldId, newObjectId } from '../ids';
import type { AppDocument, FieldDef, ObjectDef } from '../types';
import { validateAppDocument } from '../validate/validate-document';
import type { ChangePlan } from './change';
import { keepsStoredValues } from './compatibility';
import { diffDocuments } from './diff';
import { pairUp } from './pair-up';
import { renameCollidingDeleted } from './soft-delete-keys';

interface Context {
  version: number;
  /** every id in the previous and the draft document: fresh ids avoid them all */
  takenIds: Set<string>;
  /** field ids anywhere in the previous document, to spot a field id moved to another object */
  previousFieldIds: Set<string>;
  previousTargetId: (key: string | undefined) => string | undefined;
  nextTargetId: (key: string | undefined) => string | undefined;
}

/**
 * Turns a draft into the next published document: every object and field gets an id
 * (kept when the draft carries it or its key matches the previous version), anything
 * that disappears is kept soft-deleted, and a narrowing retype moves the field to a new
 * id while the old one stays soft-deleted under `<key>__v<version>`. The plan is the
 * diff of the result against the previous version, so publish and "show versions"
 * describe changes in the same words.
 */
export function prepareVersion(previous: AppDocument | null, draft: AppDocument, version: number): { document: AppDocument; plan: ChangePlan } {
  if (!Number.isSafeInteger(version) || version < 1) throw new RangeError(`version must be a positive integer, got ${version}`);
  const errors = validateAppDocument(draft);
  if (errors.length > 0) throw new ProblemError('unprocessable', 'Invalid app document', errors);
  const before: AppDocument = previous ?? { objects: [] };
  const next = structuredClone(draft);
  const ctx = context(before, next, version);
  const objects = matchObjects(before, next, ctx);
  const document: AppDocument = { ...next, objects };
  // Publishing a document the runtime cannot read would be worse than failing loudly.
  const broken = validateAppDocument(document);
  if (broken.length > 0) throw new Error(`prepareVersion produced an invalid document: ${JSON.stringify(broken)}`);
  return { document, plan: diffDocuments(before, document) };
}

function context(before: AppDocument, draft: AppDocument, version: number): Context {
  const takenIds = new Set<string>();
  const previousFieldIds = new Set<string>();
  for (const doc of [before, draft]) {
    for (const object of doc.objects) {
      if (object.id) takenIds.add(object.id);
      for (const field of object.fields) {
        if (!field.id) continue;
        takenIds.add(field.id);
        if (doc === before) previousFieldIds.add(field.id);
      }
    }
  }
  const previousLive = new Map(before.objects.filter((o) => !o.deleted).map((o) => [o.key, o.id]));
  return {
    version,
    takenIds,
    previousFieldIds,
    previousTargetId: (key) => (key === undefined ? undefined : previousLive.get(key)),
    nextTargetId: () => undefined, // set once the draft's objects have ids
  };
}

function matchObjects(before: AppDocument, draft: AppDocument, ctx: Context): ObjectDef[] {
  const { pairs, orphans } = pairUp(before.objects, draft.objects);
  const withIds = pairs.map(({ item, prev }) => {
    if (item.deleted && prev) return { object: { ...structuredClone(prev), deleted: true }, prev: undefined, keepAsIs: true };
    const id = prev?.id ?? item.id ?? freshId(newObjectId, ctx.takenIds);
    return { object: { ...item, id }, prev, keepAsIs: false };
  });
  const nextLive = new Map(withIds.filter((w) => !w.object.deleted).map((w) => [w.object.key, w.object.id]));
  ctx.nextTargetId = (key) => (key === undefined ? undefined : nextLive.get(key));
  const objects = withIds.map(({ object, prev, keepAsIs }) => (keepAsIs ? object : { ...object, fields: matchFields(prev, object, ctx) }));
  for (const orphan of orphans) objects.push({ ...structuredClone(orphan), deleted: true });
  return renameCollidingDeleted(objects, ctx.version);
}

function matchFields(prevObject: ObjectDef | undefined, object: ObjectDef, ctx: Context): FieldDef[] {
  const prevFields = prevObject?.fields ?? [];
  const own = new Set(prevFields.map((f) => f.id));
  // A field id that belongs to another object's field would not find its values here.
  const draftFields = object.fields.map((f) => (f.id && !own.has(f.id) && ctx.previousFieldIds.has(f.id) ? { ...f, id: undefined } : f));
  const { pairs, orphans } = pairUp(prevFields, draftFields);
  const fields: FieldDef[] = [];
  const superseded: FieldDef[] = [];
  for (const { item, prev } of pairs) {
    if (item.deleted) {
      fields.push(prev ? { ...prev, deleted: true } : withId(item, ctx));
    } else if (prev && keepsStoredValues(prev, item, ctx.previousTargetId, ctx.nextTargetId)) {
      fields.push({ ...item, id: prev.id });
    } else if (prev) {
      fields.push({ ...item, id: freshId(newFieldId, ctx.takenIds) });
      superseded.push({ ...prev, deleted: true });
    } else fields.push(withId(item, ctx));
  }
  for (const orphan of orphans) fields.push({ ...orphan, deleted: true });
  fields.push(...superseded);
  return renameCollidingDeleted(fields, ctx.version);
}

function withId(field: FieldDef, ctx: Context): FieldDef {
  return field.id ? field : { ...field, id: freshId(newFieldId, ctx.takenIds) };
}
