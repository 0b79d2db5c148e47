import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '@tessera/store';
import type { FlowDef, UserTaskNode } from '../src/index';
import { dealApp, end, flow, openFlowHarness, start, type FlowHarness } from './support/engine-harness';

function approvalFlow(key: string, mode: UserTaskNode['mode'], assignees: string[], withRejectEdge = true): FlowDef {
  return flow(
    key,
    [
      start(),
      { id: 'review', type: 'userTask', kind: 'approval', mode, assignees: assignees.map((userId) => ({ type: 'user', userId })), editableFields: ['notes'] },
      end('ok', { result: 'approved' }),
      ...(withRejectEdge ? [end('no', { result: 'declined' })] : []),
    ],
    [['start', 'review'], ['review', 'ok', { outcome: 'approved' }], ...(withRejectEdge ? [['review', 'no', { outcome: 'rejected' }] as [string, string, { outcome: 'rejected' }]] : [])],
  );
}

describe('approvals', () => {
  let h: FlowHarness;
  let alice: string, bob: string, carol: string, dave: string;

  beforeAll(async () => {
    h = await openFlowHarness();
    [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((n) => h.users[n]!) as [string, string, string, string];
    const draftAndReview: FlowDef = flow(
      'draft_review',
      [
        start(),
        { id: 'draft', type: 'userTask', kind: 'task', mode: 'single', assignees: [{ type: 'user', userId: alice }] },
        { id: 'review', type: 'userTask', kind: 'approval', mode: 'single', assignees: [{ type: 'field', field: 'approver' }] },
        end('ok', { result: 'approved' }),
      ],
      [
        ['start', 'draft'],
        ['draft', 'review'],
        ['review', 'ok', { outcome: 'approved' }],
      ],
    );
    await h.publish(
      dealApp([
        approvalFlow('single', 'single', [alice, bob]),
        approvalFlow('any', 'any', [alice, bob, carol]),
        approvalFlow('all', 'all', [alice, bob, carol]),
        approvalFlow('sequential', 'sequential', [alice, bob, carol]),
        approvalFlow('no_reject_edge', 'single', [alice], false),
        draftAndReview,
      ]),
    );
  });
  afterAll(() => h.close());

  async function begin(flowKey: string, values: Record<string, unknown> = {}) {
    const record = await (await h.records()).create(h.admin, 'deal', { title: 'Deal', ...values });
    const instance = await h.engine.startInstance(h.admin, 'app', flowKey, { recordId: record.id });
    await h.drain();
    return { id: instance.id, recordId: record.id };
  }

  async function openTask(userId: string, instanceId: string) {
    const { items } = await h.engine.inbox(h.workspaceId, userId, { status: 'open' });
    return items.find((t) => t.instanceId === instanceId) ?? null;
  }

  async function act(userId: string, instanceId: string, action: 'approve' | 'reject' | 'return' | 'delegate' | 'comment', more: Record<string, unknown> = {}) {
    const task = await openTask(userId, instanceId);
    if (!task) throw new Error(`${userId} has no open task on ${instanceId}`);
    const done = await h.engine.completeTask(h.as(userId), task.id, { action, ...more });
    await h.drain();
    return done;
  }

  const instance = (id: string) => h.engine.getInstance(h.workspaceId, id);

  it('single: only the first candidate gets the task; the assignee approves and the instance leaves by the approved edge', async () => {
    const { id } = await begin('single');
    const task = await openTask(alice, id);
    expect(task).toMatchObject({ nodeId: 'review', kind: 'approval', status: 'open', assigneeId: alice, editableFields: ['notes'] });
    expect(task!.actions).toEqual(['approve', 'reject', 'return', 'delegate', 'comment']);
    expect(await openTask(bob, id)).toBeNull();
    // someone else cannot act on alice's task
    expect((await refusal(h.engine.completeTask(h.as(bob), task!.id, { action: 'approve' }))).kind).toBe('forbidden');
    const done = await act(alice, id, 'approve', { comment: 'fine' });
    expect(done).toMatchObject({ status: 'done', decision: 'approve', comment: 'fine' });
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'approved' });
    // acting again on a closed task is refused
    expect((await refusal(h.engine.completeTask(h.as(alice), task!.id, { action: 'approve' }))).kind).toBe('conflict');
    const doneList = await h.engine.inbox(h.workspaceId, alice, { status: 'done' });
    expect(doneList.items.map((t) => t.id)).toContain(task!.id);
  });

  it('any (或签): everyone gets the task, the first decision decides and closes the others', async () => {
    const { id } = await begin('any');
    for (const u of [alice, bob, carol]) expect(await openTask(u, id)).not.toBeNull();
    await act(bob, id, 'reject', { comment: 'too expensive' });
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'declined' });
    for (const u of [alice, carol]) expect(await openTask(u, id)).toBeNull();
    const cancelled = await h.database.db.selectFrom('flow_tasks').select(['assignee_id', 'status']).where('instance_id', '=', id).execute();
    expect(cancelled.filter((t) => t.status === 'cancelled').map((t) => t.assignee_id).sort()).toEqual([alice, carol].sort());
  });

  it('all (会签): every approval is needed; one rejection rejects at once', async () => {
    const approved = await begin('all');
    await act(alice, approved.id, 'approve');
    await act(carol, approved.id, 'approve');
    expect(await instance(approved.id)).toMatchObject({ status: 'running', tokens: [expect.objectContaining({ nodeId: 'review' })] });
    await act(bob, approved.id, 'approve');
    expect(await instance(approved.id)).toMatchObject({ status: 'completed', result: 'approved' });

    const rejected = await begin('all');
    await act(alice, rejected.id, 'approve');
    await act(carol, rejected.id, 'reject');
    expect(await instance(rejected.id)).toMatchObject({ status: 'completed', result: 'declined' });
    expect(await openTask(bob, rejected.id)).toBeNull();
  });

  it('all: concurrent approvals by the last two approvers leave the task exactly once', async () => {
    const { id } = await begin('all');
    await act(alice, id, 'approve');
    const [tb, tc] = [await openTask(bob, id), await openTask(carol, id)];
    await Promise.all([h.engine.completeTask(h.as(bob), tb!.id, { action: 'approve' }), h.engine.completeTask(h.as(carol), tc!.id, { action: 'approve' })]);
    await h.drain();
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'approved' });
    const ends = (await h.engine.timeline(h.workspaceId, id)).filter((e) => e.nodeId === 'ok');
    expect(ends).toHaveLength(1);
  });

  it('sequential: candidates decide one after the other, in order', async () => {
    const { id } = await begin('sequential');
    expect(await openTask(bob, id)).toBeNull();
    await act(alice, id, 'approve');
    expect(await openTask(alice, id)).toBeNull();
    expect(await openTask(carol, id)).toBeNull();
    await act(bob, id, 'approve');
    await act(carol, id, 'approve');
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'approved' });
    const order = (await h.engine.timeline(h.workspaceId, id)).filter((e) => e.action === 'approve').map((e) => e.actorId);
    expect(order).toEqual([alice, bob, carol]);
  });

  it('a rejection with no rejected edge ends the instance with result "rejected"', async () => {
    const { id } = await begin('no_reject_edge');
    await act(alice, id, 'reject');
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'rejected', tokens: [] });
  });

  it('return sends the instance back to an earlier task, which opens again; the timeline tells the whole story', async () => {
    const { id } = await begin('draft_review', { approver: bob });
    await act(alice, id, 'approve', { comment: 'drafted' });
    expect(await openTask(bob, id)).not.toBeNull();
    // only an earlier user task is a valid return target
    const t = await openTask(bob, id);
    const bad = await refusal(h.engine.completeTask(h.as(bob), t!.id, { action: 'return', returnTo: 'ok' }));
    expect(bad.errors[0]).toMatchObject({ field: 'returnTo' });
    await act(bob, id, 'return', { returnTo: 'draft', comment: 'add the discount' });
    expect(await openTask(bob, id)).toBeNull();
    const again = await openTask(alice, id);
    expect(again).toMatchObject({ nodeId: 'draft', status: 'open' });
    await act(alice, id, 'approve', { comment: 'discount added' });
    await act(bob, id, 'approve');
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'approved' });
    const story = (await h.engine.timeline(h.workspaceId, id)).map((e) => [e.nodeId, e.action, e.actorId, e.comment]);
    expect(story).toEqual([
      ['start', 'started', h.admin.userId, null],
      ['draft', 'task_created', null, null],
      ['draft', 'approve', alice, 'drafted'],
      ['review', 'task_created', null, null],
      ['review', 'return', bob, 'add the discount'],
      ['draft', 'task_created', null, null],
      ['draft', 'approve', alice, 'discount added'],
      ['review', 'task_created', null, null],
      ['review', 'approve', bob, null],
      ['ok', 'ended', null, null],
      [null, 'completed', null, null],
    ]);
  });

  it('delegate hands the task to another user, who decides in the delegator\'s place', async () => {
    const { id } = await begin('single');
    const bad = await refusal(act(alice, id, 'delegate', { delegateTo: '00000000-0000-4000-8000-000000000000' }));
    expect(bad.errors[0]).toMatchObject({ field: 'delegateTo' });
    await act(alice, id, 'delegate', { delegateTo: dave, comment: 'on leave' });
    expect(await openTask(alice, id)).toBeNull();
    expect(await openTask(dave, id)).toMatchObject({ nodeId: 'review' });
    await act(dave, id, 'approve');
    expect(await instance(id)).toMatchObject({ status: 'completed', result: 'approved' });
  });

  it('comment leaves the task open and goes to the timeline; editable fields are saved through the record rules', async () => {
    const { id, recordId } = await begin('single');
    await act(alice, id, 'comment', { comment: 'looking at it', values: { notes: 'checked the numbers' } });
    expect(await openTask(alice, id)).not.toBeNull();
    const record = await (await h.records()).get(h.workspaceId, 'deal', recordId);
    expect(record.notes).toBe('checked the numbers');
    const refused = await refusal(act(alice, id, 'approve', { values: { amount: 1 } }));
    expect(refused.errors[0]).toMatchObject({ field: 'values/amount', code: 'not_editable' });
    expect(await openTask(alice, id)).not.toBeNull();
    const entry = (await h.engine.timeline(h.workspaceId, id)).find((e) => e.action === 'comment');
    expect(entry).toMatchObject({ actorId: alice, comment: 'looking at it', nodeId: 'review' });
  });

  it('a task nobody can be assigned to becomes an incident naming the node', async () => {
    const orphan = flow('orphan', [start(), { id: 'review', type: 'userTask', kind: 'approval', mode: 'single', assignees: [{ type: 'field', field: 'approver' }] }, end()], [
      ['start', 'review'],
      ['review', 'end'],
    ]);
    await h.publish(dealApp([orphan]));
    const { id } = await begin('orphan');
    const incident = (await h.engine.incidents(h.workspaceId, { status: 'open' })).find((i) => i.instanceId === id);
    expect(incident).toMatchObject({ nodeId: 'review' });
  });
});
