import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerCrash, type FlowDef } from '../src/index';
import { dealApp, end, flow, openFlowHarness, start, type FlowHarness } from './support/engine-harness';

const LEASE = 30_000;

const call: FlowDef = flow(
  'call',
  [
    start(),
    {
      id: 'erp',
      type: 'serviceTask',
      action: { type: 'http', method: 'POST', url: 'https://erp.example.com/deals', headers: { 'x-deal': { var: 'title' } }, body: { var: 'amount' }, resultVariable: 'erp' },
      retry: { maxAttempts: 3, initialDelay: 'PT10S' },
    },
    { id: 'mail', type: 'serviceTask', action: { type: 'email', to: 'boss@example.com', subject: { cat: ['Deal ', { var: 'title' }] }, body: 'booked' } },
    end(),
  ],
  [
    ['start', 'erp'],
    ['erp', 'mail'],
    ['mail', 'end'],
  ],
  { variables: [{ name: 'erp', type: 'text' }] },
);

describe('side effects through the outbox', () => {
  let h: FlowHarness;
  beforeAll(async () => {
    h = await openFlowHarness();
    await h.publish(dealApp([call]));
  });
  afterAll(() => h.close());

  async function begin(title: string) {
    const record = await (await h.records()).create(h.admin, 'deal', { title, amount: 42 });
    const started = await h.engine.startInstance(h.admin, 'app', 'call', { recordId: record.id });
    return started.id;
  }
  const outbox = (id: string) => h.database.db.selectFrom('outbox').selectAll().where('instance_id', '=', id).orderBy('node_id').execute();
  const sendsOf = (key: string) => h.transports.sent.filter((s) => s.key === key);

  it('an http call with a result variable: the token waits for the delivery, which stores the response and moves on', async () => {
    const id = await begin('first');
    await h.drain();
    const inst = await h.engine.getInstance(h.workspaceId, id);
    expect(inst).toMatchObject({ status: 'completed', variables: { erp: { echo: 42 } } });
    const rows = await outbox(id);
    expect(rows.map((r) => [r.node_id, r.idempotency_key, r.status, r.attempts])).toEqual([
      ['erp', `${id}:erp:1`, 'delivered', 1],
      ['mail', `${id}:mail:1`, 'delivered', 1],
    ]);
    const http = sendsOf(`${id}:erp:1`);
    expect(http).toHaveLength(1);
    expect(http[0]!.request).toEqual({ kind: 'http', method: 'POST', url: 'https://erp.example.com/deals', headers: { 'x-deal': 'first' }, body: 42 });
    expect(sendsOf(`${id}:mail:1`)[0]!.request).toEqual({ kind: 'email', to: ['boss@example.com'], subject: 'Deal first', body: 'booked' });
    const actions = (await h.engine.timeline(h.workspaceId, id)).map((e) => `${e.nodeId}:${e.action}`);
    // the email waits for nothing: the instance ends in the step that queued it, and its delivery is recorded after
    expect(actions).toEqual(['start:started', 'erp:effect_queued', 'erp:delivered', 'mail:executed', 'end:ended', 'null:completed', 'mail:delivered']);
  });

  it('a receiver that fails twice then answers: retried with backoff, the same key each time, recorded once', async () => {
    h.transports.respond = (req, key, attempt) => (attempt < 3 && req.kind === 'http' ? { ok: false, retryable: true, error: 'HTTP 503' } : { ok: true, result: { n: attempt } });
    const id = await begin('flaky');
    await h.drain();
    const key = `${id}:erp:1`;
    expect(sendsOf(key)).toHaveLength(1);
    expect((await outbox(id))[0]).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 503' });
    h.advance(12_000); // initialDelay, plus at most 20% jitter
    await h.drain();
    expect(sendsOf(key)).toHaveLength(2);
    h.advance(19_999); // the second retry waits twice as long (plus jitter of at most 20%)
    await h.drain();
    expect(sendsOf(key)).toHaveLength(2);
    h.advance(4_001);
    await h.drain();
    expect(sendsOf(key)).toHaveLength(3);
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed', variables: { erp: { n: 3 } } });
    expect((await outbox(id))[0]).toMatchObject({ status: 'delivered', attempts: 3 });
    const delivered = (await h.engine.timeline(h.workspaceId, id)).filter((e) => e.nodeId === 'erp' && e.action === 'delivered');
    expect(delivered).toHaveLength(1);
    h.transports.respond = (req) => ({ ok: true, result: req.kind === 'http' ? { echo: req.body ?? null } : { sent: true } });
  });

  it('a worker killed after sending and before recording: the next worker sends again with the same key, and the delivery is recorded once', async () => {
    let crashes = 0;
    const doomed = h.engineWith({
      workerId: 'doomed',
      leaseMs: LEASE,
      faults: (point) => {
        if (point === 'after-send' && crashes++ === 0) throw new WorkerCrash(point);
      },
    });
    const id = await begin('crash');
    await expect(doomed.drain()).rejects.toBeInstanceOf(WorkerCrash);
    const key = `${id}:erp:1`;
    expect(sendsOf(key)).toHaveLength(1);
    expect((await outbox(id))[0]).toMatchObject({ status: 'pending' });
    // the dead worker's lease still holds the job
    expect(await h.drain()).toBe(0);
    h.advance(LEASE + 1);
    await h.drain();
    expect(sendsOf(key)).toHaveLength(2);
    expect(new Set(sendsOf(key).map((s) => s.key))).toEqual(new Set([key]));
    expect((await outbox(id)).filter((r) => r.idempotency_key === key)).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1 })]);
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed' });
    const delivered = (await h.engine.timeline(h.workspaceId, id)).filter((e) => e.nodeId === 'erp' && e.action === 'delivered');
    expect(delivered).toHaveLength(1);
  });

  it('a worker killed before its step commits: nothing of the step is kept, and the step runs once in the end', async () => {
    let armed = true;
    const doomed = h.engineWith({
      workerId: 'doomed-2',
      faults: (point) => {
        if (point === 'before-commit' && armed) {
          armed = false;
          throw new WorkerCrash(point);
        }
      },
    });
    const id = await begin('rollback');
    await expect(doomed.drain()).rejects.toBeInstanceOf(WorkerCrash);
    // the start ran up to the call (its effect queued); the killed delivery left nothing
    const midway = await h.engine.timeline(h.workspaceId, id);
    expect(midway.map((e) => e.action)).toEqual(['started', 'effect_queued']);
    h.advance(LEASE + 1);
    await h.drain();
    const actions = (await h.engine.timeline(h.workspaceId, id)).map((e) => `${e.nodeId}:${e.action}`);
    expect(actions.filter((a) => a === 'erp:effect_queued')).toHaveLength(1);
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed' });
  });

  it('a refusal that no retry can fix becomes an incident at once; after the fix, retrying the incident delivers and the instance goes on', async () => {
    h.transports.respond = (req) => (req.kind === 'http' ? { ok: false, retryable: false, error: 'HTTP 400: bad deal' } : { ok: true, result: null });
    const id = await begin('refused');
    await h.drain();
    const [incident] = (await h.engine.incidents(h.workspaceId, { status: 'open' })).filter((i) => i.instanceId === id);
    expect(incident).toMatchObject({ jobKind: 'deliver', nodeId: 'erp', error: 'HTTP 400: bad deal', attempts: 1 });
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'running', tokens: [expect.objectContaining({ nodeId: 'erp', status: 'waiting' })] });
    expect((await outbox(id))[0]).toMatchObject({ status: 'failed' });
    h.transports.respond = () => ({ ok: true, result: 'fixed' });
    const resolved = await h.engine.retryIncident(h.admin, incident!.id);
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: h.admin.userId });
    await h.drain();
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'completed', variables: { erp: 'fixed' } });
    expect((await outbox(id))[0]).toMatchObject({ status: 'delivered', result: 'fixed' });
  });

  it('a receiver down for longer than the retry policy: an incident after maxAttempts, the instance stays put', async () => {
    h.transports.respond = (req) => (req.kind === 'http' ? { ok: false, retryable: true, error: 'HTTP 503' } : { ok: true, result: null });
    const id = await begin('down');
    for (let i = 0; i < 5; i++) {
      await h.drain();
      h.advance(60_000);
    }
    expect(h.transports.sent.filter((s) => s.key === `${id}:erp:1`)).toHaveLength(3);
    const incidents = (await h.engine.incidents(h.workspaceId)).filter((i) => i.instanceId === id);
    expect(incidents).toEqual([expect.objectContaining({ status: 'open', attempts: 3, error: 'HTTP 503' })]);
    expect(await h.engine.getInstance(h.workspaceId, id)).toMatchObject({ status: 'running' });
    h.transports.respond = () => ({ ok: true, result: null });
  });
});
