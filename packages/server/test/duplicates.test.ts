import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import { expectProblem, publishApp, startHarness, type Harness } from './harness';

interface Rec {
  id: string;
  version: number;
  [k: string]: unknown;
}

/** Warn-only rules, so the records under test can be created whatever the write pipeline does with duplicates. */
function draft(): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: { en: 'Company', zh: '公司' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '名称' }, required: true },
          { key: 'email', type: 'email', label: { en: 'Email', zh: '邮箱' } },
          { key: 'phone', type: 'phone', label: { en: 'Phone', zh: '电话' } },
        ],
        duplicateRules: [
          { key: 'same_name', action: 'warn', match: [{ field: 'name', method: 'company' }] },
          { key: 'same_contact', action: 'warn', match: [{ field: 'email', method: 'email' }, { field: 'phone', method: 'phone' }] },
        ],
      },
      {
        key: 'contact',
        label: { en: 'Contact', zh: '联系人' },
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '姓名' } },
          { key: 'company', type: 'relation', target: 'company', label: { en: 'Company', zh: '公司' } },
        ],
      },
    ],
  };
}

describe('duplicates and merge over HTTP', () => {
  let h: Harness;
  const base = '/api/apps/dup/records';
  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'dup', draft());
  });
  afterAll(async () => {
    await h?.close();
  });

  async function create(object: string, body: Record<string, unknown>): Promise<Rec> {
    const res = await h.call('POST', `${base}/${object}`, body);
    if (res.statusCode !== 201) throw new Error(res.body);
    return res.json() as Rec;
  }

  it('answers a form asking before saving with every matching rule and the candidate records', async () => {
    const huawei = await create('company', { name: '华为技术有限公司', email: 'foo@example.com', phone: '138 0013 8000' });
    const res = await h.call('POST', `${base}/company/duplicates`, { name: '华为技术', email: 'Foo@Example.COM', phone: '+86 13800138000' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      matches: [
        { rule: 'same_name', action: 'warn', records: [expect.objectContaining({ id: huawei.id, name: '华为技术有限公司', version: huawei.version })] },
        { rule: 'same_contact', action: 'warn', records: [expect.objectContaining({ id: huawei.id })] },
      ],
    });
    // editing the record itself: it is not its own duplicate
    const self = await h.call('POST', `${base}/company/duplicates?exclude=${huawei.id}`, { name: '华为技术' });
    expect(self.json()).toEqual({ matches: [] });
    // only one of the two fields of a rule: that rule cannot say anything yet
    const partial = await h.call('POST', `${base}/company/duplicates`, { email: 'foo@example.com' });
    expect(partial.json()).toEqual({ matches: [] });
  });

  it('refuses bad input as problem documents', async () => {
    const unknown = await h.call('POST', `${base}/company/duplicates`, { colour: 'red' });
    expect(unknown.statusCode).toBe(422);
    expect(expectProblem(unknown).errors[0]?.field).toBe('colour');
    const badExclude = await h.call('POST', `${base}/company/duplicates?exclude=1%20OR%201=1`, { name: 'x' });
    expect(badExclude.statusCode).toBe(400);
    expect(expectProblem(badExclude).errors[0]?.field).toBe('exclude');
    expect((await h.call('POST', `${base}/nope/duplicates`, { name: 'x' })).statusCode).toBe(404);
    const anonymous = await h.app.inject({ method: 'POST', url: `${base}/company/duplicates`, payload: { name: 'x' } });
    expect(anonymous.statusCode).toBe(401);
  });

  it('merges: chosen values, relations re-pointed, the merged record gone; errors name the field', async () => {
    const survivor = await create('company', { name: 'Acme', email: 'acme@example.com' });
    const merged = await create('company', { name: 'ACME Co., Ltd.', phone: '010-12345678' });
    const contact = await create('contact', { name: '张三', company: merged.id });

    const noId = await h.call('POST', `${base}/company/${survivor.id}/merge`, { choices: {} });
    expect(noId.statusCode).toBe(400);
    const badChoice = await h.call('POST', `${base}/company/${survivor.id}/merge`, { mergeId: merged.id, choices: { colour: 'merged' } });
    expect(badChoice.statusCode).toBe(422);
    expect(expectProblem(badChoice).errors[0]).toMatchObject({ field: 'choices/colour', code: 'unknown_field' });
    expect((await h.call('POST', `${base}/company/${survivor.id}/merge`, { mergeId: survivor.id })).statusCode).toBe(404);

    const res = await h.call('POST', `${base}/company/${survivor.id}/merge`, { mergeId: merged.id, choices: { name: 'merged' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(`"${survivor.version + 1}"`);
    expect(res.json()).toMatchObject({ id: survivor.id, name: 'ACME Co., Ltd.', email: 'acme@example.com', phone: '010-12345678' });
    expect((await h.call('GET', `${base}/contact/${contact.id}`)).json()).toMatchObject({ company: survivor.id });
    expect((await h.call('GET', `${base}/company/${merged.id}`)).statusCode).toBe(404);
    const again = await h.call('POST', `${base}/company/${survivor.id}/merge`, { mergeId: merged.id });
    expect(again.statusCode).toBe(404);
    expect(expectProblem(again).errors[0]?.field).toBe('mergeId');
  });
});
