import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowDef } from '../src/index';
import { dealApp, end, flow, openFlowHarness, start, T0, type FlowHarness } from './support/engine-harness';

const DAY = 86_400_000;

describe('flow starts from record writes and schedules', () => {
  let h: FlowHarness;
  beforeAll(async () => {
    h = await openFlowHarness();
    const onCreate: FlowDef = flow(
      'big_deal',
      [start({ type: 'recordCreated', condition: { '>': [{ var: 'amount' }, 100] } }), { id: 'mark', type: 'serviceTask', action: { type: 'updateRecord', values: { stage: 'flagged' } } }, end()],
      [
        ['start', 'mark'],
        ['mark', 'end'],
      ],
    );
    const onStage: FlowDef = flow('stage_changed', [start({ type: 'recordUpdated', fields: ['stage'] }), end('end', { result: 'seen' })], [['start', 'end']]);
    const daily: FlowDef = {
      ...flow('daily', [start({ type: 'schedule', cron: '0 9 * * *', timezone: 'Asia/Shanghai' }), { id: 'note', type: 'serviceTask', action: { type: 'createRecord', object: 'note', values: { text: 'daily digest' } } }, end()], [
        ['start', 'note'],
        ['note', 'end'],
      ]),
      object: undefined,
    };
    await h.publish(dealApp([onCreate, onStage, daily]));
  });
  afterAll(() => h.close());

  const instancesOf = (recordId: string) => h.engine.instancesOfRecord(h.workspaceId, recordId);

  it('a created record whose condition holds starts the flow, enqueued in the write\'s own transaction', async () => {
    const repo = await h.records();
    const big = await repo.create(h.admin, 'deal', { title: 'big', amount: 500 });
    const small = await repo.create(h.admin, 'deal', { title: 'small', amount: 5 });
    const jobs = await h.database.db.selectFrom('jobs').select(['kind', 'payload']).where('workspace_id', '=', h.workspaceId).where('kind', '=', 'start').execute();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.payload).toMatchObject({ flowKey: 'big_deal', recordId: big.id, startedBy: h.admin.userId });
    await h.drain();
    // the flow's own update of the stage starts the stage flow in turn: flow writes run the record triggers too
    const started = await instancesOf(big.id);
    expect(started.map((i) => [i.flowKey, i.status, i.startedBy]).sort()).toEqual([
      ['big_deal', 'completed', h.admin.userId],
      ['stage_changed', 'completed', h.admin.userId],
    ]);
    expect(await instancesOf(small.id)).toEqual([]);
    // the flow's own update of the record ran the record pipeline: it is at version 2
    expect(await repo.get(h.workspaceId, 'deal', big.id)).toMatchObject({ stage: 'flagged', version: 2 });
  });

  it('an update starts a recordUpdated flow only when one of its fields changed', async () => {
    const repo = await h.records();
    const rec = await repo.create(h.admin, 'deal', { title: 'u', amount: 1 });
    const v2 = await repo.update(h.admin, 'deal', rec.id, { title: 'renamed' }, rec.version);
    await h.drain();
    expect(await instancesOf(rec.id)).toEqual([]);
    await repo.update(h.admin, 'deal', rec.id, { stage: 'won' }, v2.version);
    await h.drain();
    expect(await instancesOf(rec.id)).toEqual([expect.objectContaining({ flowKey: 'stage_changed', result: 'seen' })]);
  });

  it('a scheduled flow fires once per cron time, re-enqueues its next fire, and syncing twice adds nothing', async () => {
    expect(await h.engine.syncSchedules(h.workspaceId, 'app')).toBe(1);
    expect(await h.engine.syncSchedules(h.workspaceId, 'app')).toBe(0);
    const job = await h.database.db.selectFrom('jobs').select(['run_at', 'key']).where('workspace_id', '=', h.workspaceId).where('kind', '=', 'schedule').executeTakeFirstOrThrow();
    // T0 is 09:00 in Shanghai; the next fire is the next day's
    expect(new Date(job.run_at).toISOString()).toBe(new Date(T0.getTime() + DAY).toISOString());
    h.advance(DAY - 1);
    await h.drain();
    const daily = () => h.database.db.selectFrom('flow_instances').select(['start_key', 'status']).where('workspace_id', '=', h.workspaceId).where('flow_key', '=', 'daily').orderBy('start_key').execute();
    expect(await daily()).toEqual([]);
    h.advance(1 + 2 * DAY); // three fire times are due now: each starts one instance
    await h.drain();
    const fired = await daily();
    expect(fired.map((r) => r.start_key)).toEqual(
      [1, 2, 3].map((d) => `schedule:daily:${new Date(T0.getTime() + d * DAY).toISOString()}`),
    );
    expect(fired.every((r) => r.status === 'completed')).toBe(true);
    const next = await h.database.db.selectFrom('jobs').select('run_at').where('workspace_id', '=', h.workspaceId).where('kind', '=', 'schedule').execute();
    expect(next.map((j) => new Date(j.run_at).toISOString())).toEqual([new Date(T0.getTime() + 4 * DAY).toISOString()]);
  });

  it('a start enqueued by a write that is then rolled back never happens', async () => {
    // a flow whose update of the stage (a recordUpdated trigger) is followed by a failure in
    // the same step: the node has no way out, so the step, the write and the start job roll back
    const dead: FlowDef = flow('dead_end', [start(), { id: 'mark', type: 'serviceTask', action: { type: 'updateRecord', values: { stage: 'lost' } } }], [['start', 'mark']]);
    const app = await h.metadata.getPublished(h.workspaceId, 'app');
    await h.publish({ ...app.document, flows: [...(app.document.flows as FlowDef[]), dead] });
    const repo = await h.records();
    const rec = await repo.create(h.admin, 'deal', { title: 'r', amount: 1 });
    const instance = await h.engine.startInstance(h.admin, 'app', 'dead_end', { recordId: rec.id });
    await h.drain();
    const incident = (await h.engine.incidents(h.workspaceId, { status: 'open' })).find((i) => i.instanceId === instance.id);
    expect(incident).toMatchObject({ nodeId: 'mark' });
    expect(await repo.get(h.workspaceId, 'deal', rec.id)).toMatchObject({ version: 1 });
    expect((await instancesOf(rec.id)).map((i) => i.flowKey)).toEqual(['dead_end']);
  });
});
