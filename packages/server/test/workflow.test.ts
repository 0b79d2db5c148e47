import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDocument } from '@tessera/metadata';
import { TokenRepository, UserRepository, type RoleDef } from '@tessera/store';
import type { FlowDef } from '@tessera/workflow';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

type Caller = { id: string; token: string };
type Instance = { id: string; status: string; result: string | null; recordId: string | null; startedBy: string; variables: Record<string, unknown> };
type Task = { id: string; instanceId: string; assigneeId: string; status: string; decision: string | null; actions: string[] };
type Entry = { action: string; actorId: string | null; comment: string | null; nodeId: string | null; at: string };

const ROLES: RoleDef[] = [
  { key: 'finance', name: { en: 'Finance' }, objects: { deal: { create: false, read: true, update: false, delete: false, import: false, export: false, scope: 'all' } } },
];

/** The deal approval: the deal's approver decides; approval and rejection end differently. */
const approval: FlowDef = {
  key: 'deal_approval',
  name: { en: 'Deal approval' },
  object: 'deal',
  variables: [{ name: 'reason', type: 'text' }],
  nodes: [
    { id: 'start', type: 'startEvent', trigger: { type: 'api' } },
    { id: 'review', type: 'userTask', name: { en: 'Review the deal' }, kind: 'approval', mode: 'single', assignees: [{ type: 'field', field: 'approver' }] },
    { id: 'approved', type: 'endEvent', result: 'approved' },
    { id: 'rejected', type: 'endEvent', result: 'rejected' },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'review' },
    { id: 'e2', source: 'review', target: 'approved', outcome: 'approved' },
    { id: 'e3', source: 'review', target: 'rejected', outcome: 'rejected' },
  ],
};

/** Signed off by whoever holds the finance role. */
const financeCheck: FlowDef = {
  key: 'finance_check',
  name: { en: 'Finance check' },
  object: 'deal',
  nodes: [
    { id: 'start', type: 'startEvent', trigger: { type: 'api' } },
    { id: 'check', type: 'userTask', kind: 'task', mode: 'any', assignees: [{ type: 'role', role: 'finance' }] },
    { id: 'end', type: 'endEvent' },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'check' },
    { id: 'e2', source: 'check', target: 'end' },
  ],
};

/** Started by the record write itself: a hot deal gets flagged. */
const onHotDeal: FlowDef = {
  key: 'hot_deal',
  name: { en: 'Hot deal' },
  object: 'deal',
  nodes: [
    { id: 'start', type: 'startEvent', trigger: { type: 'recordCreated', condition: { '==': [{ var: 'hot' }, true] } } },
    { id: 'mark', type: 'serviceTask', action: { type: 'updateRecord', values: { stage: 'won' } } },
    { id: 'end', type: 'endEvent' },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'mark' },
    { id: 'e2', source: 'mark', target: 'end' },
  ],
};

/** Started by a rule's startFlow automation, not by a trigger of its own. */
const review: FlowDef = {
  key: 'review',
  name: { en: 'Review' },
  object: 'deal',
  nodes: [
    { id: 'start', type: 'startEvent', trigger: { type: 'manual' } },
    { id: 'end', type: 'endEvent', result: 'reviewed' },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'end' }],
};

function draft(): AppDocument {
  const doc = crmDraft();
  const deal = doc.objects.find((o) => o.key === 'deal')!;
  deal.fields.push({ key: 'approver', type: 'user', label: { en: 'Approver' } });
  const rules = [{ key: 'review_asked', object: 'deal', on: ['create'], condition: { '==': [{ var: 'title' }, 'Review me'] }, actions: [{ type: 'startFlow', flow: 'review' }] }];
  return { ...doc, roles: ROLES, flows: [approval, financeCheck, onHotDeal, review], rules } as AppDocument;
}

describe('workflow over HTTP', () => {
  let h: Harness;
  let approver: Caller;
  let stranger: Caller;
  let financier: Caller;
  let outsider: Caller;

  const as = (who: Caller) => (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({ method, url, headers: { authorization: `Bearer ${who.token}`, ...headers }, ...(body === undefined ? {} : { payload: body as object }) });

  async function user(workspaceId: string, email: string): Promise<Caller> {
    const created = await new UserRepository(h.database.db).create(workspaceId, { email, name: email, passwordHash: 'x' });
    const issued = await new TokenRepository(h.database.db).issue(workspaceId, created.id, { kind: 'api', name: 'test' });
    return { id: created.id, token: issued.token };
  }

  /** the worker's part: every step due now runs */
  const drain = async () => {
    while ((await h.app.workflow.drain()) > 0);
  };

  async function deal(values: Record<string, unknown>): Promise<string> {
    const created = await h.call('POST', '/api/apps/crm/records/deal', { title: 'Big deal', amount: '1000.00', ...values });
    expect(created.statusCode, created.body).toBe(201);
    return (created.json() as { id: string }).id;
  }

  async function start(flow: string, body: unknown): Promise<Instance> {
    const started = await h.call('POST', `/api/apps/crm/flows/${flow}/instances`, body);
    expect(started.statusCode, started.body).toBe(201);
    await drain();
    return started.json() as Instance;
  }

  async function inbox(who: Caller, status = 'open'): Promise<Task[]> {
    const res = await as(who)('GET', `/api/inbox/flow-tasks?status=${status}`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: Task[] }).items;
  }

  beforeAll(async () => {
    h = await startHarness();
    await publishApp(h, 'crm', draft());
    approver = await user(h.workspaceId, 'approver@example.com');
    stranger = await user(h.workspaceId, 'stranger@example.com');
    financier = await user(h.workspaceId, 'finance@example.com');
    const granted = await h.call('PUT', `/api/apps/crm/users/${financier.id}/roles/finance`);
    expect(granted.statusCode, granted.body).toBe(200);
    const other = randomUUID();
    await h.database.db.insertInto('workspaces').values({ workspace_id: other, name: 'elsewhere' }).execute();
    outsider = await user(other, 'outsider@example.com');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('an approval started through the API lands in the assignee inbox; their decision ends it and the timeline tells who did what, when', async () => {
    const dealId = await deal({ approver: approver.id });
    const started = await start('deal_approval', { recordId: dealId, variables: { reason: 'discount over 10%' } });
    expect(started).toMatchObject({ status: 'running', recordId: dealId, variables: { reason: 'discount over 10%' } });
    const res = await h.call('GET', `/api/flow-instances/${started.id}`);
    expect(res.json()).toMatchObject({ status: 'running', tokens: [{ nodeId: 'review', status: 'waiting' }] });

    const [task, ...others] = (await inbox(approver)).filter((t) => t.instanceId === started.id);
    expect(others).toEqual([]);
    expect(task).toMatchObject({ assigneeId: approver.id, status: 'open', actions: expect.arrayContaining(['approve', 'reject']) });
    expect(await inbox(stranger)).toEqual([]);

    const done = await as(approver)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'approve', comment: 'fine by me' });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ status: 'done', decision: 'approve' });
    await drain();

    const ended = (await h.call('GET', `/api/flow-instances/${started.id}`)).json() as Instance;
    expect(ended).toMatchObject({ status: 'completed', result: 'approved' });
    expect((await inbox(approver)).some((t) => t.id === task!.id)).toBe(false);
    expect((await inbox(approver, 'done')).map((t) => t.id)).toContain(task!.id);

    const timeline = (await h.call('GET', `/api/flow-instances/${started.id}/timeline`)).json() as { items: Entry[] };
    const actions = timeline.items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['started', 'task_created', 'approve', 'completed']));
    expect(actions.indexOf('task_created')).toBeLessThan(actions.indexOf('approve'));
    expect(timeline.items.find((e) => e.action === 'approve')).toMatchObject({ actorId: approver.id, comment: 'fine by me', nodeId: 'review' });
    for (const e of timeline.items) expect(Number.isNaN(Date.parse(e.at))).toBe(false);

    // the assignee sees the instance they acted on, and so does whoever may read the record
    expect((await as(approver)('GET', `/api/flow-instances/${started.id}/timeline`)).statusCode).toBe(200);
    const ofRecord = await as(financier)('GET', `/api/apps/crm/records/deal/${dealId}/flow-instances`);
    expect(ofRecord.statusCode, ofRecord.body).toBe(200);
    expect((ofRecord.json() as { items: Instance[] }).items.map((i) => i.id)).toEqual([started.id]);
  });

  it("a stranger can't act on someone else's task (403) nor see the instance (404); the task stays open", async () => {
    const dealId = await deal({ approver: approver.id });
    const started = await start('deal_approval', { recordId: dealId });
    const [task] = (await inbox(approver)).filter((t) => t.instanceId === started.id);

    const refused = expectProblem(await as(stranger)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'approve' }));
    expect(refused.status).toBe(403);
    expect(expectProblem(await as(stranger)('GET', `/api/flow-instances/${started.id}`)).status).toBe(404);
    expect(expectProblem(await as(stranger)('GET', `/api/flow-instances/${started.id}/timeline`)).status).toBe(404);
    expect(expectProblem(await as(stranger)('GET', `/api/flow-tasks/${task!.id}`)).status).toBe(404);
    // like the record itself: the stranger holds no role that reads deals
    expect(expectProblem(await as(stranger)('GET', `/api/apps/crm/records/deal/${dealId}/flow-instances`)).status).toBe(403);
    // the assignee may see but not cancel what the admin started
    expect(expectProblem(await as(approver)('POST', `/api/flow-instances/${started.id}/cancel`, {})).status).toBe(403);

    expect((await inbox(approver)).find((t) => t.id === task!.id)).toMatchObject({ status: 'open' });
    // the assignee edits only the task's editable fields (none here), and delegates only to a real user
    const notEditable = expectProblem(await as(approver)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'approve', values: { title: 'renamed' } }));
    expect([notEditable.status, notEditable.errors[0]!.field]).toEqual([422, 'values/title']);
    const nobody = expectProblem(await as(approver)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'delegate', delegateTo: randomUUID() }));
    expect([nobody.status, nobody.errors[0]!.field]).toEqual([422, 'delegateTo']);
    const rejected = await as(approver)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'reject', comment: 'too cheap' });
    expect(rejected.statusCode, rejected.body).toBe(200);
    await drain();
    expect((await h.call('GET', `/api/flow-instances/${started.id}`)).json()).toMatchObject({ status: 'completed', result: 'rejected' });
    // a decided task can't be decided again
    expect(expectProblem(await as(approver)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'approve' })).status).toBe(409);
  });

  it("another workspace can't see, act on or cancel the instance (404)", async () => {
    const dealId = await deal({ approver: approver.id });
    const started = await start('deal_approval', { recordId: dealId });
    const [task] = (await inbox(approver)).filter((t) => t.instanceId === started.id);
    for (const [method, url, body] of [
      ['GET', `/api/flow-instances/${started.id}`],
      ['GET', `/api/flow-instances/${started.id}/timeline`],
      ['POST', `/api/flow-instances/${started.id}/cancel`, {}],
      ['POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'approve' }],
      ['GET', `/api/flow-tasks/${task!.id}`],
    ] as const) {
      expect(expectProblem(await as(outsider)(method, url, body)).status, `${method} ${url}`).toBe(404);
    }
    expect(await inbox(outsider)).toEqual([]);
    // the starter cancels; the open task goes with it
    const cancelled = await h.call('POST', `/api/flow-instances/${started.id}/cancel`, { reason: 'customer withdrew' });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    expect((await inbox(approver)).some((t) => t.id === task!.id)).toBe(false);
    expect(expectProblem(await h.call('POST', `/api/flow-instances/${started.id}/cancel`, {})).status).toBe(409);
  });

  it('a task assigned by role is in the inbox of whoever holds the role', async () => {
    const dealId = await deal({});
    const started = await start('finance_check', { recordId: dealId });
    const [task] = (await inbox(financier)).filter((t) => t.instanceId === started.id);
    expect(task).toMatchObject({ assigneeId: financier.id, status: 'open' });
    expect(await inbox(stranger)).toEqual([]);
    const done = await as(financier)('POST', `/api/flow-tasks/${task!.id}/complete`, { action: 'approve' });
    expect(done.statusCode, done.body).toBe(200);
    await drain();
    expect((await h.call('GET', `/api/flow-instances/${started.id}`)).json()).toMatchObject({ status: 'completed' });
  });

  it('a record written through the API starts its record-triggered flow in the same write', async () => {
    const hot = await deal({ hot: true });
    const cold = await deal({ hot: false });
    await drain();
    const instances = (await h.call('GET', `/api/apps/crm/records/deal/${hot}/flow-instances`)).json() as { items: Instance[] };
    expect(instances.items).toHaveLength(1);
    expect(instances.items[0]).toMatchObject({ status: 'completed', recordId: hot });
    expect((await h.call('GET', `/api/apps/crm/records/deal/${hot}`)).json()).toMatchObject({ stage: 'won' });
    expect(((await h.call('GET', `/api/apps/crm/records/deal/${cold}/flow-instances`)).json() as { items: Instance[] }).items).toEqual([]);
    // a rule's startFlow automation starts its flow in the write too
    const asked = await deal({ title: 'Review me' });
    await drain();
    const reviewed = (await h.call('GET', `/api/apps/crm/records/deal/${asked}/flow-instances`)).json() as { items: Array<Instance & { flowKey: string }> };
    expect(reviewed.items.map((i) => [i.flowKey, i.status, i.result])).toEqual([['review', 'completed', 'reviewed']]);
  });

  it('bad requests are problem documents naming the field', async () => {
    const dealId = await deal({ approver: approver.id });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/api/apps/crm/flows/deal_approval/instances', { recordId: dealId, colour: 'red' }, 400, 'colour'],
      ['POST', '/api/apps/crm/flows/deal_approval/instances', { recordId: { id: dealId } }, 400, 'recordId'],
      ['POST', '/api/apps/crm/flows/deal_approval/instances', { recordId: dealId, variables: { nope: 1 } }, 422, 'variables/nope'],
      ['POST', '/api/apps/crm/flows/deal_approval/instances', {}, 422, 'recordId'],
      ['POST', '/api/apps/crm/flows/deal_approval/instances', { recordId: randomUUID() }, 422, 'recordId'],
      ['POST', '/api/apps/crm/flows/Bad-Key/instances', {}, 400, 'flow'],
      ['POST', `/api/flow-tasks/${randomUUID()}/complete`, { action: 'shrug' }, 400, 'action'],
      ['POST', `/api/flow-tasks/${randomUUID()}/complete`, {}, 400, 'action'],
      ['POST', `/api/flow-tasks/${randomUUID()}/complete`, { action: 'delegate', delegateTo: 'bob' }, 400, 'delegateTo'],
      ['POST', '/api/flow-tasks/not-an-id/complete', { action: 'approve' }, 400, 'id'],
      ['GET', '/api/flow-instances/not-an-id', undefined, 400, 'id'],
      ['GET', '/api/inbox/flow-tasks?status=someday', undefined, 400, 'status'],
      ['GET', '/api/inbox/flow-tasks?cursor=nonsense', undefined, 400, 'cursor'],
      ['GET', '/api/flow-incidents?status=bad', undefined, 400, 'status'],
    ];
    for (const [method, url, body, status, field] of cases) {
      const problem = expectProblem(await h.call(method as 'GET', url, body));
      expect(problem.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(status);
      expect(problem.errors.map((e) => e.field), `${method} ${url}`).toContain(field);
    }
    expect(expectProblem(await h.call('GET', `/api/flow-instances/${randomUUID()}`)).status).toBe(404);
    expect(expectProblem(await h.call('POST', '/api/apps/crm/flows/no_such_flow/instances', {})).status).toBe(404);
  });

  it('BPMN XML: the published flow exports, imports back into the draft through validation, unsupported elements refused by name', async () => {
    const exported = await h.call('GET', '/api/apps/crm/flows/deal_approval/bpmn');
    expect(exported.statusCode, exported.body).toBe(200);
    expect(String(exported.headers['content-type'])).toMatch(/^application\/xml/);
    expect(exported.body).toContain('bpmn:definitions');
    expect(exported.body).toContain('id="review"');

    // drawn in a modeller and saved under a new key: it lands in the draft, validated
    const xml = { 'content-type': 'application/xml' };
    const imported = await h.call('PUT', '/api/apps/crm/draft/flows/deal_approval_copy/bpmn', exported.body, xml);
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ key: 'deal_approval_copy', object: 'deal', nodes: expect.arrayContaining([expect.objectContaining({ id: 'review', type: 'userTask' })]) });
    const draftFlows = ((await h.call('GET', '/api/apps/crm/draft')).json() as AppDocument).flows as FlowDef[];
    expect(draftFlows.map((f) => f.key)).toEqual(['deal_approval', 'finance_check', 'hot_deal', 'review', 'deal_approval_copy']);
    const copy = draftFlows.find((f) => f.key === 'deal_approval_copy')!;
    expect(copy.edges.map((e) => [e.source, e.target, e.outcome])).toEqual(approval.edges.map((e) => [e.source, e.target, e.outcome]));

    const withSubProcess = exported.body.replace(/(<bpmn:process[^>]*>)/, '$1<bpmn:subProcess id="Sub_1" />');
    const refused = expectProblem(await h.call('PUT', '/api/apps/crm/draft/flows/deal_approval/bpmn', withSubProcess, xml));
    expect(refused.status).toBe(422);
    expect(refused.errors.map((e) => e.message).join(' ')).toContain('bpmn:subProcess at id Sub_1 is not supported');

    // a flow the validator refuses (the user task's assignee field does not exist) leaves the draft as it was
    const broken = exported.body.replace(/field="approver"/, 'field="no_such_field"');
    expect(broken).not.toEqual(exported.body);
    const invalid = expectProblem(await h.call('PUT', '/api/apps/crm/draft/flows/deal_approval/bpmn', broken, xml));
    expect(invalid.status).toBe(422);
    expect(invalid.errors.map((e) => `${e.field} ${e.message}`).join(' ')).toContain('review');
    expect(((await h.call('GET', '/api/apps/crm/draft')).json() as AppDocument).flows).toEqual(draftFlows);

    expect(expectProblem(await h.call('PUT', '/api/apps/crm/draft/flows/deal_approval/bpmn', '', xml)).errors[0]!.field).toBe('body');
    expect(expectProblem(await as(approver)('PUT', '/api/apps/crm/draft/flows/deal_approval/bpmn', exported.body, xml)).status).toBe(403);
    expect(expectProblem(await h.call('PUT', '/api/apps/crm/draft/flows/deal_approval/bpmn', 'not xml at all <', xml)).status).toBe(422);
    expect(expectProblem(await h.call('GET', '/api/apps/crm/flows/no_such_flow/bpmn')).status).toBe(404);
  });

  it('incidents are for administrators', async () => {
    expect(expectProblem(await as(approver)('GET', '/api/flow-incidents')).status).toBe(403);
    expect(expectProblem(await as(approver)('POST', `/api/flow-incidents/${randomUUID()}/retry`)).status).toBe(403);
    const listed = await h.call('GET', '/api/flow-incidents?status=open');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toEqual({ items: [] });
    expect(expectProblem(await h.call('POST', `/api/flow-incidents/${randomUUID()}/retry`)).status).toBe(404);
  });
});
