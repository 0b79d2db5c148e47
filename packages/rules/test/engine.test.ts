import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRecord } from '@tessera/store';
import { crmWithRules } from './crm-rules';
import { problemOf, publishRules, type RulesHarness } from './fixture';

const shanghaiToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

describe('rule engine on record writes', () => {
  let h: RulesHarness;
  beforeAll(async () => {
    h = await publishRules(crmWithRules());
  });
  afterAll(async () => {
    await h?.close();
  });

  const createDeal = (input: Record<string, unknown>) => h.records().create(h.actor, 'deal', input);

  describe('defaults and autonumbers', () => {
    it('fills static and expression defaults only for values the input leaves out', async () => {
      const deal = await createDeal({ title: 'Defaults' });
      expect(deal).toMatchObject({ stage: 'new', close_date: shanghaiToday(), owner: h.actor.userId });
      const explicit = await createDeal({ title: 'Explicit', stage: 'won', close_date: '2024-01-31', owner: null });
      expect(explicit).toMatchObject({ stage: 'won', close_date: '2024-01-31' });
      expect(explicit.owner ?? null).toBeNull();
    });

    it('numbers records by the pattern, in the workspace time zone, counting up', async () => {
      const [y, m] = shanghaiToday().split('-');
      const a = await createDeal({ title: 'A' });
      const b = await createDeal({ title: 'B' });
      expect(a.number).toMatch(new RegExp(`^QT-${y}${m}-\\d{4}$`));
      expect(Number(String(b.number).slice(-4))).toBe(Number(String(a.number).slice(-4)) + 1);
    });

    it('never hands out a number twice under 50 concurrent creates, and a rolled-back create gives its number back', async () => {
      const before = await createDeal({ title: 'first' });
      const start = Number(String(before.number).slice(-4));
      const created = await Promise.all(Array.from({ length: 50 }, (_, i) => createDeal({ title: `concurrent ${i}` })));
      const numbers = created.map((d) => Number(String(d.number).slice(-4))).sort((x, y) => x - y);
      expect(new Set(numbers).size).toBe(50);
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => start + 1 + i));
      await problemOf(createDeal({ title: 'refused', amount: '-1' }));
      const after = await createDeal({ title: 'after rollback' });
      expect(Number(String(after.number).slice(-4))).toBe(start + 51);
    });

    it('refuses an autonumber on input', async () => {
      const p = await problemOf(createDeal({ title: 'x', number: 'QT-1' }));
      expect(p.status).toBe(422);
      expect(p.errors[0]?.field).toBe('number');
    });
  });

  describe('formulas', () => {
    it('stores formulas on write and recomputes them when an input changes', async () => {
      const deal = await createDeal({ title: 'Small', amount: '1000' });
      expect(deal.big).toBe(false);
      const grown = await h.records().update(h.actor, 'deal', deal.id, { amount: '900000' }, deal.version);
      expect(grown.big).toBe(true);
    });

    it('reads through a relation and follows the parent when it changes', async () => {
      const company = await h.records().create(h.actor, 'company', { name: 'Acme', industry: 'manufacturing' });
      const deal = await createDeal({ title: 'Through relation', company: company.id });
      expect(deal.industry).toBe('manufacturing');
      // the deal's rollups moved the company on a version
      const counted = await h.records().get(h.actor.workspaceId, 'company', company.id);
      expect(counted).toMatchObject({ deal_count: 1, version: 2 });
      await h.records().update(h.actor, 'company', company.id, { industry: 'retail' }, counted.version);
      const reread = await h.records().get(h.actor.workspaceId, 'deal', deal.id);
      expect(reread.industry).toBe('retail');
      expect(reread.version).toBe(deal.version + 1);
      const other = await h.records().create(h.actor, 'company', { name: 'Other', industry: 'energy' });
      const moved = await h.records().update(h.actor, 'deal', deal.id, { company: other.id }, reread.version);
      expect(moved.industry).toBe('energy');
      const cleared = await h.records().update(h.actor, 'deal', deal.id, { company: null }, moved.version);
      expect(cleared.industry).toBeUndefined();
    });
  });

  describe('validation rules', () => {
    it('refuses an error rule with 422 naming the rule and its fields, in the request language, storing nothing', async () => {
      const before = await h.count('records');
      const zh = await problemOf(createDeal({ title: 'Negative', amount: '-5' }));
      expect(zh.status).toBe(422);
      expect(zh.message).toBe('金额不能为负数');
      expect(zh.errors).toEqual([{ field: 'amount', code: 'amount_not_negative', message: '金额不能为负数' }]);
      const en = await problemOf(h.records('en').create(h.actor, 'deal', { title: 'Negative', amount: '-5' }));
      expect(en.errors[0]?.message).toBe('The amount cannot be negative');
      expect(await h.count('records')).toBe(before);
    });

    it('saves despite a warning rule and returns the warning with the record', async () => {
      const deal = await createDeal({ title: 'Big, no company', amount: '600000' });
      expect(deal._warnings).toEqual([{ rule: 'big_deal_needs_company', code: 'validation', message: '大单应关联公司', fields: ['company'] }]);
      const stored = await h.records().get(h.actor.workspaceId, 'deal', deal.id);
      expect(stored.title).toBe('Big, no company');
      expect(stored._warnings).toBeUndefined();
    });

    it('applies to automation and system writes too', async () => {
      const p = await problemOf(h.records().create(h.as('flow'), 'deal', { title: 'Flow', amount: '-1' }));
      expect(p.errors[0]?.code).toBe('amount_not_negative');
    });
  });

  describe('form behaviour of the default layout', () => {
    it('requires a required-when field, unless the layout hides it', async () => {
      const p = await problemOf(createDeal({ title: 'Lost', stage: 'lost' }));
      expect(p.status).toBe(422);
      expect(p.errors).toEqual([expect.objectContaining({ field: 'lost_reason', code: 'required' })]);
      expect((await createDeal({ title: 'Lost', stage: 'lost', lost_reason: 'price' })).lost_reason).toBe('price');
      // discount is required when won but only visible when hot
      expect((await createDeal({ title: 'Won, not hot', stage: 'won', hot: false })).stage).toBe('won');
      const visible = await problemOf(createDeal({ title: 'Won, hot', stage: 'won', hot: true }));
      expect(visible.errors).toEqual([expect.objectContaining({ field: 'discount', code: 'required' })]);
    });

    it('refuses to change a read-only-when field, judged on the stored record', async () => {
      const deal = await createDeal({ title: 'Lock', amount: '100', stage: 'won' });
      const p = await problemOf(h.records().update(h.actor, 'deal', deal.id, { amount: '200' }, deal.version));
      expect(p.errors).toEqual([expect.objectContaining({ field: 'amount', code: 'read_only' })]);
      // the lock follows the stored stage: reopening and changing the amount in one write is refused too
      expect((await problemOf(h.records().update(h.actor, 'deal', deal.id, { stage: 'new', amount: '200' }, deal.version))).errors[0]?.code).toBe('read_only');
      const reopened = await h.records().update(h.actor, 'deal', deal.id, { stage: 'new' }, deal.version);
      expect((await h.records().update(h.actor, 'deal', deal.id, { amount: '200' }, reopened.version)).amount).toBe('200.00');
    });

    it('does not bind automations and system writes', async () => {
      const deal = await h.records().create(h.as('flow'), 'deal', { title: 'By a flow', stage: 'lost' });
      expect(deal.stage).toBe('lost');
    });
  });

  describe('automations', () => {
    it('creates a task and a notification for the owner of a new big deal, in the same transaction', async () => {
      const tasks = await h.count('tasks');
      const deal = await createDeal({ title: 'Huge', amount: '2000000', close_date: '2030-06-30' });
      expect(await h.count('tasks')).toBe(tasks + 1);
      const task = await h.database.db
        .selectFrom('tasks' as 'records')
        .selectAll()
        .where('record_id' as 'id', '=', deal.id)
        .executeTakeFirstOrThrow();
      expect(task).toMatchObject({ user_id: h.actor.userId, title: '跟进大单', status: 'open' });
      expect(await h.count('notifications')).toBeGreaterThan(0);
    });

    it('creates a related record and sets fields when the stage changes to won', async () => {
      const deal = await createDeal({ title: 'Closing', amount: '10' });
      const won = await h.records().update(h.actor, 'deal', deal.id, { stage: 'won' }, deal.version);
      // the answer shows what is stored after the automation set hot
      expect(won).toMatchObject({ stage: 'won', hot: true, version: deal.version + 2 });
      const activities = await h.records().list(h.actor.workspaceId, 'activity', { filter: { '==': [{ var: 'deal' }, deal.id] } }, { now: new Date() });
      expect(activities.items.map((a) => a.subject)).toEqual(['Kick-off']);
      const history = await h.database.db.selectFrom('record_history').select(['source', 'action']).where('record_id', '=', deal.id).orderBy('version').execute();
      expect(history.map((r) => `${r.action}/${r.source}`)).toEqual(['create/api', 'update/api', 'update/flow']);
    });
  });
});

describe('automation failures', () => {
  let h: RulesHarness;
  beforeAll(async () => {
    h = await publishRules({
      objects: [
        {
          key: 'ping',
          label: { en: 'Ping' },
          fields: [
            { key: 'name', type: 'text', label: { en: 'Name' } },
            { key: 'flag', type: 'boolean', label: { en: 'Flag' } },
            { key: 'assignee', type: 'text', label: { en: 'Assignee' } },
          ],
        },
        { key: 'echo', label: { en: 'Echo' }, fields: [{ key: 'name', type: 'text', label: { en: 'Name' } }] },
      ],
      rules: [
        // flips its own trigger field: a chain that never settles
        { key: 'flip', object: 'ping', on: ['update'], changedFields: ['flag'], actions: [{ type: 'setFields', values: { flag: { '!': [{ var: 'flag' }] } } }] },
        // every echo creates another echo
        { key: 'echo_again', object: 'echo', on: ['create'], actions: [{ type: 'createRecord', object: 'echo', values: { name: { var: 'name' } } }] },
        // assigns a task to whoever the record names
        {
          key: 'assign',
          object: 'ping',
          on: ['create'],
          condition: { '!!': [{ var: 'assignee' }] },
          actions: [
            { type: 'notify', recipients: { currentUser: [] }, message: 'assigning' },
            { type: 'createTask', assignee: { var: 'assignee' }, title: 'Do it' },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stops a self-triggering update chain with automation_loop and leaves nothing written', async () => {
    const ping = await h.records().create(h.actor, 'ping', { name: 'p', flag: false });
    const history = await h.count('record_history');
    const p = await problemOf(h.records().update(h.actor, 'ping', ping.id, { flag: true }, ping.version));
    expect(p.status).toBe(422);
    expect(p.errors.map((e) => e.code)).toContain('automation_loop');
    expect(p.message).toContain('flip');
    const stored = await h.records().get(h.actor.workspaceId, 'ping', ping.id);
    expect(stored).toMatchObject({ flag: false, version: 1 });
    expect(await h.count('record_history')).toBe(history);
  });

  it('stops a self-replicating create chain with automation_loop and creates nothing', async () => {
    const before = await h.count('records');
    const p = await problemOf(h.records().create(h.actor, 'echo', { name: 'e' }));
    expect(p.errors.map((e) => e.code)).toContain('automation_loop');
    expect(await h.count('records')).toBe(before);
  });

  it('rolls the whole write back when an action fails, naming the automation', async () => {
    const before = { records: await h.count('records'), notifications: await h.count('notifications'), tasks: await h.count('tasks') };
    const p = await problemOf(h.records().create(h.actor, 'ping', { name: 'bad', assignee: 'nobody' }));
    expect(p.status).toBe(422);
    expect(p.message).toContain('Automation "assign" failed');
    expect(p.extra.automation).toBe('assign');
    expect(p.errors[0]?.field).toBe('assignee');
    expect({ records: await h.count('records'), notifications: await h.count('notifications'), tasks: await h.count('tasks') }).toEqual(before);
    const ok = await h.records().create(h.actor, 'ping', { name: 'good', assignee: h.actor.userId });
    expect(ok.id).toBeDefined();
    expect(await h.count('tasks')).toBe(before.tasks + 1);
  });
});

export type { ApiRecord };
