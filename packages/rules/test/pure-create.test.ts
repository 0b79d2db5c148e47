import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import { label, problemOf, publishRules, type RulesHarness } from './fixture';

// Rules that compute from the input alone: the store writes such a create as one
// statement (no explicit transaction); every rule must still apply.
const doc: AppDocument = {
  objects: [
    {
      key: 'quote',
      label: label('Quote'),
      fields: [
        { key: 'title', type: 'text', label: label('Title'), required: true },
        { key: 'qty', type: 'number', label: label('Quantity') },
        { key: 'price', type: 'currency', label: label('Price') },
        { key: 'total', type: 'formula', resultType: 'currency', formula: { '*': [{ var: 'qty' }, { var: 'price' }] }, label: label('Total') },
        { key: 'reason', type: 'text', label: label('Discount reason') },
        { key: 'stage', type: 'text', label: label('Stage'), defaultValue: 'draft' },
      ],
      validations: [
        { key: 'qty_positive', assert: { '>': [{ var: 'qty' }, 0] }, message: { en: 'Quantity must be positive', zh: '数量必须大于零' }, severity: 'error', fields: ['qty'] },
        { key: 'big_quote', assert: { '<': [{ var: 'total' }, 100000] }, message: { en: 'Large quote', zh: '大额报价' }, severity: 'warning', fields: ['total'] },
      ],
    },
  ],
  layouts: [
    {
      key: 'quote_form',
      object: 'quote',
      default: true,
      sections: [{ key: 'main', items: [{ field: 'title' }, { field: 'qty' }, { field: 'price' }, { field: 'reason', requiredWhen: { '>': [{ var: 'qty' }, 100] } }] }],
    },
  ],
};

describe('a create whose rules compute from the input alone', () => {
  let h: RulesHarness;
  beforeAll(async () => {
    h = await publishRules(doc);
  });
  afterAll(async () => h?.close());

  it('stores formulas and defaults, returns warnings and writes history', async () => {
    const quote = await h.records().create(h.actor, 'quote', { title: 'Servers', qty: 40, price: '2999.50' });
    expect(quote).toMatchObject({ total: '119980.00', stage: 'draft' });
    expect(quote._warnings).toEqual([expect.objectContaining({ rule: 'big_quote' })]);
    expect(await h.records().get(h.actor.workspaceId, 'quote', quote.id)).toMatchObject({ total: '119980.00' });
    expect(await h.count('record_history')).toBe(1);
  });

  it('refuses a failing validation or a required-when field and stores nothing', async () => {
    const before = await h.count('records');
    const invalid = await problemOf(h.records('en').create(h.actor, 'quote', { title: 'None', qty: 0, price: '1' }));
    expect(invalid).toMatchObject({ status: 422 });
    expect(invalid.errors[0]).toMatchObject({ field: 'qty', code: 'qty_positive', message: 'Quantity must be positive' });
    const missing = await problemOf(h.records().create(h.actor, 'quote', { title: 'Bulk', qty: 500, price: '1' }));
    expect(missing.errors[0]).toMatchObject({ field: 'reason' });
    expect(await h.count('records')).toBe(before);
  });
});
