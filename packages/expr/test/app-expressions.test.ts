import { describe, expect, it } from 'vitest';
import type { AppDocument, FieldDef, FieldType } from '@tessera/metadata';
import { checkAppExpressions } from '../src/index';

function field(key: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return { id: `f_${key}`, key, type, label: { en: key }, ...extra };
}
const v = (key: string) => ({ var: key });

/** A small CRM: companies, and deals pointing at them, with one expression of every kind. */
function crm(): AppDocument {
  return {
    objects: [
      {
        id: 'o_company',
        key: 'company',
        label: { en: 'Company' },
        fields: [
          field('name', 'text'),
          field('industry', 'select', { options: [{ value: 'mfg', label: { en: 'Manufacturing' } }] }),
          field('credit_code', 'text'),
          field('deal_total', 'rollup', { rollup: { object: 'deal', via: 'company', aggregate: 'sum', field: 'amount', filter: { '==': [v('stage'), 'won'] } } }),
          field('last_close', 'rollup', { rollup: { object: 'deal', via: 'company', aggregate: 'max', field: 'close_date' } }),
        ],
        validations: [{ key: 'code', assert: { isCnCreditCode: [v('credit_code')] }, message: { en: 'bad code' }, severity: 'error' }],
      },
      {
        id: 'o_deal',
        key: 'deal',
        label: { en: 'Deal' },
        fields: [
          field('title', 'text'),
          field('stage', 'select', { options: [{ value: 'won', label: { en: 'Won' } }] }),
          field('amount', 'currency'),
          field('x', 'number'),
          field('close_date', 'date', { defaultExpression: { addDays: [{ today: [] }, 30] } }),
          field('company', 'relation', { target: 'company' }),
          field('key_account', 'formula', {
            resultType: 'boolean',
            formula: { and: [{ '>': [v('amount'), 500000] }, { '==': [v('company.industry'), 'mfg'] }] },
          }),
          field('label', 'formula', { resultType: 'text', formula: { concat: [v('title'), ' / ', v('company.name')] } }),
          field('small', 'formula', { resultType: 'boolean', formula: { '<': [v('x'), 5] } }),
        ],
        validations: [{ key: 'positive', assert: { '>=': [v('amount'), 0] }, message: { en: '>= 0' }, severity: 'error' }],
      },
    ],
    layouts: [
      {
        key: 'deal_form',
        object: 'deal',
        sections: [{ key: 'main', items: [{ field: 'title' }, { field: 'close_date', requiredWhen: { '==': [v('stage'), 'won'] }, visibleWhen: { '!!': [v('company')] } }] }],
      },
    ],
    rules: [
      {
        key: 'follow_up',
        object: 'deal',
        on: ['update'],
        changedFields: ['stage'],
        condition: { '==': [v('stage'), 'won'] },
        actions: [
          { type: 'setFields', values: { close_date: { today: [] }, title: { upper: [v('title')] } } },
          { type: 'createTask', assignee: { currentUser: [] }, title: { concat: ['Follow up ', v('title')] }, dueDate: { addDays: [{ today: [] }, 3] } },
          { type: 'notify', recipients: { currentUser: [] }, message: 'won' },
          { type: 'createRecord', object: 'company', values: { name: v('title') } },
        ],
      },
    ],
  };
}

const deal = (doc: AppDocument) => doc.objects[1]!;
const byPath = (doc: AppDocument) => checkAppExpressions(doc).map((e) => [e.field, e.code]);

describe('checkAppExpressions', () => {
  it('accepts a document whose every expression is sound', () => {
    expect(checkAppExpressions(crm())).toEqual([]);
  });

  it('a formula reading a deleted field is reported with its full path', () => {
    const doc = crm();
    deal(doc).fields.find((f) => f.key === 'amount')!.deleted = true;
    expect(byPath(doc)).toEqual([
      ['objects/1/fields/6/formula/and/0/>/0', 'unknown_field'],
      ['objects/1/validations/0/assert/>=/0', 'unknown_field'],
      ['objects/0/fields/3/rollup/field', 'unknown_field'],
    ].sort(byCode(doc)));
  });

  it('a field retyped from number to text breaks a comparison with a number', () => {
    const doc = crm();
    deal(doc).fields.find((f) => f.key === 'x')!.type = 'text';
    expect(byPath(doc)).toEqual([['objects/1/fields/8/formula/</1', 'type_mismatch']]);
  });

  it('a relation path to a missing field of the target object is reported', () => {
    const doc = crm();
    doc.objects[0]!.fields = doc.objects[0]!.fields.filter((f) => f.key !== 'industry');
    expect(byPath(doc)).toEqual([['objects/1/fields/6/formula/and/1/==/0', 'unknown_field']]);
  });

  it('a formula whose result does not fit its resultType, and formulas that depend on each other', () => {
    const doc = crm();
    deal(doc).fields.find((f) => f.key === 'label')!.resultType = 'number';
    deal(doc).fields.push(field('a', 'formula', { resultType: 'number', formula: { '+': [v('b'), 1] } }), field('b', 'formula', { resultType: 'number', formula: { '*': [v('a'), 2] } }));
    expect(byPath(doc)).toEqual([
      ['objects/1/fields/7/formula', 'type_mismatch'],
      ['objects/1/fields/9/formula', 'cycle'],
    ]);
  });

  it('rollup filters must compile to SQL; layouts and automations are checked against their objects', () => {
    const doc = crm();
    doc.objects[0]!.fields[3]!.rollup!.filter = { '==': [{ lower: [v('stage')] }, 'won'] };
    doc.layouts![0]!.sections[0]!.items[1]!.requiredWhen = { var: 'amount' };
    const rule = doc.rules![0]!;
    rule.condition = { '==': [v('stage'), 1] };
    rule.actions[0] = { type: 'setFields', values: { close_date: 'tomorrow', key_account: true, nope: 1 } };
    rule.actions[1] = { type: 'createTask', assignee: 42, title: 'x', dueDate: v('amount') };
    expect(byPath(doc)).toEqual([
      ['objects/0/fields/3/rollup/filter/==/0', 'not_in_sql'],
      ['layouts/0/sections/0/items/1/requiredWhen', 'not_boolean'],
      ['rules/0/condition/==/1', 'type_mismatch'],
      ['rules/0/actions/0/values/close_date', 'type_mismatch'],
      ['rules/0/actions/0/values/key_account', 'computed_field'],
      ['rules/0/actions/0/values/nope', 'unknown_field'],
      ['rules/0/actions/1/assignee', 'type_mismatch'],
      ['rules/0/actions/1/dueDate', 'type_mismatch'],
    ]);
  });

  it('reads a rollup of dates as a date and a formula as its result type', () => {
    const doc = crm();
    doc.objects[0]!.validations!.push(
      { key: 'recent', assert: { '>': [v('last_close'), '2020-01-01'] }, message: { en: 'x' }, severity: 'warning' },
      { key: 'big', assert: { '>': [v('deal_total'), 0] }, message: { en: 'x' }, severity: 'warning' },
    );
    deal(doc).validations!.push({ key: 'k', assert: { '!': [v('key_account')] }, message: { en: 'x' }, severity: 'warning' });
    expect(checkAppExpressions(doc)).toEqual([]);
  });
});

/** The checker walks objects in order: object 0's rollup comes before object 1's fields. */
function byCode(_doc: AppDocument) {
  const order = (p: string) => (p.startsWith('objects/0') ? 0 : 1);
  return (a: string[], b: string[]) => order(a[0]!) - order(b[0]!);
}
