import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ProblemError, recordJsonSchema, toApiRecord, validateRecordInput, type ObjectDef } from '../src';
import { everyFieldTypeDocument } from './fixtures';

const quote = (): ObjectDef => everyFieldTypeDocument().objects[0]!;
const QUOTE = quote();
const UUID = '0190f5b2-7c1e-7cc0-8a55-5b7c2f9d1e01';

function problems(input: unknown, mode: 'create' | 'update' = 'update', object: ObjectDef = QUOTE): { field: string; code: string }[] {
  try {
    validateRecordInput(object, input, mode);
  } catch (e) {
    expect(e).toBeInstanceOf(ProblemError);
    expect((e as ProblemError).kind).toBe('unprocessable');
    return (e as ProblemError).errors.map(({ field, code }) => ({ field, code }));
  }
  return [];
}

function accepted(input: Record<string, unknown>, mode: 'create' | 'update' = 'update'): Record<string, unknown> {
  return toApiRecord(QUOTE, validateRecordInput(QUOTE, input, mode));
}

describe('validateRecordInput: values are stored by field id', () => {
  test('a full create returns normalised values keyed by id', () => {
    const stored = validateRecordInput(
      QUOTE,
      {
        name: '上海华为技术有限公司 — 年度框架协议',
        notes: '第一行\n第二行 ✓',
        quantity: 3,
        total: '1234.5',
        discount: 12.5,
        approved: false,
        valid_until: '2024-02-29',
        sent_at: '2024-05-01T16:30:00+08:00',
        status: 'sent',
        tags: ['vip', 'new'],
        email: 'zhang.san@example.com.cn',
        phone: '+86 138 1234 5678',
        website: 'https://example.com/a?b=c',
        account: UUID.toUpperCase(),
        reviewer: UUID,
      },
      'create',
    );
    expect(stored).toEqual({
      f_text000001: '上海华为技术有限公司 — 年度框架协议',
      f_long000001: '第一行\n第二行 ✓',
      f_numb000001: 3,
      f_curr000001: '1234.50',
      f_perc000001: 12.5,
      f_bool000001: false,
      f_date000001: '2024-02-29',
      f_dtim000001: '2024-05-01T08:30:00.000Z',
      f_sele000001: 'sent',
      f_mult000001: ['vip', 'new'],
      f_emai000001: 'zhang.san@example.com.cn',
      f_phon000001: '+86 138 1234 5678',
      f_urls000001: 'https://example.com/a?b=c',
      f_rela000001: UUID,
      f_user000001: UUID,
    });
  });

  test('create enforces required fields; update does not', () => {
    expect(problems({ notes: 'x' }, 'create')).toEqual([{ field: 'name', code: 'required' }]);
    expect(problems({ name: '' }, 'create')).toEqual([{ field: 'name', code: 'required' }]);
    expect(accepted({ notes: 'x' }, 'update')).toEqual({ notes: 'x' });
  });

  test('null clears an optional field but not a required one', () => {
    expect(accepted({ notes: null, total: null, tags: null, status: null })).toEqual({ notes: null, total: null, tags: null, status: null });
    expect(problems({ name: null })).toEqual([{ field: 'name', code: 'required' }]);
  });

  test('unknown, deleted, system and autonumber keys are rejected', () => {
    expect(problems({ nmae: 'x', legacy: 'y', id: UUID, created_at: '2024-01-01T00:00:00Z', number: 'QT-1' })).toEqual([
      { field: 'nmae', code: 'unknown_field' },
      { field: 'legacy', code: 'unknown_field' },
      { field: 'id', code: 'read_only' },
      { field: 'created_at', code: 'read_only' },
      { field: 'number', code: 'read_only' },
    ]);
  });

  test('a body that is not an object is one error at the root', () => {
    for (const body of [null, [], 'name', 42]) expect(problems(body)).toEqual([{ field: '', code: 'type' }]);
  });

  test('text holding the NUL character is refused by name (PostgreSQL cannot store it), anywhere in the string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (before, after) => {
        expect(problems({ notes: `${before}\u0000${after}` })).toEqual([{ field: 'notes', code: 'invalid_character' }]);
      }),
    );
    expect(problems({ name: 'ok', notes: 'fine' })).toEqual([]);
  });

  test('every bad field is named in one answer', () => {
    expect(problems({ quantity: 'three', status: 'won', email: 'not-mail', approved: 'yes' }).map((e) => e.field)).toEqual([
      'quantity',
      'approved',
      'status',
      'email',
    ]);
  });
});

describe('validateRecordInput per field type', () => {
  test.each<[string, unknown, string]>([
    ['name', 'x'.repeat(201), 'max_length'],
    ['name', 42, 'type'],
    ['quantity', 1001, 'max'],
    ['quantity', -1, 'min'],
    ['quantity', '5', 'type'],
    ['total', '12.345', 'scale'],
    ['total', '1,234.00', 'format'],
    ['total', '1e3', 'format'],
    ['total', 1e21, 'range'],
    ['total', '-5', 'min'],
    ['total', '1234567890123456', 'range'],
    ['total', true, 'type'],
    ['discount', 101, 'max'],
    ['approved', 'true', 'type'],
    ['valid_until', '2023-02-29', 'format'],
    ['valid_until', '2024-2-1', 'format'],
    ['valid_until', '2024-05-01T00:00:00Z', 'format'],
    ['sent_at', '2024-05-01', 'format'],
    ['sent_at', '2024-05-01T10:00:00', 'format'],
    ['sent_at', 'yesterday', 'format'],
    ['status', 'won', 'enum'],
    ['status', ['sent'], 'type'],
    ['tags', ['vip', 'vip'], 'duplicate'],
    ['tags', ['gold'], 'enum'],
    ['tags', 'vip', 'type'],
    ['email', 'a@', 'format'],
    ['phone', 'call me', 'format'],
    ['phone', '1234', 'format'],
    ['phone', 13812345678, 'type'],
    ['website', 'ftp://example.com', 'format'],
    ['website', 'javascript:alert(1)', 'format'],
    ['account', 'abc', 'format'],
    ['reviewer', 7, 'type'],
  ])('%s = %j is rejected with %s', (key, value, code) => {
    expect(problems({ [key]: value })).toEqual([{ field: key, code }]);
  });

  test.each([
    ['13812345678'],
    ['+8613812345678'],
    ['+86 138-1234-5678'],
    ['19912345678'],
    ['010-12345678'],
    ['0755 1234567'],
    ['021-87654321-123'],
    ['+1 (415) 555-0100'],
    ['+44 20 7946 0958'],
    ['400-123-4567'],
    ['13812345678 转 802'],
  ])('phone %s is accepted as typed', (phone) => {
    expect(accepted({ phone })).toEqual({ phone });
  });

  test.each<[unknown, string]>([
    ['1234.5', '1234.50'],
    [1234.5, '1234.50'],
    [0, '0.00'],
    ['-0', '0.00'],
    ['-12', '-12.00'],
    ['007.10', '7.10'],
    ['99.990', '99.99'],
    [0.1, '0.10'],
  ])('currency %j is stored as %s', (input, stored) => {
    const object = quote();
    object.fields.find((f) => f.key === 'total')!.min = undefined;
    expect(toApiRecord(object, validateRecordInput(object, { total: input }, 'update'))).toEqual({ total: stored });
  });

  test('currency uses the field scale (default 2)', () => {
    const object = quote();
    const total = object.fields.find((f) => f.key === 'total')!;
    total.scale = 0;
    expect(toApiRecord(object, validateRecordInput(object, { total: '15' }, 'update'))).toEqual({ total: '15' });
    expect(problems({ total: '15.5' }, 'update', object)).toEqual([{ field: 'total', code: 'scale' }]);
    const object4 = quote();
    object4.fields.find((f) => f.key === 'total')!.scale = 4;
    expect(toApiRecord(object4, validateRecordInput(object4, { total: 1.5 }, 'update'))).toEqual({ total: '1.5000' });
    const noScale = quote();
    delete noScale.fields.find((f) => f.key === 'total')!.scale;
    expect(toApiRecord(noScale, validateRecordInput(noScale, { total: '3' }, 'update'))).toEqual({ total: '3.00' });
  });

  test('datetimes are stored as toISOString gives them', () => {
    expect(accepted({ sent_at: '2024-12-31T23:30:00-01:00' })).toEqual({ sent_at: '2025-01-01T00:30:00.000Z' });
    expect(accepted({ sent_at: '2024-05-01T08:30:00.123456Z' })).toEqual({ sent_at: '2024-05-01T08:30:00.123Z' });
  });

  test('a required multiselect needs at least one value', () => {
    const object = quote();
    object.fields.find((f) => f.key === 'tags')!.required = true;
    expect(problems({ name: 'x', tags: [] }, 'create', object)).toEqual([{ field: 'tags', code: 'required' }]);
  });
});

describe('recordJsonSchema', () => {
  test('read includes system fields and every live field, but not deleted ones', () => {
    const schema = recordJsonSchema(QUOTE, 'read') as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(['id', 'version', 'created_at', 'updated_at', 'created_by', 'updated_by', 'owner_id']);
    expect(schema.properties.version).toEqual({ type: 'integer', minimum: 1 });
    expect(schema.properties.owner_id).toEqual({ type: ['string', 'null'], format: 'uuid' });
    expect(Object.keys(schema.properties)).toContain('number');
    expect(Object.keys(schema.properties)).not.toContain('legacy');
  });

  test('create lists required fields; update and create leave out read-only ones', () => {
    const create = recordJsonSchema(QUOTE, 'create') as { properties: Record<string, unknown>; required?: string[] };
    const update = recordJsonSchema(QUOTE, 'update') as { properties: Record<string, unknown>; required?: string[] };
    expect(create.required).toEqual(['name']);
    expect(update.required).toBeUndefined();
    expect(Object.keys(create.properties)).not.toContain('number');
    expect(create.properties.name).toMatchObject({ title: 'Name', type: 'string', minLength: 1, maxLength: 200 });
  });
});

describe('toApiRecord', () => {
  test('maps ids to keys and drops deleted fields and unknown ids', () => {
    expect(toApiRecord(QUOTE, { f_text000001: '名称', f_gone000001: 'old', f_unknown01: 1, f_auto000001: 'QT-202405-0001' })).toEqual({
      name: '名称',
      number: 'QT-202405-0001',
    });
  });
});

describe('validateRecordInput on arbitrary input', () => {
  const ajv = new Ajv2020({ allowUnionTypes: true, strict: false });
  addFormats(ajv);
  const inputSchema = { create: ajv.compile(recordJsonSchema(QUOTE, 'create')), update: ajv.compile(recordJsonSchema(QUOTE, 'update')) };
  const readSchema = ajv.compile(recordJsonSchema(QUOTE, 'read'));
  const system = { id: UUID, version: 1, created_at: '2024-01-01T00:00:00.000Z', updated_at: '2024-01-01T00:00:00.000Z', created_by: null, updated_by: null, owner_id: null };

  // writable fields, plus a few keys that must be refused (computed, system, unknown)
  const writable = QUOTE.fields.filter((f) => !f.deleted && !['autonumber', 'formula', 'rollup'].includes(f.type)).map((f) => f.key);
  const keys = fc.oneof(
    { arbitrary: fc.constantFrom(...writable), weight: 8 },
    { arbitrary: fc.constantFrom('legacy', 'number', 'net_total', 'line_count', 'id', 'unknown', '__proto__'), weight: 1 },
  );
  const plausible = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom('2024-02-29', '2024-05-01T08:30:00Z', '13812345678', 'https://example.com', 'a@b.cn', UUID, 'sent', 'vip', '12.5', '中文'),
    fc.array(fc.constantFrom('vip', 'new', 'gold')),
    fc.double(),
    fc.integer(),
  );
  // mostly records (small ones are often wholly valid), sometimes any JSON at all
  const bodies = fc.oneof({ arbitrary: fc.dictionary(keys, plausible, { maxKeys: 8 }), weight: 3 }, { arbitrary: fc.jsonValue(), weight: 1 });

  test('either throws ProblemError or returns values that satisfy the schema', () => {
    let acceptedCount = 0;
    fc.assert(
      fc.property(bodies, fc.constantFrom<'create' | 'update'>('create', 'update'), (body, mode) => {
        let stored: Record<string, unknown>;
        try {
          stored = validateRecordInput(QUOTE, body, mode);
        } catch (e) {
          expect(e).toBeInstanceOf(ProblemError);
          expect((e as ProblemError).errors.length).toBeGreaterThan(0);
          return;
        }
        acceptedCount++;
        const api = toApiRecord(QUOTE, stored);
        expect(Object.keys(api).length).toBe(Object.keys(stored).length);
        expect(inputSchema[mode](api)).toBe(true);
        expect(readSchema({ ...system, ...api })).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // the property must see accepted records too, not only rejections
    expect(acceptedCount).toBeGreaterThan(100);
  });
});
