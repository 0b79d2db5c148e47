import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import { label, problemOf, publishRules, type RulesHarness } from './fixture';

const doc: AppDocument = {
  objects: [
    {
      key: 'company',
      label: label('Company'),
      fields: [
        { key: 'name', type: 'text', label: label('Name'), required: true },
        { key: 'city', type: 'text', label: label('City') },
        { key: 'phone', type: 'phone', label: label('Phone') },
      ],
      duplicateRules: [
        { key: 'same_company', match: [{ field: 'name', method: 'company' }], action: 'block' },
        { key: 'same_phone', match: [{ field: 'phone', method: 'phone' }], action: 'warn' },
      ],
    },
  ],
};

describe('duplicate rules on write', () => {
  let h: RulesHarness;
  beforeAll(async () => {
    h = await publishRules(doc);
  });
  afterAll(async () => h?.close());

  it('blocks a company that already exists under another legal form, naming the existing record', async () => {
    const first = await h.records().create(h.actor, 'company', { name: '华为技术有限公司', city: '深圳' });
    const refused = await problemOf(h.records().create(h.actor, 'company', { name: '华为技术' }));
    expect(refused.status).toBe(409);
    expect(refused.extra.duplicates).toEqual([{ rule: 'same_company', recordIds: [first.id] }]);
    expect(refused.errors[0]).toMatchObject({ field: 'name', code: 'duplicate' });
  });

  it('warns on a shared phone but saves', async () => {
    const a = await h.records().create(h.actor, 'company', { name: '腾讯', phone: '138 0013 8000' });
    const b = await h.records().create(h.actor, 'company', { name: '阿里巴巴', phone: '+86 13800138000' });
    expect(b._warnings).toEqual([expect.objectContaining({ rule: 'same_phone', code: 'duplicate', records: [a.id] })]);
  });

  it('keeps records that already match editable in other fields, and still blocks a change into a match', async () => {
    // written by the system (an import before the rule existed, say): the pair already matches
    const original = await h.records().create(h.actor, 'company', { name: '小米科技有限责任公司' });
    const twin = await h.records().create(h.as('system'), 'company', { name: '小米科技' });
    const edited = await h.records().update(h.actor, 'company', twin.id, { city: '北京' }, twin.version);
    expect(edited.city).toBe('北京');
    const other = await h.records().create(h.actor, 'company', { name: '字节跳动' });
    const refused = await problemOf(h.records().update(h.actor, 'company', other.id, { name: '小米科技 有限公司' }, other.version));
    expect(refused.status).toBe(409);
    expect((refused.extra.duplicates as Array<{ recordIds: string[] }>)[0]?.recordIds).toEqual(expect.arrayContaining([original.id, twin.id]));
  });
});
