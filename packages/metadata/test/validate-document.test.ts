import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import Ajv2020 from 'ajv/dist/2020';
import { FIELD_TYPES, appDocumentSchema, validateAppDocument, type AppDocument } from '../src';
import { everyFieldTypeDocument, issueExampleDraft } from './fixtures';

function errorsOf(mutate: (doc: AppDocument) => void): { field: string; code: string }[] {
  const doc = issueExampleDraft();
  mutate(doc);
  return validateAppDocument(doc).map(({ field, code }) => ({ field, code }));
}

const deal = (doc: AppDocument) => doc.objects[0]!;

describe('appDocumentSchema', () => {
  test('a typed document using every field type and setting validates', () => {
    expect(validateAppDocument(everyFieldTypeDocument())).toEqual([]);
    expect(validateAppDocument(issueExampleDraft())).toEqual([]);
  });

  test("the schema's field-type enum is exactly FIELD_TYPES", () => {
    expect(appDocumentSchema.$defs.fieldDef.properties.type.enum).toEqual([...FIELD_TYPES]);
  });

  test('is a standalone draft 2020-12 schema another ajv can compile', () => {
    const validate = new Ajv2020({ strict: false }).compile(appDocumentSchema);
    expect(validate(everyFieldTypeDocument())).toBe(true);
    expect(validate({ objects: [{ key: 'x' }] })).toBe(false);
  });
});

describe('validateAppDocument names the path of every problem', () => {
  test.each<[string, (doc: AppDocument) => void, { field: string; code: string }]>([
    ['object key pattern', (d) => (deal(d).key = 'Deal'), { field: 'objects/0/key', code: 'pattern' }],
    ['field key pattern', (d) => (deal(d).fields[2]!.key = '2amount'), { field: 'objects/0/fields/2/key', code: 'pattern' }],
    ['field key too long', (d) => (deal(d).fields[0]!.key = 'a'.repeat(64)), { field: 'objects/0/fields/0/key', code: 'pattern' }],
    ['duplicate object key', (d) => (d.objects[1]!.key = 'deal'), { field: 'objects/1/key', code: 'duplicate' }],
    ['duplicate field key', (d) => (deal(d).fields[2]!.key = 'title'), { field: 'objects/0/fields/2/key', code: 'duplicate' }],
    ['system field key', (d) => (deal(d).fields[1]!.key = 'created_at'), { field: 'objects/0/fields/1/key', code: 'reserved' }],
    ['select without options', (d) => (deal(d).fields[1]!.options = []), { field: 'objects/0/fields/1/options', code: 'required' }],
    ['multiselect without options', (d) => (deal(d).fields[1]! = { key: 'tags', type: 'multiselect', label: { en: 'Tags' } }), { field: 'objects/0/fields/1/options', code: 'required' }],
    [
      'duplicate option value',
      (d) => deal(d).fields[1]!.options!.push({ value: 'new', label: { en: 'Again' } }),
      { field: 'objects/0/fields/1/options/1/value', code: 'duplicate' },
    ],
    ['option without a label text', (d) => (deal(d).fields[1]!.options![0]!.label = {}), { field: 'objects/0/fields/1/options/0/label', code: 'required' }],
    ['relation to a missing object', (d) => (deal(d).fields[3]!.target = 'account'), { field: 'objects/0/fields/3/target', code: 'unknown_object' }],
    ['relation to a deleted object', (d) => (d.objects[1]!.deleted = true), { field: 'objects/0/fields/3/target', code: 'unknown_object' }],
    ['relation without target', (d) => delete deal(d).fields[3]!.target, { field: 'objects/0/fields/3/target', code: 'required' }],
    ['titleField naming no field', (d) => (deal(d).titleField = 'name'), { field: 'objects/0/titleField', code: 'unknown_field' }],
    ['titleField naming a deleted field', (d) => (deal(d).fields[0]!.deleted = true), { field: 'objects/0/titleField', code: 'unknown_field' }],
    ['object label with no text', (d) => (deal(d).label = { en: '  ' }), { field: 'objects/0/label', code: 'required' }],
    ['field label with no text', (d) => (deal(d).fields[0]!.label = {}), { field: 'objects/0/fields/0/label', code: 'required' }],
    ['label in another language', (d) => ((deal(d).label as Record<string, string>).fr = 'Affaire'), { field: 'objects/0/label/fr', code: 'unknown_field' }],
    ['malformed object id', (d) => (deal(d).id = 'O-1'), { field: 'objects/0/id', code: 'pattern' }],
    ['malformed field id', (d) => (deal(d).fields[0]!.id = 'f'), { field: 'objects/0/fields/0/id', code: 'pattern' }],
    [
      'duplicate object id',
      (d) => {
        deal(d).id = 'o_same';
        d.objects[1]!.id = 'o_same';
      },
      { field: 'objects/1/id', code: 'duplicate' },
    ],
    [
      'duplicate field id across objects',
      (d) => {
        deal(d).fields[0]!.id = 'f_same';
        d.objects[1]!.fields[0]!.id = 'f_same';
      },
      { field: 'objects/1/fields/0/id', code: 'duplicate' },
    ],
    ['unknown field type', (d) => ((deal(d).fields[0] as { type: string }).type = 'money'), { field: 'objects/0/fields/0/type', code: 'enum' }],
    ['misspelt setting', (d) => ((deal(d).fields[0] as unknown as Record<string, unknown>).requried = true), { field: 'objects/0/fields/0/requried', code: 'unknown_field' }],
    ['missing field type', (d) => delete (deal(d).fields[0] as Partial<AppDocument['objects'][0]['fields'][0]>).type, { field: 'objects/0/fields/0/type', code: 'required' }],
    ['min above max', (d) => Object.assign(deal(d).fields[2]!, { min: 10, max: 1 }), { field: 'objects/0/fields/2/max', code: 'range' }],
    ['bad currency code', (d) => (deal(d).fields[2]!.currency = 'rmb'), { field: 'objects/0/fields/2/currency', code: 'pattern' }],
    ['negative scale', (d) => (deal(d).fields[2]!.scale = -1), { field: 'objects/0/fields/2/scale', code: 'min' }],
    ['options on a text field', (d) => (deal(d).fields[0]!.options = [{ value: 'a', label: { en: 'A' } }]), { field: 'objects/0/fields/0/options', code: 'not_applicable' }],
    ['target on a text field', (d) => (deal(d).fields[0]!.target = 'company'), { field: 'objects/0/fields/0/target', code: 'not_applicable' }],
    ['min on a text field', (d) => (deal(d).fields[0]!.min = 1), { field: 'objects/0/fields/0/min', code: 'not_applicable' }],
    ['maxLength on a number', (d) => (deal(d).fields[2]!.maxLength = 3), { field: 'objects/0/fields/2/maxLength', code: 'not_applicable' }],
    ['unique boolean', (d) => (deal(d).fields[0]! = { key: 'won', type: 'boolean', unique: true, label: { en: 'Won' } }), { field: 'objects/0/fields/0/unique', code: 'not_applicable' }],
    ['objects not an array', (d) => ((d as unknown as Record<string, unknown>).objects = {}), { field: 'objects', code: 'type' }],
    ['unknown top-level section', (d) => ((d as unknown as Record<string, unknown>).widgets = []), { field: 'widgets', code: 'unknown_field' }],
  ])('%s', (_name, mutate, expected) => {
    expect(errorsOf(mutate)).toContainEqual(expected);
  });

  test('a missing document section is reported at the root', () => {
    expect(validateAppDocument({})).toContainEqual(expect.objectContaining({ field: 'objects', code: 'required' }));
    expect(validateAppDocument(null)).toContainEqual(expect.objectContaining({ field: '', code: 'type' }));
  });

  test('deleted fields may share a key with a live one, and a deleted object may keep a relation to a deleted object', () => {
    expect(
      errorsOf((d) => {
        deal(d).fields.push({ key: 'title', type: 'number', label: { en: 'Old title' }, deleted: true });
        d.objects.push({ key: 'old', label: { en: 'Old' }, deleted: true, fields: [{ key: 'ref', type: 'relation', target: 'gone', label: { en: 'Ref' } }] });
      }),
    ).toEqual([]);
  });

  test('reports every problem at once', () => {
    const errors = errorsOf((d) => {
      deal(d).fields[2]!.key = 'title';
      deal(d).fields[3]!.target = 'nowhere';
      deal(d).titleField = 'nothing';
    });
    expect(errors.map((e) => e.field).sort()).toEqual(['objects/0/fields/2/key', 'objects/0/fields/3/target', 'objects/0/titleField']);
  });
});

describe('validateAppDocument on arbitrary input', () => {
  test('never throws on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(Array.isArray(validateAppDocument(value))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test('never throws on random edits of a valid document, and every error has a path and code', () => {
    const base = everyFieldTypeDocument();
    const paths = collectPaths(base);
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const doc = structuredClone(base) as unknown;
        setAt(doc, path, value);
        for (const error of validateAppDocument(doc)) {
          expect(typeof error.field).toBe('string');
          expect(error.code).toMatch(/^[a-z_]+$/);
          expect(error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

function collectPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const children = Object.keys(value).flatMap((k) => collectPaths((value as Record<string, unknown>)[k], [...prefix, k]));
  return [prefix, ...children];
}

function setAt(root: unknown, path: string[], value: unknown): void {
  if (path.length === 0) return;
  let node = root as Record<string, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}
