import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  FIELD_TYPES,
  ID_PATTERN,
  ProblemError,
  diffDocuments,
  findField,
  findObject,
  isLosslessRetype,
  prepareVersion,
  validateAppDocument,
  type AppDocument,
  type FieldDef,
  type FieldType,
  type FormulaResultType,
  type ObjectDef,
} from '../src';
import { issueExampleDraft } from './fixtures';

function publish(previous: AppDocument | null, draft: AppDocument, version: number) {
  const result = prepareVersion(previous, draft, version);
  expect(validateAppDocument(result.document)).toEqual([]);
  return result;
}

const obj = (doc: AppDocument, key: string): ObjectDef => findObject(doc, key, { includeDeleted: true })!;
const fld = (doc: AppDocument, object: string, key: string): FieldDef => findField(obj(doc, object), key, { includeDeleted: true })!;
const kinds = (plan: { changes: { kind: string; field?: string }[] }) => plan.changes.map((c) => [c.kind, c.field ?? null]);
const strippedIds = (doc: AppDocument): AppDocument => ({
  ...doc,
  objects: doc.objects.map(({ id: _o, ...o }) => ({ ...o, fields: o.fields.map(({ id: _f, ...f }) => f) })),
});

describe('prepareVersion: the issue example', () => {
  test('assigns ids of the documented shape and plans the additions', () => {
    const { document, plan } = publish(null, issueExampleDraft(), 1);
    const deal = obj(document, 'deal');
    expect(deal.id).toMatch(/^o_[a-z0-9]{10}$/);
    for (const field of deal.fields) expect(field.id).toMatch(/^f_[a-z0-9]{10}$/);
    expect(deal.fields.map((f) => f.key)).toEqual(['title', 'stage', 'amount', 'company']);
    expect(kinds(plan)).toEqual([
      ['object_added', null],
      ['object_added', null],
    ]);
    expect(plan.lossless).toBe(true);
  });

  test('does not modify the draft it is given', () => {
    const draft = issueExampleDraft();
    const copy = structuredClone(draft);
    publish(null, draft, 1);
    expect(draft).toEqual(copy);
  });

  test('republishing the same document changes nothing', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const again = publish(v1, v1, 2);
    expect(again.document).toEqual(v1);
    expect(again.plan).toEqual({ changes: [], lossless: true });
    // a draft without ids matches by key to the same ids
    expect(publish(v1, strippedIds(v1), 2).document).toEqual(v1);
  });

  test('rejects an invalid draft with every problem', () => {
    const draft = issueExampleDraft();
    draft.objects[0]!.fields[1]!.key = 'title';
    draft.objects[0]!.fields[3]!.target = 'nobody';
    try {
      prepareVersion(null, draft, 1);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProblemError);
      expect((e as ProblemError).kind).toBe('unprocessable');
      expect((e as ProblemError).errors.map((x) => x.field)).toEqual(['objects/0/fields/1/key', 'objects/0/fields/3/target']);
    }
  });
});

describe('prepareVersion: ids are stable', () => {
  test('renaming a field key keeps its id and is planned as a rename', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    fld(draft, 'deal', 'amount').key = 'value';
    const { document, plan } = publish(v1, draft, 2);
    expect(fld(document, 'deal', 'value').id).toBe(fld(v1, 'deal', 'amount').id);
    expect(findField(obj(document, 'deal'), 'amount', { includeDeleted: true })).toBeUndefined();
    expect(plan.changes).toEqual([expect.objectContaining({ kind: 'field_renamed', object: 'deal', field: 'value', from: 'amount', to: 'value' })]);
    expect(plan.lossless).toBe(true);
  });

  test('renaming an object keeps its id, and relations to it are not a retype', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    obj(draft, 'company').key = 'account';
    fld(draft, 'deal', 'company').target = 'account';
    const { document, plan } = publish(v1, draft, 2);
    expect(obj(document, 'account').id).toBe(obj(v1, 'company').id);
    expect(fld(document, 'deal', 'company').id).toBe(fld(v1, 'deal', 'company').id);
    expect(kinds(plan)).toEqual([
      ['field_changed', 'company'],
      ['object_renamed', null],
    ]);
    expect(plan.lossless).toBe(true);
  });

  test('deleting a field keeps it soft-deleted; re-adding the key restores the same id', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const amountId = fld(v1, 'deal', 'amount').id;
    const draft = structuredClone(v1);
    obj(draft, 'deal').fields = obj(draft, 'deal').fields.filter((f) => f.key !== 'amount');
    const v2 = publish(v1, draft, 2);
    expect(fld(v2.document, 'deal', 'amount')).toMatchObject({ id: amountId, deleted: true, type: 'currency' });
    expect(findField(obj(v2.document, 'deal'), 'amount')).toBeUndefined();
    expect(v2.plan.lossless).toBe(false);
    expect(v2.plan.changes).toEqual([expect.objectContaining({ kind: 'field_removed', field: 'amount', lossy: true })]);
    expect(v2.plan.changes[0]!.note).toContain(amountId);

    // the designer re-adds a field with key amount (no id): same id, restored
    const readd = structuredClone(v2.document);
    obj(readd, 'deal').fields.push({ key: 'amount', type: 'currency', label: { en: 'Amount again' } });
    const v3 = publish(v2.document, readd, 3);
    expect(fld(v3.document, 'deal', 'amount')).toMatchObject({ id: amountId, label: { en: 'Amount again' } });
    expect(fld(v3.document, 'deal', 'amount').deleted).toBeFalsy();
    expect(obj(v3.document, 'deal').fields.filter((f) => f.id === amountId)).toHaveLength(1);
    expect(kinds(v3.plan)).toContainEqual(['field_restored', 'amount']);

    // or clears the deleted flag
    const cleared = structuredClone(v2.document);
    delete fld(cleared, 'deal', 'amount').deleted;
    const v3b = publish(v2.document, cleared, 3);
    expect(fld(v3b.document, 'deal', 'amount')).toMatchObject({ id: amountId });
    expect(kinds(v3b.plan)).toEqual([['field_restored', 'amount']]);
  });

  test('a narrowing retype gets a new id and keeps the old one soft-deleted under <key>__v<N>', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    fld(draft, 'deal', 'title').type = 'number';
    const { document, plan } = publish(v1, draft, 7);
    const oldId = fld(v1, 'deal', 'title').id!;
    const live = findField(obj(document, 'deal'), 'title')!;
    expect(live.type).toBe('number');
    expect(live.id).not.toBe(oldId);
    expect(live.id).toMatch(ID_PATTERN);
    expect(fld(document, 'deal', 'title__v7')).toMatchObject({ id: oldId, type: 'text', deleted: true });
    expect(plan.lossless).toBe(false);
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: 'field_retyped',
        field: 'title',
        from: 'text',
        to: 'number',
        note: expect.stringContaining(`field title retyped text -> number: old values kept under field id ${oldId} (soft-deleted as title__v7)`),
      }),
    ]);
  });

  test('a widening retype keeps the id (text -> longtext, number -> percent, date -> text)', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    fld(draft, 'deal', 'title').type = 'longtext';
    fld(draft, 'deal', 'amount').type = 'text';
    const { document, plan } = publish(v1, draft, 2);
    expect(fld(document, 'deal', 'title').id).toBe(fld(v1, 'deal', 'title').id);
    expect(fld(document, 'deal', 'amount').id).toBe(fld(v1, 'deal', 'amount').id);
    expect(plan.lossless).toBe(true);
    expect(kinds(plan)).toEqual([
      ['field_retyped', 'title'],
      ['field_retyped', 'amount'],
    ]);
  });

  test('retargeting a relation to another object is narrowing: its uuids point at the old object', () => {
    const draft = issueExampleDraft();
    draft.objects.push({ key: 'person', label: { en: 'Person' }, fields: [] });
    const v1 = publish(null, draft, 1).document;
    const next = structuredClone(v1);
    fld(next, 'deal', 'company').target = 'person';
    const { document } = publish(v1, next, 2);
    expect(fld(document, 'deal', 'company').id).not.toBe(fld(v1, 'deal', 'company').id);
    expect(fld(document, 'deal', 'company__v2')).toMatchObject({ id: fld(v1, 'deal', 'company').id, target: 'company', deleted: true });
  });

  test('a removed object is kept soft-deleted with its fields and restored by re-adding its key', () => {
    const draft = issueExampleDraft();
    draft.objects.push({ key: 'memo', label: { en: 'Memo' }, fields: [{ key: 'body', type: 'longtext', label: { en: 'Body' } }] });
    const v1 = publish(null, draft, 1).document;
    const without = structuredClone(v1);
    without.objects = without.objects.filter((o) => o.key !== 'memo');
    const v2 = publish(v1, without, 2);
    expect(obj(v2.document, 'memo')).toMatchObject({ id: obj(v1, 'memo').id, deleted: true, fields: obj(v1, 'memo').fields });
    expect(findObject(v2.document, 'memo')).toBeUndefined();
    expect(kinds(v2.plan)).toEqual([['object_removed', null]]);
    expect(v2.plan.lossless).toBe(false);

    const readd = structuredClone(v2.document);
    readd.objects = readd.objects.filter((o) => o.key !== 'memo');
    readd.objects.push({ key: 'memo', label: { en: 'Memo' }, fields: [{ key: 'body', type: 'longtext', label: { en: 'Body' } }] });
    const v3 = publish(v2.document, readd, 3);
    expect(obj(v3.document, 'memo').id).toBe(obj(v1, 'memo').id);
    expect(fld(v3.document, 'memo', 'body').id).toBe(fld(v1, 'memo', 'body').id);
    expect(kinds(v3.plan)).toEqual([['object_restored', null]]);
  });

  test('a new field next to a deleted one it does not claim moves the deleted one aside', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    fld(draft, 'deal', 'amount').deleted = true;
    const v2 = publish(v1, draft, 2).document;
    // the draft keeps the deleted amount (with its id) and adds an unrelated amount of another type
    const next = structuredClone(v2);
    obj(next, 'deal').fields.push({ key: 'amount', type: 'number', label: { en: 'Amount (number)' } });
    const { document, plan } = publish(v2, next, 3);
    expect(findField(obj(document, 'deal'), 'amount')).toMatchObject({ type: 'number' });
    expect(findField(obj(document, 'deal'), 'amount')!.id).not.toBe(fld(v1, 'deal', 'amount').id);
    expect(fld(document, 'deal', 'amount__v3')).toMatchObject({ id: fld(v1, 'deal', 'amount').id, deleted: true });
    expect(kinds(plan)).toEqual([['field_added', 'amount']]);
  });

  test('a field moved to another object gets a fresh id: its values stay with the old object', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    const moved = fld(v1, 'company', 'name');
    obj(draft, 'company').fields = [];
    obj(draft, 'deal').fields.push({ ...moved, key: 'company_name' });
    const { document, plan } = publish(v1, draft, 2);
    expect(fld(document, 'deal', 'company_name').id).not.toBe(moved.id);
    expect(fld(document, 'company', 'name')).toMatchObject({ id: moved.id, deleted: true });
    expect(kinds(plan)).toEqual([
      ['field_added', 'company_name'],
      ['field_removed', 'name'],
    ]);
  });
});

describe('diffDocuments', () => {
  test('a rollback over a narrowing retype is described as the reverse retype', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    fld(draft, 'deal', 'title').type = 'number';
    const v2 = publish(v1, draft, 2).document;
    const back = diffDocuments(v2, v1);
    expect(back.changes).toEqual([expect.objectContaining({ kind: 'field_retyped', field: 'title', from: 'number', to: 'text' })]);
    expect(back.changes[0]!.note).toContain('not in this version');
    expect(back.lossless).toBe(false);
  });

  test('label and option edits are field_changed, with removed options called out', () => {
    const v1 = publish(null, issueExampleDraft(), 1).document;
    const draft = structuredClone(v1);
    fld(draft, 'deal', 'stage').options = [{ value: 'won', label: { en: 'Won', zh: '赢单' } }];
    obj(draft, 'deal').label = { zh: '交易', en: 'Deal' }; // same text, other key order: no change
    const { plan } = publish(v1, draft, 2);
    expect(plan.changes).toEqual([expect.objectContaining({ kind: 'field_changed', field: 'stage' })]);
    expect(plan.changes[0]!.note).toContain('options removed: new');
  });
});

describe('prepareVersion properties', () => {
  const keys = fc.constantFrom('a', 'b', 'c', 'd', 'name', 'amount');
  const fieldArb = fc.record({
    key: keys,
    // a rollup needs a child object pointing back; formulas stand in for computed fields here
    type: fc.constantFrom<FieldType>(...FIELD_TYPES.filter((t) => t !== 'rollup')),
    resultType: fc.constantFrom<FormulaResultType>('text', 'number', 'percent', 'currency', 'date'),
    deleted: fc.boolean(),
  });
  const objectArb = fc.record({
    key: fc.constantFrom('deal', 'company', 'memo'),
    deleted: fc.boolean(),
    fields: fc.uniqueArray(fieldArb, { selector: (f) => f.key, maxLength: 6 }),
  });
  const docArb = fc.uniqueArray(objectArb, { selector: (o) => o.key, maxLength: 3 }).map((objects) => toDocument(objects));

  function toDocument(objects: { key: string; deleted: boolean; fields: { key: string; type: FieldType; resultType: FormulaResultType; deleted: boolean }[] }[]): AppDocument {
    const live = objects.find((o) => !o.deleted)?.key;
    return {
      objects: objects.map((o) => ({
        key: o.key,
        label: { en: o.key },
        ...(o.deleted ? { deleted: true } : {}),
        fields: o.fields
          .map((f) => ({ ...f, type: f.type === 'relation' && !live ? ('text' as const) : f.type }))
          .map((f) => ({
            key: f.key,
            type: f.type,
            label: { zh: f.key },
            ...(f.deleted ? { deleted: true } : {}),
            ...(f.type === 'select' || f.type === 'multiselect' ? { options: [{ value: 'x', label: { en: 'X' } }] } : {}),
            ...(f.type === 'relation' ? { target: live } : {}),
            ...(f.type === 'formula' ? { formula: { '!!': [1] }, resultType: f.resultType } : {}),
          })),
      })),
    };
  }

  const ids = (doc: AppDocument) => doc.objects.flatMap((o) => [o.id, ...o.fields.map((f) => f.id)]);

  test('publishing any sequence of drafts never drops an id, never changes a type under an id, and stays valid', () => {
    fc.assert(
      fc.property(fc.array(docArb, { minLength: 1, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (drafts, keepIds) => {
        let previous: AppDocument | null = null;
        drafts.forEach((draft, i) => {
          // sometimes the designer edits the published document (ids kept), sometimes sends keys only
          const input = keepIds[i] && previous ? mergeInto(previous, draft) : draft;
          const { document, plan } = publish(previous, input, i + 1);
          for (const object of document.objects) {
            expect(object.id).toMatch(ID_PATTERN);
            for (const field of object.fields) expect(field.id).toMatch(ID_PATTERN);
          }
          if (previous) {
            const after = new Set(ids(document));
            for (const id of ids(previous)) expect(after.has(id)).toBe(true);
            for (const object of previous.objects) {
              const now = document.objects.find((o) => o.id === object.id)!;
              for (const field of object.fields) {
                const same = now.fields.find((f) => f.id === field.id)!;
                expect(isLosslessRetype(field.type, same.type)).toBe(true);
                // a formula's values under one id stay readable as its result type
                if (field.type === 'formula' && same.type === 'formula') expect(isLosslessRetype(field.resultType!, same.resultType!)).toBe(true);
              }
            }
            expect(plan.lossless).toBe(!plan.changes.some((c) => c.lossy));
          }
          expect(publish(document, document, i + 2).plan.changes).toEqual([]);
          previous = document;
        });
      }),
      { numRuns: 300 },
    );
  });

  /** The draft's objects and fields, carrying the published ids of same-keyed items. */
  function mergeInto(published: AppDocument, draft: AppDocument): AppDocument {
    return {
      objects: draft.objects.map((o) => {
        const was = published.objects.find((p) => p.key === o.key);
        return {
          ...o,
          ...(was ? { id: was.id } : {}),
          fields: o.fields.map((f) => {
            const id = was?.fields.find((p) => p.key === f.key)?.id;
            return id ? { ...f, id } : f;
          }),
        };
      }),
    };
  }
});
