import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { UserTaskNode } from '../src/index';
import { dealApp, end, flow, openFlowHarness, start, type FlowHarness } from './support/engine-harness';

const HOUR = 3_600_000;

describe('timers against a controllable clock', () => {
  let h: FlowHarness;
  let alice: string, bob: string;

  beforeAll(async () => {
    h = await openFlowHarness();
    [alice, bob] = [h.users.alice!, h.users.bob!];
    const review = (): UserTaskNode => ({
      id: 'review',
      type: 'userTask',
      kind: 'approval',
      mode: 'single',
      assignees: [{ type: 'user', userId: alice }],
      due: { duration: 'P1D' },
    });
    await h.publish(
      dealApp([
        flow('wait', [start(), { id: 'wait', type: 'timerEvent', timer: { duration: 'PT2H' } }, end()], [
          ['start', 'wait'],
          ['wait', 'end'],
        ]),
        flow('until_close', [start(), { id: 'wait', type: 'timerEvent', timer: { date: { var: 'close_date' } } }, end()], [
          ['start', 'wait'],
          ['wait', 'end'],
        ]),
        flow(
          'escalate',
          [
            start(),
            review(),
            { id: 'sla', type: 'boundaryTimer', attachedTo: 'review', timer: { duration: 'P1D' }, interrupting: true },
            { id: 'boss', type: 'userTask', kind: 'approval', mode: 'single', assignees: [{ type: 'user', userId: bob }] },
            end('ok', { result: 'approved' }),
            end('escalated_ok', { result: 'approved by boss' }),
          ],
          [
            ['start', 'review'],
            ['review', 'ok'],
            ['sla', 'boss'],
            ['boss', 'escalated_ok'],
          ],
        ),
        flow(
          'remind',
          [
            start(),
            review(),
            { id: 'nudge', type: 'boundaryTimer', attachedTo: 'review', timer: { duration: 'PT4H' }, interrupting: false },
            { id: 'tell', type: 'serviceTask', action: { type: 'notify', recipients: [{ type: 'user', userId: alice }], message: 'please decide' } },
            end('ok', { result: 'approved' }),
            end('reminded'),
          ],
          [
            ['start', 'review'],
            ['review', 'ok'],
            ['nudge', 'tell'],
            ['tell', 'reminded'],
          ],
        ),
      ]),
    );
  });
  afterAll(() => h.close());

  async function begin(flowKey: string, values: Record<string, unknown> = {}) {
    const record = await (await h.records()).create(h.admin, 'deal', { title: 'x', ...values });
    const started = await h.engine.startInstance(h.admin, 'app', flowKey, { recordId: record.id });
    await h.drain();
    return started.id;
  }
  const status = async (id: string) => (await h.engine.getInstance(h.workspaceId, id)).status;
  const openTasks = (id: string) =>
    h.database.db.selectFrom('flow_tasks').select(['assignee_id', 'node_id', 'due_at']).where('instance_id', '=', id).where('status', '=', 'open').execute();

  it('an intermediate timer waits its duration on the engine clock, not a moment less', async () => {
    const id = await begin('wait');
    const set = (await h.engine.timeline(h.workspaceId, id)).find((e) => e.action === 'timer_set');
    expect(set?.data).toEqual({ due: new Date(h.now.getTime() + 2 * HOUR).toISOString() });
    h.advance(2 * HOUR - 1000);
    expect(await h.drain()).toBe(0);
    expect(await status(id)).toBe('running');
    h.advance(1000);
    await h.drain();
    expect(await status(id)).toBe('completed');
  });

  it('a timer on a date expression fires at that date\'s midnight in the flow time zone', async () => {
    const id = await begin('until_close', { close_date: '2026-03-05' });
    const set = (await h.engine.timeline(h.workspaceId, id)).find((e) => e.action === 'timer_set');
    // midnight in Asia/Shanghai is 16:00 UTC the day before
    expect(set?.data).toEqual({ due: '2026-03-04T16:00:00.000Z' });
  });

  it('an interrupting boundary timer cancels the overdue task and leaves by its own edge', async () => {
    const id = await begin('escalate');
    const [task] = await openTasks(id);
    expect(task).toMatchObject({ assignee_id: alice, node_id: 'review' });
    expect(new Date(task!.due_at!).getTime()).toBe(h.now.getTime() + 24 * HOUR);
    h.advance(24 * HOUR);
    await h.drain();
    expect(await openTasks(id)).toEqual([expect.objectContaining({ assignee_id: bob, node_id: 'boss' })]);
    const cancelled = await h.database.db.selectFrom('flow_tasks').select('status').where('instance_id', '=', id).where('assignee_id', '=', alice).executeTakeFirst();
    expect(cancelled?.status).toBe('cancelled');
    const { items } = await h.engine.inbox(h.workspaceId, bob);
    await h.engine.completeTask(h.as(bob), items.find((t) => t.instanceId === id)!.id, { action: 'approve' });
    await h.drain();
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed', result: 'approved by boss' });
  });

  it('a task decided in time removes its boundary timer', async () => {
    const id = await begin('escalate');
    const { items } = await h.engine.inbox(h.workspaceId, alice);
    await h.engine.completeTask(h.as(alice), items.find((t) => t.instanceId === id)!.id, { action: 'approve' });
    await h.drain();
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed', result: 'approved' });
    const jobs = await h.database.db.selectFrom('jobs').select('kind').where('instance_id', '=', id).execute();
    expect(jobs).toEqual([]);
    const before = await h.engine.timeline(h.workspaceId, id);
    h.advance(48 * HOUR);
    await h.drain();
    expect(await h.engine.timeline(h.workspaceId, id)).toEqual(before);
  });

  it('a non-interrupting boundary timer spawns a reminder branch and the task stays open', async () => {
    const id = await begin('remind');
    h.advance(4 * HOUR);
    await h.drain();
    expect(await openTasks(id)).toEqual([expect.objectContaining({ assignee_id: alice, node_id: 'review' })]);
    const notes = await sql<{ message: string }>`SELECT message FROM notifications WHERE workspace_id = ${h.workspaceId} AND user_id = ${alice}`.execute(h.database.db);
    expect(notes.rows.map((r) => r.message)).toContain('please decide');
    expect(await status(id)).toBe('running');
    const { items } = await h.engine.inbox(h.workspaceId, alice);
    await h.engine.completeTask(h.as(alice), items.find((t) => t.instanceId === id)!.id, { action: 'approve' });
    await h.drain();
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed', result: 'approved' });
    const actions = (await h.engine.timeline(h.workspaceId, id)).map((e) => `${e.nodeId}:${e.action}`);
    expect(actions.filter((a) => a === 'nudge:boundary_fired')).toHaveLength(1);
    expect(actions).toContain('reminded:ended');
  });
});
