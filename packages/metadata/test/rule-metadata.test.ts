import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import Ajv2020 from 'ajv/dist/2020';
import {
  AUTOMATION_ACTION_TYPES,
  FORMULA_RESULT_TYPES,
  MATCH_METHODS,
  ProblemError,
  ROLLUP_AGGREGATES,
  recordJsonSchema,
  toApiRecord,
  TRIGGER_EVENTS,
  appDocumentSchema,
  diffDocuments,
  prepareVersion,
  validateAppDocument,
  validateRecordInput,
  type AppDocument,
  type AutomationRule,
  type FieldDef,
  type ObjectDef,
} from '../src';
import { everyFieldTypeDocument } from './fixtures';

const quote = (d: AppDocument): ObjectDef => d.objects[0]!;
const account = (d: AppDocument): ObjectDef => d.objects[1]!;
const line = (d: AppDocument): ObjectDef => d.objects[2]!;
const fieldOf = (object: ObjectDef, key: string): FieldDef => object.fields.find((f) => f.key === key)!;
const rule = (d: AppDocument, i = 0): AutomationRule => d.rules![i]!;

function errorsOf(mutate: (doc: AppDocument) => void): { field: string; code: string }[] {
  const doc = everyFieldTypeDocument();
  mutate(doc);
  return validateAppDocument(doc).map(({ field, code }) => ({ field, code }));
}

/** Index of a field within quote, so expected paths follow the fixture. */
const qf = (key: string) => everyFieldTypeDocument().objects[0]!.fields.findIndex((f) => f.key === key);

describe('rule-engine parts of the document schema', () => {
  test('a typed document with every new part (formula, rollup, defaults, rules, layouts, automations) validates', () => {
    expect(validateAppDocument(everyFieldTypeDocument())).toEqual([]);
  });

  test('the schema enums are exactly the TypeScript unions', () => {
    const defs = appDocumentSchema.$defs;
    expect(defs.fieldDef.properties.resultType.enum).toEqual([...FORMULA_RESULT_TYPES]);
    expect(defs.rollupDef.properties.aggregate.enum).toEqual([...ROLLUP_AGGREGATES]);
    expect(defs.duplicateRule.properties.match.items.properties.method.enum).toEqual([...MATCH_METHODS]);
    expect(defs.automationRule.properties.on.items.enum).toEqual([...TRIGGER_EVENTS]);
    expect(defs.automationAction.properties.type.enum).toEqual([...AUTOMATION_ACTION_TYPES]);
  });

  test('startFlow must name a flow of the app about the rule\'s object', () => {
    const doc = everyFieldTypeDocument();
    const object = rule(doc).object;
    rule(doc).actions.push({ type: 'startFlow', flow: 'quote_approval' });
    expect(new Ajv2020({ strict: false }).compile(appDocumentSchema)(doc)).toBe(true);
    expect(validateAppDocument(doc)).toEqual([{ field: 'rules/0/actions/4/flow', code: 'unknown_flow', message: 'quote_approval is not a flow of this app' }]);
    doc.flows = [{ key: 'quote_approval', object: 'elsewhere' }];
    expect(validateAppDocument(doc)).toEqual([{ field: 'rules/0/actions/4/flow', code: 'wrong_object', message: `flow quote_approval is about elsewhere, not ${object}` }]);
    doc.flows = [{ key: 'quote_approval', object }];
    expect(validateAppDocument(doc)).toEqual([]);
  });
});

describe('validateAppDocument: structure of the new parts', () => {
  test.each<[string, (doc: AppDocument) => void, { field: string; code: string }]>([
    ['formula without expression', (d) => delete fieldOf(quote(d), 'net_total').formula, { field: `objects/0/fields/${qf('net_total')}/formula`, code: 'required' }],
    ['formula without resultType', (d) => delete fieldOf(quote(d), 'net_total').resultType, { field: `objects/0/fields/${qf('net_total')}/resultType`, code: 'required' }],
    ['formula with unknown resultType', (d) => ((fieldOf(quote(d), 'net_total') as { resultType: string }).resultType = 'money'), { field: `objects/0/fields/${qf('net_total')}/resultType`, code: 'enum' }],
    ['rollup without definition', (d) => delete fieldOf(quote(d), 'line_count').rollup, { field: `objects/0/fields/${qf('line_count')}/rollup`, code: 'required' }],
    ['rollup with unknown aggregate', (d) => ((fieldOf(quote(d), 'line_count').rollup as { aggregate: string }).aggregate = 'median'), { field: `objects/0/fields/${qf('line_count')}/rollup/aggregate`, code: 'enum' }],
    ['validation without severity', (d) => delete (quote(d).validations![0] as Partial<{ severity: string }>).severity, { field: 'objects/0/validations/0/severity', code: 'required' }],
    ['duplicate rule with no match', (d) => (quote(d).duplicateRules![0]!.match = []), { field: 'objects/0/duplicateRules/0/match', code: 'min_items' }],
    ['unknown match method', (d) => ((quote(d).duplicateRules![0]!.match[0] as { method: string }).method = 'fuzzy'), { field: 'objects/0/duplicateRules/0/match/0/method', code: 'enum' }],
    ['layout item without field', (d) => delete (d.layouts![0]!.sections[0]!.items[0] as Partial<{ field: string }>).field, { field: 'layouts/0/sections/0/items/0/field', code: 'required' }],
    ['misspelt layout behaviour', (d) => ((d.layouts![0]!.sections[0]!.items[0] as unknown as Record<string, unknown>).visibleIf = true), { field: 'layouts/0/sections/0/items/0/visibleIf', code: 'unknown_field' }],
    ['automation on nothing', (d) => (rule(d).on = []), { field: 'rules/0/on', code: 'min_items' }],
    ['automation on an unknown event', (d) => ((rule(d).on as string[]) = ['save']), { field: 'rules/0/on/0', code: 'enum' }],
    ['automation without actions', (d) => (rule(d).actions = []), { field: 'rules/0/actions', code: 'min_items' }],
    ['action of an unknown type', (d) => ((rule(d).actions[0] as { type: string }).type = 'sendEmail'), { field: 'rules/0/actions/0/type', code: 'enum' }],
    ['notify without message', (d) => delete (rule(d).actions[3] as Partial<{ message: unknown }>).message, { field: 'rules/0/actions/3/message', code: 'required' }],
    ['a setting of another action type', (d) => ((rule(d).actions[3] as Record<string, unknown>).values = {}), { field: 'rules/0/actions/3/values', code: 'unknown_field' }],
    ['setFields naming a malformed key', (d) => ((rule(d).actions[0] as { values: Record<string, unknown> }).values['Amount'] = 1), { field: 'rules/0/actions/0/values/Amount', code: 'pattern' }],
  ])('%s', (_name, mutate, expected) => {
    expect(errorsOf(mutate)).toContainEqual(expected);
  });
});

describe('validateAppDocument: what the new parts refer to', () => {
  test.each<[string, (doc: AppDocument) => void, { field: string; code: string }]>([
    // computed fields
    ['formula marked required', (d) => (fieldOf(quote(d), 'net_total').required = true), { field: `objects/0/fields/${qf('net_total')}/required`, code: 'not_applicable' }],
    ['rollup marked unique', (d) => (fieldOf(quote(d), 'line_count').unique = true), { field: `objects/0/fields/${qf('line_count')}/unique`, code: 'not_applicable' }],
    ['formula on a text field', (d) => (fieldOf(quote(d), 'name').formula = { var: 'notes' }), { field: 'objects/0/fields/0/formula', code: 'not_applicable' }],
    ['rollup settings on a number', (d) => (fieldOf(quote(d), 'quantity').rollup = { object: 'quote_line', via: 'quote', aggregate: 'count' }), { field: 'objects/0/fields/2/rollup', code: 'not_applicable' }],
    ['formula reading itself', (d) => (fieldOf(quote(d), 'net_total').formula = { '+': [{ var: 'net_total' }, 1] }), { field: `objects/0/fields/${qf('net_total')}/formula`, code: 'cycle' }],
    ['rollup over an unknown object', (d) => (fieldOf(quote(d), 'line_count').rollup!.object = 'invoice'), { field: `objects/0/fields/${qf('line_count')}/rollup/object`, code: 'unknown_object' }],
    ['rollup over a deleted object', (d) => (line(d).deleted = true), { field: `objects/0/fields/${qf('line_count')}/rollup/object`, code: 'unknown_object' }],
    ['rollup via a missing field', (d) => (fieldOf(quote(d), 'line_count').rollup!.via = 'order'), { field: `objects/0/fields/${qf('line_count')}/rollup/via`, code: 'unknown_field' }],
    ['rollup via a non-relation', (d) => (fieldOf(quote(d), 'line_count').rollup!.via = 'product'), { field: `objects/0/fields/${qf('line_count')}/rollup/via`, code: 'type' }],
    [
      'rollup via a relation to another object',
      (d) => {
        fieldOf(line(d), 'quote').target = 'account';
        fieldOf(quote(d), 'line_count').rollup!.via = 'quote';
      },
      { field: `objects/0/fields/${qf('line_count')}/rollup/via`, code: 'type' },
    ],
    ['count with a field', (d) => (fieldOf(quote(d), 'line_count').rollup!.field = 'amount'), { field: `objects/0/fields/${qf('line_count')}/rollup/field`, code: 'not_applicable' }],
    ['sum without a field', (d) => delete fieldOf(quote(d), 'lines_total').rollup!.field, { field: `objects/0/fields/${qf('lines_total')}/rollup/field`, code: 'required' }],
    ['sum of an unknown field', (d) => (fieldOf(quote(d), 'lines_total').rollup!.field = 'price'), { field: `objects/0/fields/${qf('lines_total')}/rollup/field`, code: 'unknown_field' }],
    ['sum of a text field', (d) => (fieldOf(quote(d), 'lines_total').rollup!.field = 'product'), { field: `objects/0/fields/${qf('lines_total')}/rollup/field`, code: 'type' }],
    ['avg of a date', (d) => Object.assign(fieldOf(quote(d), 'lines_total').rollup!, { aggregate: 'avg', field: 'delivery' }), { field: `objects/0/fields/${qf('lines_total')}/rollup/field`, code: 'type' }],
    ['max of a text field', (d) => (fieldOf(quote(d), 'last_delivery').rollup!.field = 'product'), { field: `objects/0/fields/${qf('last_delivery')}/rollup/field`, code: 'type' }],
    // defaults
    ['default of the wrong type', (d) => (fieldOf(quote(d), 'quantity').defaultValue = 'one'), { field: 'objects/0/fields/2/defaultValue', code: 'type' }],
    ['default above max', (d) => (fieldOf(quote(d), 'quantity').defaultValue = 5000), { field: 'objects/0/fields/2/defaultValue', code: 'max' }],
    ['default not among the options', (d) => (fieldOf(quote(d), 'status').defaultValue = 'won'), { field: `objects/0/fields/${qf('status')}/defaultValue`, code: 'enum' }],
    ['default date that is not a date', (d) => (fieldOf(quote(d), 'valid_until').defaultValue = '2024-02-30'), { field: `objects/0/fields/${qf('valid_until')}/defaultValue`, code: 'format' }],
    ['default currency with too many decimals', (d) => (fieldOf(quote(d), 'total').defaultValue = '1.005'), { field: 'objects/0/fields/3/defaultValue', code: 'scale' }],
    ['null default of a required field', (d) => (fieldOf(quote(d), 'name').defaultValue = null), { field: 'objects/0/fields/0/defaultValue', code: 'required' }],
    ['both default kinds', (d) => (fieldOf(quote(d), 'quantity').defaultExpression = { '+': [1, 1] }), { field: 'objects/0/fields/2/defaultExpression', code: 'conflict' }],
    ['default on a formula', (d) => (fieldOf(quote(d), 'net_total').defaultValue = '0'), { field: `objects/0/fields/${qf('net_total')}/defaultValue`, code: 'not_applicable' }],
    ['default on an autonumber', (d) => (fieldOf(quote(d), 'number').defaultExpression = { today: [] }), { field: `objects/0/fields/${qf('number')}/defaultExpression`, code: 'not_applicable' }],
    // validation and duplicate rules
    ['two validation rules with one key', (d) => (quote(d).validations![1]!.key = 'discount_cap'), { field: 'objects/0/validations/1/key', code: 'duplicate' }],
    ['validation naming an unknown field', (d) => quote(d).validations![0]!.fields!.push('discont'), { field: 'objects/0/validations/0/fields/1', code: 'unknown_field' }],
    ['validation naming a deleted field', (d) => (quote(d).validations![0]!.fields = ['legacy']), { field: 'objects/0/validations/0/fields/0', code: 'unknown_field' }],
    ['validation message with no text', (d) => (quote(d).validations![0]!.message = { en: ' ' }), { field: 'objects/0/validations/0/message', code: 'required' }],
    ['two duplicate rules with one key', (d) => (quote(d).duplicateRules![1]!.key = 'same_email'), { field: 'objects/0/duplicateRules/1/key', code: 'duplicate' }],
    ['duplicate rule on an unknown field', (d) => (quote(d).duplicateRules![0]!.match[0]!.field = 'mail'), { field: 'objects/0/duplicateRules/0/match/0/field', code: 'unknown_field' }],
    ['one field matched twice', (d) => quote(d).duplicateRules![0]!.match.push({ field: 'email', method: 'exact' }), { field: 'objects/0/duplicateRules/0/match/1/field', code: 'duplicate' }],
    ['phone matching on a number', (d) => (quote(d).duplicateRules![1]!.match[0]!.field = 'quantity'), { field: 'objects/0/duplicateRules/1/match/0/method', code: 'not_applicable' }],
    ['email matching on a phone', (d) => (quote(d).duplicateRules![0]!.match[0]!.field = 'phone'), { field: 'objects/0/duplicateRules/0/match/0/method', code: 'not_applicable' }],
    ['company matching on an email', (d) => (fieldOf(account(d), 'company_name').type = 'email'), { field: 'objects/1/duplicateRules/0/match/0/method', code: 'not_applicable' }],
    ['exact matching of a multiselect', (d) => (quote(d).duplicateRules![1]!.match[2]!.field = 'tags'), { field: 'objects/0/duplicateRules/1/match/2/method', code: 'not_applicable' }],
    // layouts
    ['two layouts with one key', (d) => (d.layouts![1]!.key = 'quote_form'), { field: 'layouts/1/key', code: 'duplicate' }],
    ['layout of an unknown object', (d) => (d.layouts![1]!.object = 'invoice'), { field: 'layouts/1/object', code: 'unknown_object' }],
    ['two default layouts of one object', (d) => (d.layouts![1]!.default = true), { field: 'layouts/1/default', code: 'duplicate' }],
    ['two sections with one key', (d) => d.layouts![0]!.sections.push({ key: 'main', items: [] }), { field: 'layouts/0/sections/1/key', code: 'duplicate' }],
    ['layout item naming an unknown field', (d) => (d.layouts![0]!.sections[0]!.items[2]!.field = 'discont'), { field: 'layouts/0/sections/0/items/2/field', code: 'unknown_field' }],
    ['layout item naming another object’s field', (d) => (d.layouts![0]!.sections[0]!.items[1]!.field = 'company_name'), { field: 'layouts/0/sections/0/items/1/field', code: 'unknown_field' }],
    ['one field placed twice', (d) => d.layouts![0]!.sections.push({ key: 'more', items: [{ field: 'name' }] }), { field: 'layouts/0/sections/1/items/0/field', code: 'duplicate' }],
    ['a computed field required-when', (d) => (d.layouts![0]!.sections[0]!.items[3]!.requiredWhen = true), { field: 'layouts/0/sections/0/items/3/requiredWhen', code: 'not_applicable' }],
    // automations
    ['two automations with one key', (d) => (rule(d, 1).key = 'big_quote'), { field: 'rules/1/key', code: 'duplicate' }],
    ['automation on an unknown object', (d) => (rule(d).object = 'invoice'), { field: 'rules/0/object', code: 'unknown_object' }],
    ['changedFields naming an unknown field', (d) => (rule(d).changedFields = ['total', 'qty']), { field: 'rules/0/changedFields/1', code: 'unknown_field' }],
    ['changedFields without update', (d) => (rule(d).on = ['create']), { field: 'rules/0/changedFields', code: 'not_applicable' }],
    ['setFields of an unknown field', (d) => ((rule(d).actions[0] as { values: Record<string, unknown> }).values.amount = 1), { field: 'rules/0/actions/0/values/amount', code: 'unknown_field' }],
    ['setFields of a formula', (d) => ((rule(d).actions[0] as { values: Record<string, unknown> }).values.net_total = '1'), { field: 'rules/0/actions/0/values/net_total', code: 'read_only' }],
    ['setFields of a rollup', (d) => ((rule(d).actions[0] as { values: Record<string, unknown> }).values.line_count = 1), { field: 'rules/0/actions/0/values/line_count', code: 'read_only' }],
    ['setFields of an autonumber', (d) => ((rule(d).actions[0] as { values: Record<string, unknown> }).values.number = 'QT-1'), { field: 'rules/0/actions/0/values/number', code: 'read_only' }],
    ['setFields on delete', (d) => rule(d, 1).actions.push({ type: 'setFields', values: { status: 'draft' } }), { field: 'rules/1/actions/1/type', code: 'not_applicable' }],
    ['createRecord of an unknown object', (d) => ((rule(d).actions[1] as { object: string }).object = 'invoice'), { field: 'rules/0/actions/1/object', code: 'unknown_object' }],
    ['createRecord of an unknown field', (d) => ((rule(d).actions[1] as { values: Record<string, unknown> }).values.price = 1), { field: 'rules/0/actions/1/values/price', code: 'unknown_field' }],
    ['createRecord without a required field', (d) => delete (rule(d).actions[1] as { values: Record<string, unknown> }).values.quote, { field: 'rules/0/actions/1/values/quote', code: 'required' }],
  ])('%s', (_name, mutate, expected) => {
    expect(errorsOf(mutate)).toContainEqual(expected);
  });

  test('a required field with a default need not be given by createRecord', () => {
    expect(
      errorsOf((d) => {
        Object.assign(fieldOf(line(d), 'quote'), { type: 'text', target: undefined, defaultValue: 'none' });
        delete (rule(d).actions[1] as { values: Record<string, unknown> }).values.quote;
        fieldOf(quote(d), 'line_count').rollup!.via = 'quote';
      }).filter((e) => e.field.startsWith('rules/')),
    ).toEqual([]);
  });

  test('a deleted object keeps rules that name what is gone, and deleted fields may stay in nothing', () => {
    expect(
      errorsOf((d) => {
        account(d).deleted = true;
        account(d).duplicateRules![0]!.match[0]!.field = 'gone';
        fieldOf(quote(d), 'account').deleted = true;
        fieldOf(quote(d), 'industry').deleted = true;
      }),
    ).toEqual([]);
  });

  test('reports every broken reference at once, each with its own path', () => {
    const errors = errorsOf((d) => {
      fieldOf(line(d), 'amount').deleted = true;
      d.layouts![0]!.sections[0]!.items[0]!.field = 'nom';
      rule(d).changedFields = ['quantity', 'totl'];
    });
    expect(errors.map((e) => e.field).sort()).toEqual([`objects/0/fields/${qf('lines_total')}/rollup/field`, 'layouts/0/sections/0/items/0/field', 'rules/0/changedFields/1'].sort());
  });
});

describe('defaultValue is checked exactly as record input is', () => {
  const doc = everyFieldTypeDocument();
  const inputFields = quote(doc).fields.filter((f) => !f.deleted && !['autonumber', 'formula', 'rollup'].includes(f.type));
  const values = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom('2024-02-29', '2024-02-30', '2024-05-01T08:30:00Z', '13812345678', 'https://example.com', 'a@b.cn', '0190f5b2-7c1e-7cc0-8a55-5b7c2f9d1e01', 'sent', '12.5', '中文', ''),
    fc.array(fc.constantFrom('vip', 'new', 'gold')),
    fc.double(),
  );

  test('a default is rejected exactly when a PATCH setting that value would be', () => {
    fc.assert(
      fc.property(fc.constantFrom(...inputFields.map((f) => f.key)), values, (key, value) => {
        const next = structuredClone(doc);
        const field = fieldOf(quote(next), key);
        delete field.defaultExpression;
        field.defaultValue = value;
        const defaultErrors = validateAppDocument(next).filter((e) => e.field.endsWith('/defaultValue'));
        let inputRejected = false;
        try {
          validateRecordInput(quote(doc), { [key]: value }, 'update');
        } catch (e) {
          expect(e).toBeInstanceOf(ProblemError);
          inputRejected = true;
        }
        expect(defaultErrors.length > 0).toBe(inputRejected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('computed fields on record input', () => {
  const doc = everyFieldTypeDocument();
  const QUOTE = quote(doc);
  const computed = { net_total: '10.00', industry: 'x', line_count: 3, lines_total: 5, last_delivery: '2024-01-01', number: 'QT-1' };

  function problems(input: unknown, mode: 'create' | 'update'): { field: string; code: string; message: string }[] {
    try {
      validateRecordInput(QUOTE, input, mode);
    } catch (e) {
      expect(e).toBeInstanceOf(ProblemError);
      return (e as ProblemError).errors;
    }
    return [];
  }

  test.each(['create', 'update'] as const)('formula, rollup and autonumber values are read_only on %s, each named', (mode) => {
    const errors = problems({ name: 'A', ...computed }, mode);
    expect(errors.map(({ field, code }) => ({ field, code }))).toEqual(Object.keys(computed).map((field) => ({ field, code: 'read_only' })));
    expect(errors[0]!.message).toBe('net_total is computed and cannot be written');
  });

  test('even null is refused: a computed value is never cleared by a client', () => {
    expect(problems({ line_count: null }, 'update')).toEqual([expect.objectContaining({ field: 'line_count', code: 'read_only' })]);
  });

  test('input schemas leave computed fields out; the read schema types them', () => {
    for (const mode of ['create', 'update'] as const) {
      const keys = Object.keys((recordJsonSchema(QUOTE, mode) as { properties: object }).properties);
      for (const key of Object.keys(computed)) expect(keys).not.toContain(key);
    }
    const read = (recordJsonSchema(QUOTE, 'read', doc) as { properties: Record<string, Record<string, unknown>> }).properties;
    expect(read.net_total).toMatchObject({ type: ['string', 'null'], pattern: '^-?[0-9]+(\\.[0-9]+)?$', readOnly: true });
    expect(read.industry).toMatchObject({ type: ['string', 'null'], readOnly: true });
    expect(read.line_count).toMatchObject({ type: ['number', 'null'], readOnly: true });
    expect(read.lines_total).toMatchObject({ type: ['number', 'null'] });
    expect(read.last_delivery).toMatchObject({ type: ['string', 'null'], format: 'date' });
    expect(read.number).toMatchObject({ type: ['string', 'null'], readOnly: true });
  });

  test.each<[string, unknown]>([
    ['number', { type: ['number', 'null'] }],
    ['percent', { type: ['number', 'null'] }],
    ['boolean', { type: ['boolean', 'null'] }],
    ['date', { type: ['string', 'null'], format: 'date' }],
    ['datetime', { type: ['string', 'null'], format: 'date-time' }],
    ['text', { type: ['string', 'null'] }],
  ])('a formula with resultType %s reads as its JSON type', (resultType, expected) => {
    const object = structuredClone(QUOTE);
    fieldOf(object, 'industry').resultType = resultType as FieldDef['resultType'];
    expect((recordJsonSchema(object, 'read') as { properties: Record<string, unknown> }).properties.industry).toMatchObject(expected as object);
  });

  test('max over a datetime reads as a datetime; without the app a min/max may be either', () => {
    const next = structuredClone(doc);
    fieldOf(line(next), 'delivery').type = 'datetime';
    const withApp = recordJsonSchema(quote(next), 'read', next) as { properties: Record<string, unknown> };
    expect(withApp.properties.last_delivery).toMatchObject({ type: ['string', 'null'], format: 'date-time' });
    const alone = recordJsonSchema(quote(next), 'read') as { properties: Record<string, unknown> };
    expect(alone.properties.last_delivery).toMatchObject({ type: ['number', 'string', 'null'] });
  });

  test('toApiRecord returns computed values as stored', () => {
    expect(toApiRecord(QUOTE, { f_form000001: '1200.00', f_form000002: '制造业', f_roll000001: 4, f_roll000003: '2024-06-30', f_auto000001: 'QT-202405-0001' })).toEqual({
      net_total: '1200.00',
      industry: '制造业',
      line_count: 4,
      last_delivery: '2024-06-30',
      number: 'QT-202405-0001',
    });
  });
});

describe('publishing computed fields and rules', () => {
  /** The fixture published once; returns the next version of `edit` applied to it. */
  function republish(edit: (d: AppDocument) => void) {
    const v1 = prepareVersion(null, everyFieldTypeDocument(), 1).document;
    const draft = structuredClone(v1);
    edit(draft);
    const { document, plan } = prepareVersion(v1, draft, 2);
    expect(validateAppDocument(document)).toEqual([]);
    return { v1, document, plan, id: (key: string) => fieldOf(quote(document), key).id, was: (key: string) => fieldOf(quote(v1), key).id };
  }
  const kinds = (plan: { changes: { kind: string; field?: string; item?: string }[] }) => plan.changes.map((c) => [c.kind, c.field ?? c.item ?? null]);

  test.each<[string, string, (f: FieldDef) => void]>([
    ['text -> formula', 'notes', (f) => Object.assign(f, { type: 'formula', formula: { var: 'name' }, resultType: 'text', maxLength: undefined, searchable: undefined })],
    ['formula -> text', 'net_total', (f) => Object.assign(f, { type: 'text', formula: undefined, resultType: undefined })],
    ['formula -> rollup', 'net_total', (f) => Object.assign(f, { type: 'rollup', formula: undefined, resultType: undefined, rollup: { object: 'quote_line', via: 'quote', aggregate: 'count' } })],
    ['rollup -> number', 'lines_total', (f) => Object.assign(f, { type: 'number', rollup: undefined })],
    ['a formula resultType text -> number', 'industry', (f) => Object.assign(f, { resultType: 'number' })],
    ['a formula resultType currency -> number', 'net_total', (f) => Object.assign(f, { resultType: 'number' })],
  ])('retyping %s is a new field: old values stay under the old id', (_name, key, retype) => {
    const { plan, id, was } = republish((d) => retype(fieldOf(quote(d), key)));
    expect(id(key)).not.toBe(was(key));
    expect(plan.changes).toContainEqual(expect.objectContaining({ kind: 'field_retyped', field: key, lossy: true }));
  });

  test('a changed expression, or a result type whose stored values stay readable, keeps the id', () => {
    const { plan, id, was } = republish((d) => {
      Object.assign(fieldOf(quote(d), 'net_total'), { resultType: 'text' });
      Object.assign(fieldOf(quote(d), 'industry'), { formula: { var: 'account.company_name' } });
    });
    expect(id('industry')).toBe(was('industry'));
    expect(id('net_total')).toBe(was('net_total'));
    const change = plan.changes.find((c) => c.field === 'industry')!;
    expect(change).toMatchObject({ kind: 'formula_changed', from: { formula: { var: 'account.industry' }, resultType: 'text' }, to: { formula: { var: 'account.company_name' } } });
    expect(change.note).toContain('formula of quote.industry changed (formula)');
    expect(kinds(plan)).toEqual([
      ['formula_changed', 'net_total'],
      ['formula_changed', 'industry'],
    ]);
    expect(plan.lossless).toBe(true);
  });

  test('rollup aggregates keep the id while the stored kind cannot change', () => {
    const sumToAvg = republish((d) => (fieldOf(quote(d), 'lines_total').rollup!.aggregate = 'avg'));
    expect(sumToAvg.id('lines_total')).toBe(sumToAvg.was('lines_total'));
    expect(kinds(sumToAvg.plan)).toEqual([['rollup_changed', 'lines_total']]);
    const sumToMax = republish((d) => (fieldOf(quote(d), 'lines_total').rollup!.aggregate = 'max'));
    expect(sumToMax.id('lines_total')).not.toBe(sumToMax.was('lines_total'));
  });

  test('defaults, validation and duplicate rules, layouts and automations each show up as their own change', () => {
    const { plan } = republish((d) => {
      fieldOf(quote(d), 'quantity').defaultValue = 2;
      quote(d).validations![0]!.assert = { '<=': [{ var: 'discount' }, 40] };
      quote(d).validations![0]!.message = { en: 'At most 40%' };
      quote(d).validations!.splice(1, 1);
      quote(d).validations!.push({ key: 'has_phone', assert: { '!!': [{ var: 'phone' }] }, message: { en: 'Phone?' }, severity: 'warning' });
      account(d).duplicateRules![0]!.action = 'warn';
      d.layouts![0]!.sections[0]!.items.reverse();
      d.layouts!.pop();
      rule(d).condition = { '>=': [{ var: 'total' }, 1000000] };
      d.rules!.push({ key: 'welcome', object: 'account', on: ['create'], actions: [{ type: 'notify', recipients: { currentUser: [] }, message: 'hi' }] });
    });
    expect(kinds(plan)).toEqual([
      ['default_changed', 'quantity'],
      ['validation_changed', 'discount_cap'],
      ['validation_added', 'has_phone'],
      ['validation_removed', 'has_email'],
      ['duplicate_rule_changed', 'same_company'],
      ['layout_changed', 'quote_form'],
      ['layout_removed', 'quote_compact'],
      ['automation_changed', 'big_quote'],
      ['automation_added', 'welcome'],
    ]);
    const notes = plan.changes.map((c) => c.note);
    expect(notes).toContain('validation rule discount_cap of quote changed: assert, message');
    expect(notes).toContain('automation welcome added to account');
    expect(notes).toContain('default of quote.quantity changed (defaultValue): applies to records created from now on');
    expect(plan.lossless).toBe(true);
  });

  test('republishing an unchanged document with rules plans nothing', () => {
    const v1 = prepareVersion(null, everyFieldTypeDocument(), 1).document;
    expect(diffDocuments(v1, structuredClone(v1)).changes).toEqual([]);
    expect(prepareVersion(v1, v1, 2).plan.changes).toEqual([]);
  });
});
