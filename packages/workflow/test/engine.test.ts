import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { refusal } from '@tessera/store';
import type { FlowDef } from '../src/index';
import { dealApp, end, flow, openFlowHarness, start, type FlowHarness } from './support/engine-harness';

const gate: FlowDef = flow(
  'gate',
  [
    start(),
    { id: 'gw', type: 'exclusiveGateway', default: 'to_small' },
    { id: 'big', type: 'serviceTask', action: { type: 'setVariables', values: { size: 'big' } } },
    { id: 'mid', type: 'serviceTask', action: { type: 'setVariables', values: { size: 'mid' } } },
    { id: 'small', type: 'serviceTask', action: { type: 'setVariables', values: { size: 'small' } } },
    end('end_big', { result: 'big' }),
    end('end_mid', { result: 'mid' }),
    end('end_small', { result: 'small' }),
  ],
  [
    ['start', 'gw'],
    // edge order decides between two conditions that both hold
    ['gw', 'big', { id: 'to_big', condition: { '>': [{ var: 'amount' }, 1000] } }],
    ['gw', 'mid', { id: 'to_mid', condition: { '>': [{ var: 'amount' }, 100] } }],
    ['gw', 'small', { id: 'to_small' }],
    ['big', 'end_big'],
    ['mid', 'end_mid'],
    ['small', 'end_small'],
  ],
  { variables: [{ name: 'size', type: 'text' }] },
);

const noDefault: FlowDef = flow(
  'no_default',
  [start(), { id: 'gw', type: 'exclusiveGateway' }, end('a'), end('b')],
  [
    ['start', 'gw'],
    ['gw', 'a', { condition: { '>': [{ var: 'amount' }, 1000] } }],
    ['gw', 'b', { condition: { '<': [{ var: 'amount' }, 0] } }],
  ],
);

// a record update, then a gateway that cannot decide: run ahead in one transaction, the update must commit alone
const updateThenStuck: FlowDef = flow(
  'update_then_stuck',
  [start(), { id: 'mark', type: 'serviceTask', action: { type: 'updateRecord', values: { stage: 'marked' } } }, { id: 'gw', type: 'exclusiveGateway' }, end('a'), end('b')],
  [
    ['start', 'mark'],
    ['mark', 'gw'],
    ['gw', 'a', { condition: { '>': [{ var: 'amount' }, 1000] } }],
    ['gw', 'b', { condition: { '<': [{ var: 'amount' }, 0] } }],
  ],
);

const forkJoin: FlowDef = flow(
  'fork_join',
  [
    start(),
    { id: 'fork', type: 'parallelGateway' },
    { id: 'left', type: 'serviceTask', action: { type: 'setVariables', values: { l: 1 } } },
    { id: 'right', type: 'serviceTask', action: { type: 'setVariables', values: { r: 2 } } },
    { id: 'right2', type: 'serviceTask', action: { type: 'setVariables', values: { r2: 3 } } },
    { id: 'join', type: 'parallelGateway' },
    { id: 'after', type: 'serviceTask', action: { type: 'setVariables', values: { sum: { '+': [{ var: '$vars.l' }, { var: '$vars.r' }, { var: '$vars.r2' }] } } } },
    end(),
  ],
  [
    ['start', 'fork'],
    ['fork', 'left'],
    ['fork', 'right'],
    ['right', 'right2'],
    ['left', 'join'],
    ['right2', 'join'],
    ['join', 'after'],
    ['after', 'end'],
  ],
  {
    variables: [
      { name: 'l', type: 'number' },
      { name: 'r', type: 'number' },
      { name: 'r2', type: 'number' },
      { name: 'sum', type: 'number' },
    ],
  },
);

const terminate: FlowDef = flow(
  'terminate',
  [
    start(),
    { id: 'fork', type: 'parallelGateway' },
    { id: 'wait', type: 'timerEvent', timer: { duration: 'P1D' } },
    end('stop', { terminate: true, result: 'stopped' }),
    end('late'),
  ],
  [
    ['start', 'fork'],
    ['fork', 'wait'],
    ['fork', 'stop'],
    ['wait', 'late'],
  ],
);

const records: FlowDef = flow(
  'records',
  [
    start(),
    { id: 'make', type: 'serviceTask', action: { type: 'createRecord', object: 'note', values: { text: { cat: ['about ', { var: 'title' }] } }, resultVariable: 'note_id' } },
    { id: 'touch', type: 'serviceTask', action: { type: 'updateRecord', values: { stage: 'review', notes: { var: '$vars.note_id' } } } },
    {
      id: 'find',
      type: 'serviceTask',
      action: { type: 'queryRecords', object: 'deal', filter: { '==': [{ var: 'stage' }, 'review'] }, sort: '-amount', limit: 10, resultVariable: 'found' },
    },
    { id: 'tell', type: 'serviceTask', action: { type: 'notify', recipients: [{ type: 'field', field: 'approver' }], message: { cat: ['Deal ', { var: 'title' }, ' is in review'] } } },
    end(),
  ],
  [
    ['start', 'make'],
    ['make', 'touch'],
    ['touch', 'find'],
    ['find', 'tell'],
    ['tell', 'end'],
  ],
  {
    variables: [
      { name: 'note_id', type: 'text' },
      { name: 'found', type: 'list' },
    ],
  },
);

const waitForever: FlowDef = flow('wait_forever', [start(), { id: 'wait', type: 'timerEvent', timer: { duration: 'P30D' } }, end()], [
  ['start', 'wait'],
  ['wait', 'end'],
]);

describe('workflow engine', () => {
  let h: FlowHarness;
  beforeAll(async () => {
    h = await openFlowHarness();
    await h.publish(dealApp([gate, noDefault, forkJoin, terminate, records, waitForever]));
  });
  afterAll(() => h.close());

  async function deal(values: Record<string, unknown>): Promise<string> {
    return (await (await h.records()).create(h.admin, 'deal', values)).id;
  }

  async function run(flowKey: string, values: Record<string, unknown> = {}) {
    const recordId = await deal({ title: 'T', ...values });
    const started = await h.engine.startInstance(h.admin, 'app', flowKey, { recordId });
    await h.drain();
    return { id: started.id, recordId, instance: await h.engine.getInstance(h.workspaceId, started.id) };
  }

  it('takes the first exclusive gateway edge whose condition holds, in edge order, else the default', async () => {
    for (const [amount, expected] of [
      [5000, 'big'],
      [500, 'mid'],
      [5, 'small'],
    ] as const) {
      const { instance, id } = await run('gate', { amount });
      expect(instance.status).toBe('completed');
      expect(instance.result).toBe(expected);
      expect(instance.variables).toEqual({ size: expected });
      expect(instance.tokens).toEqual([]);
      const timeline = await h.engine.timeline(h.workspaceId, id);
      expect(timeline.map((e) => `${e.nodeId ?? '-'}:${e.action}`)).toEqual([
        'start:started',
        'gw:decided',
        `${expected}:executed`,
        `end_${expected}:ended`,
        '-:completed',
      ]);
    }
  });

  it('opens an incident when no gateway condition holds and there is no default; the instance stays where it was', async () => {
    const { instance, id } = await run('no_default', { amount: 10 });
    expect(instance.status).toBe('running');
    expect(instance.tokens).toEqual([expect.objectContaining({ nodeId: 'gw', status: 'ready' })]);
    const incidents = await h.engine.incidents(h.workspaceId, { status: 'open' });
    const mine = incidents.find((i) => i.instanceId === id)!;
    expect(mine).toMatchObject({ nodeId: 'gw', jobKind: 'step', status: 'open' });
    expect(mine.error).toMatch(/no condition of gateway "gw" holds/);
    // retrying without a fix fails the same way and opens a new incident
    await h.engine.retryIncident(h.admin, mine.id);
    await h.drain();
    const after = await h.engine.incidents(h.workspaceId);
    expect(after.filter((i) => i.instanceId === id).map((i) => i.status).sort()).toEqual(['open', 'resolved']);
  });

  it('forks into parallel branches and joins once both arrive, then goes on', async () => {
    const { instance, id } = await run('fork_join');
    expect(instance.status).toBe('completed');
    expect(instance.variables).toMatchObject({ l: 1, r: 2, r2: 3, sum: 6 });
    const timeline = await h.engine.timeline(h.workspaceId, id);
    const at = (node: string) => timeline.filter((e) => e.nodeId === node).map((e) => e.action);
    expect(at('fork')).toEqual(['forked']);
    expect(at('join').sort()).toEqual(['arrived', 'joined']);
    expect(at('after')).toEqual(['executed']);
    expect(at('end')).toEqual(['ended']);
  });

  it('a terminate end event ends the instance at once, cancelling the other branches and their timers', async () => {
    const { instance, id } = await run('terminate');
    expect(instance.status).toBe('completed');
    expect(instance.result).toBe('stopped');
    expect(instance.tokens).toEqual([]);
    const jobs = await h.database.db.selectFrom('jobs').select('id').where('instance_id', '=', id).execute();
    expect(jobs).toEqual([]);
  });

  it('service tasks create, update and query records through the rules, and notify the users a rule names', async () => {
    const approver = h.users.alice!;
    const { instance, recordId } = await run('records', { amount: 7, approver });
    expect(instance.status).toBe('completed');
    const repo = await h.records();
    const note = await repo.get(h.workspaceId, 'note', instance.variables.note_id as string);
    expect(note.text).toBe('about T');
    expect(note._warnings).toBeUndefined();
    const updated = await repo.get(h.workspaceId, 'deal', recordId);
    expect(updated).toMatchObject({ stage: 'review', notes: note.id, version: 2 });
    const found = instance.variables.found as Array<Record<string, unknown>>;
    expect(found.map((r) => r.id)).toContain(recordId);
    expect(found.every((r) => r.stage === 'review')).toBe(true);
    const history = await h.database.db.selectFrom('record_history').select(['action', 'source']).where('record_id', '=', recordId).orderBy('version').execute();
    expect(history).toEqual([
      { action: 'create', source: 'api' },
      { action: 'update', source: 'flow' },
    ]);
    const notes = await sql<{ user_id: string; message: string }>`SELECT user_id, message FROM notifications WHERE workspace_id = ${h.workspaceId} AND record_id = ${recordId}`.execute(h.database.db);
    expect(notes.rows).toEqual([{ user_id: approver, message: 'Deal T is in review' }]);
  });

  it('a failing record write rolls the whole step back: no record, no token move, an incident', async () => {
    // a note for a deal that does not exist: the relation check refuses the write
    const bad: FlowDef = flow(
      'bad_write',
      [start(), { id: 'touch', type: 'serviceTask', action: { type: 'updateRecord', object: 'deal', record: 'not-a-uuid', values: { stage: 'x' } } }, end()],
      [
        ['start', 'touch'],
        ['touch', 'end'],
      ],
    );
    await h.publish(dealApp([gate, noDefault, forkJoin, terminate, records, waitForever, bad]));
    const { instance, id } = await run('bad_write');
    expect(instance.status).toBe('running');
    expect(instance.tokens).toEqual([expect.objectContaining({ nodeId: 'touch' })]);
    const incident = (await h.engine.incidents(h.workspaceId)).find((i) => i.instanceId === id);
    expect(incident).toMatchObject({ nodeId: 'touch', status: 'open' });
  });

  it('cancels a running instance: tokens and timers go, the timeline says who and why', async () => {
    const { id } = await run('wait_forever');
    const cancelled = await h.engine.cancelInstance(h.admin, id, 'not needed');
    expect(cancelled).toMatchObject({ status: 'cancelled', tokens: [] });
    const last = (await h.engine.timeline(h.workspaceId, id)).at(-1)!;
    expect(last).toMatchObject({ action: 'cancelled', actorId: h.admin.userId, comment: 'not needed' });
    const err = await refusal(h.engine.cancelInstance(h.admin, id));
    expect(err.kind).toBe('conflict');
    h.advance(31 * 86_400_000);
    expect(await h.drain()).toBe(0);
  });

  it('refuses starts it cannot make, naming the field', async () => {
    expect((await refusal(h.engine.startInstance(h.admin, 'app', 'nope', {}))).kind).toBe('not_found');
    const noRecord = await refusal(h.engine.startInstance(h.admin, 'app', 'gate', {}));
    expect(noRecord.errors[0]).toMatchObject({ field: 'recordId', code: 'required' });
    const recordId = await deal({ title: 'x' });
    const badVar = await refusal(h.engine.startInstance(h.admin, 'app', 'gate', { recordId, variables: { nope: 1 } }));
    expect(badVar.errors[0]).toMatchObject({ field: 'variables/nope', code: 'unknown_variable' });
    const otherWorkspace = await refusal(h.engine.getInstance('00000000-0000-4000-8000-000000000000', (await run('gate')).id));
    expect(otherWorkspace.kind).toBe('not_found');
  });

  it('an instance stays on the app version it started on', async () => {
    const v1: FlowDef = flow('pinned', [start(), { id: 'wait', type: 'timerEvent', timer: { duration: 'PT1H' } }, end('end', { result: 'v1' })], [
      ['start', 'wait'],
      ['wait', 'end'],
    ]);
    const v2: FlowDef = { ...v1, nodes: [v1.nodes[0]!, v1.nodes[1]!, end('end', { result: 'v2' })] };
    const app1 = await h.publish(dealApp([gate, v1]));
    const recordId = await deal({ title: 'pin' });
    const old = await h.engine.startInstance(h.admin, 'app', 'pinned', { recordId });
    await h.drain();
    const app2 = await h.publish(dealApp([gate, v2]));
    expect(app2.version).toBe(app1.version + 1);
    const fresh = await h.engine.startInstance(h.admin, 'app', 'pinned', { recordId });
    await h.drain();
    h.advance(3_600_000);
    await h.drain();
    expect(await h.engine.getInstance(h.workspaceId, old.id)).toMatchObject({ appVersion: app1.version, status: 'completed', result: 'v1' });
    expect(await h.engine.getInstance(h.workspaceId, fresh.id)).toMatchObject({ appVersion: app2.version, status: 'completed', result: 'v2' });
    const ofRecord = await h.engine.instancesOfRecord(h.workspaceId, recordId);
    expect(ofRecord.map((i) => i.id).sort()).toEqual([old.id, fresh.id].sort());
  });

  it('by default the start runs ahead: the steps before a failing one commit once (the record updated once), the failing one is an incident at its own node', async () => {
    await h.publish(dealApp([gate, noDefault, forkJoin, updateThenStuck]));
    const recordId = await deal({ title: 'U', amount: 5 });
    const started = await h.engine.startInstance(h.admin, 'app', 'update_then_stuck', { recordId });
    // the start answered after running what it could: it waits at the gateway
    expect(started).toMatchObject({ status: 'running', tokens: [expect.objectContaining({ nodeId: 'gw', status: 'ready' })] });
    await h.drain();
    expect((await (await h.records()).get(h.workspaceId, 'deal', recordId)).stage).toBe('marked');
    const history = await h.database.db.selectFrom('record_history').select(['version', 'source']).where('record_id', '=', recordId).where('action', '=', 'update').execute();
    expect(history).toEqual([expect.objectContaining({ source: 'flow' })]);
    const steps = (await h.engine.timeline(h.workspaceId, started.id)).map((e) => `${e.nodeId}:${e.action}`);
    expect(steps).toEqual(['start:started', 'mark:executed', 'gw:incident']);
    const incident = (await h.engine.incidents(h.workspaceId, { status: 'open' })).find((i) => i.instanceId === started.id);
    expect(incident).toMatchObject({ nodeId: 'gw', jobKind: 'step', attempts: 1 });
  });

  it('with several steps per transaction: the same timeline, and a failing step is undone alone and fails at its own node', async () => {
    await h.publish(dealApp([gate, noDefault, forkJoin]));
    const batched = h.engineWith({ workerId: 'batched', stepsPerTransaction: 20 });
    const recordId = await deal({ title: 'B', amount: 5000 });
    const ok = await batched.startInstance(h.admin, 'app', 'fork_join', { recordId });
    const stuck = await batched.startInstance(h.admin, 'app', 'no_default', { recordId: await deal({ title: 'S', amount: 10 }) });
    await batched.drain();
    expect(await h.engine.getInstance(h.workspaceId, ok.id)).toMatchObject({ status: 'completed', variables: { sum: 6 } });
    const steps = (await h.engine.timeline(h.workspaceId, ok.id)).map((e) => `${e.nodeId}:${e.action}`);
    expect(steps.filter((x) => x === 'join:joined')).toHaveLength(1);
    expect(steps).toHaveLength(10);
    expect(await h.engine.getInstance(h.workspaceId, stuck.id)).toMatchObject({ status: 'running', tokens: [expect.objectContaining({ nodeId: 'gw' })] });
    const incident = (await h.engine.incidents(h.workspaceId, { status: 'open' })).find((i) => i.instanceId === stuck.id);
    expect(incident).toMatchObject({ nodeId: 'gw' });
    expect((await h.engine.timeline(h.workspaceId, stuck.id)).map((e) => `${e.nodeId}:${e.action}`)).toEqual(['start:started', 'gw:incident']);
  });
});
