import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutomationRule } from '@tessera/metadata';
import { refusal } from '@tessera/store';
import { dealApp, end, flow, openFlowHarness, start, type FlowHarness } from './support/engine-harness';

// A record automation (packages/rules) whose action is startFlow: the flow starts in the
// write's transaction, so it starts exactly when the write commits.
describe('startFlow automation action', () => {
  let h: FlowHarness;
  beforeAll(async () => {
    h = await openFlowHarness();
    const review = flow('review', [start({ type: 'manual' }), { id: 'mark', type: 'serviceTask', action: { type: 'updateRecord', values: { notes: 'reviewed' } } }, end()], [
      ['start', 'mark'],
      ['mark', 'end'],
    ]);
    const rules: AutomationRule[] = [
      { key: 'review_big', object: 'deal', on: ['create', 'update'], changedFields: ['amount'], condition: { '>=': [{ var: 'amount' }, 1000] }, actions: [{ type: 'startFlow', flow: 'review' }] },
      // a second action that fails rolls the whole write back, the flow start with it
      { key: 'refuse_huge', object: 'deal', on: ['create'], condition: { '>': [{ var: 'amount' }, 1e9] }, actions: [{ type: 'startFlow', flow: 'review' }, { type: 'createTask', assignee: 'not-a-user', title: 'x' }] },
    ];
    await h.publish(dealApp([review], { rules }));
  });
  afterAll(() => h.close());

  const instancesOf = (recordId: string) => h.engine.instancesOfRecord(h.workspaceId, recordId);

  it('starts the flow for the record that fired the rule, and only when the condition holds', async () => {
    const repo = await h.records();
    const big = await repo.create(h.admin, 'deal', { title: 'big', amount: 5000 });
    const small = await repo.create(h.admin, 'deal', { title: 'small', amount: 10 });
    await h.drain();
    expect(await instancesOf(big.id)).toEqual([expect.objectContaining({ flowKey: 'review', status: 'completed', startedBy: h.admin.userId })]);
    expect(await instancesOf(small.id)).toEqual([]);
    expect(await repo.get(h.workspaceId, 'deal', big.id)).toMatchObject({ notes: 'reviewed' });
    // an update that raises the amount fires the rule again
    await repo.update(h.admin, 'deal', small.id, { amount: 2000 }, small.version);
    await h.drain();
    expect(await instancesOf(small.id)).toHaveLength(1);
  });

  it('a write that fails after the startFlow action starts nothing', async () => {
    const repo = await h.records();
    const before = await h.database.db.selectFrom('jobs').select('id').where('workspace_id', '=', h.workspaceId).execute();
    const problem = await refusal(repo.create(h.admin, 'deal', { title: 'huge', amount: 2e9 }));
    expect(problem.kind).toBe('unprocessable');
    const after = await h.database.db.selectFrom('jobs').select('id').where('workspace_id', '=', h.workspaceId).execute();
    expect(after).toHaveLength(before.length);
  });
});
