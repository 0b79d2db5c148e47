import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import { expectProblem, publishApp, startHarness, type Harness } from './harness';

const l = (en: string, zh = en) => ({ en, zh });

/** A deal whose lost reason is required when lost, whose amount locks when won, with a rule, a warning and an automation. */
function rulesDraft(): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: l('Deal', '交易'),
        fields: [
          { key: 'title', type: 'text', label: l('Title', '标题'), required: true },
          {
            key: 'stage',
            type: 'select',
            label: l('Stage', '阶段'),
            options: [
              { value: 'new', label: l('New', '新建') },
              { value: 'won', label: l('Won', '赢单') },
              { value: 'lost', label: l('Lost', '输单') },
            ],
          },
          { key: 'amount', type: 'currency', label: l('Amount', '金额') },
          { key: 'lost_reason', type: 'text', label: l('Lost reason', '输单原因') },
        ],
        validations: [
          {
            key: 'amount_positive',
            assert: { or: [{ isEmpty: [{ var: 'amount' }] }, { '>': [{ var: 'amount' }, 0] }] },
            message: { zh: '金额必须大于零', en: 'The amount must be positive' },
            severity: 'error',
            fields: ['amount'],
          },
          {
            key: 'small_deal',
            assert: { or: [{ isEmpty: [{ var: 'amount' }] }, { '>=': [{ var: 'amount' }, 100] }] },
            message: { zh: '金额偏小', en: 'A small amount' },
            severity: 'warning',
            fields: ['amount'],
          },
        ],
      },
    ],
    layouts: [
      {
        key: 'deal_form',
        object: 'deal',
        sections: [
          {
            key: 'main',
            items: [
              { field: 'title' },
              { field: 'lost_reason', requiredWhen: { '==': [{ var: 'stage' }, 'lost'] } },
              { field: 'amount', readOnlyWhen: { '==': [{ var: 'stage' }, 'won'] } },
            ],
          },
        ],
      },
    ],
    rules: [
      {
        key: 'won_task',
        object: 'deal',
        on: ['update'],
        changedFields: ['stage'],
        condition: { '==': [{ var: 'stage' }, 'won'] },
        actions: [
          { type: 'createTask', assignee: { currentUser: [] }, title: 'Send the contract', dueDate: '2030-01-31' },
          { type: 'notify', recipients: { currentUser: [] }, message: 'A deal was won' },
        ],
      },
    ],
  };
}

describe('rules over HTTP', () => {
  let h: Harness;
  const base = '/api/apps/sales/records/deal';
  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'sales', rulesDraft());
  });
  afterAll(async () => {
    await h?.close();
  });

  it('rejects a skipped required-when field over the raw API with 422 naming it, storing nothing', async () => {
    const res = await h.call('POST', base, { title: 'Lost deal', stage: 'lost' });
    expect(res.statusCode).toBe(422);
    expect(expectProblem(res).errors).toEqual([expect.objectContaining({ field: 'lost_reason', code: 'required' })]);
    const list = (await h.call('GET', base)).json() as { items: unknown[] };
    expect(list.items).toHaveLength(0);
    expect((await h.call('POST', base, { title: 'Lost deal', stage: 'lost', lost_reason: 'price' })).statusCode).toBe(201);
  });

  it('refuses to change a read-only-when field', async () => {
    const created = (await h.call('POST', base, { title: 'Won deal', stage: 'won', amount: '500' })).json() as { id: string };
    const res = await h.call('PATCH', `${base}/${created.id}`, { amount: '600' }, { 'if-match': '1' });
    expect(res.statusCode).toBe(422);
    expect(expectProblem(res).errors[0]).toMatchObject({ field: 'amount', code: 'read_only' });
  });

  it('answers a failed validation rule with 422 naming the rule, in the language asked for', async () => {
    const zh = await h.call('POST', base, { title: 'Free', amount: '0' });
    expect(zh.statusCode).toBe(422);
    expect(expectProblem(zh).errors).toEqual([{ field: 'amount', code: 'amount_positive', message: '金额必须大于零' }]);
    const en = await h.call('POST', base, { title: 'Free', amount: '0' }, { 'accept-language': 'en-US,en;q=0.9' });
    expect(expectProblem(en).errors[0]?.message).toBe('The amount must be positive');
  });

  it('saves despite a warning and returns it in _warnings', async () => {
    const res = await h.call('POST', base, { title: 'Tiny', amount: '5' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ title: 'Tiny', _warnings: [{ rule: 'small_deal', code: 'validation', message: '金额偏小', fields: ['amount'] }] });
    const clean = await h.call('POST', base, { title: 'Fine', amount: '500' });
    expect(clean.json()).not.toHaveProperty('_warnings');
  });

  it("lists the tasks and notifications automations created for the signed-in user", async () => {
    expect((await h.call('GET', '/api/tasks')).json()).toEqual({ items: [] });
    const created = (await h.call('POST', base, { title: 'Closing' })).json() as { id: string };
    const won = await h.call('PATCH', `${base}/${created.id}`, { stage: 'won' }, { 'if-match': '1' });
    expect(won.statusCode).toBe(200);
    const tasks = (await h.call('GET', '/api/tasks')).json() as { items: Array<Record<string, unknown>> };
    expect(tasks.items).toEqual([expect.objectContaining({ title: 'Send the contract', dueDate: '2030-01-31', recordId: created.id, status: 'open' })]);
    expect(((await h.call('GET', '/api/tasks?status=done')).json() as { items: unknown[] }).items).toEqual([]);
    expect((await h.call('GET', '/api/tasks?status=later')).statusCode).toBe(400);
    const notes = (await h.call('GET', '/api/notifications')).json() as { items: Array<Record<string, unknown>> };
    expect(notes.items).toEqual([expect.objectContaining({ message: 'A deal was won', recordId: created.id, readAt: null })]);
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/tasks' });
    expect(anonymous.statusCode).toBe(401);
  });
});
