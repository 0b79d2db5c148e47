/**
 * Validation of the `flows` section before save and publish: the JSON Schema (kept in step
 * with types.ts), the graph rules and the references, each error naming its path and node.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Ajv2020 from 'ajv/dist/2020';
import type { AppDocument, FieldError } from '@tessera/metadata';
import { MetadataRepository, openTestDatabase, refusal } from '@tessera/store';
import { checkFlows, exampleFlow, exampleFlowApp, type FlowDef, type FlowNode, type FlowNodeType } from '../src/index';
import { ASSIGNEE_RULE_SCHEMAS, FLOW_NODE_TYPES, SERVICE_ACTION_SCHEMAS, TRIGGER_SCHEMAS, flowDefSchema } from '../src/model/schema';
import { blocks, buildFlow } from './flow-validate-gen';

function appWith(...flows: FlowDef[]): AppDocument {
  return { ...exampleFlowApp(), flows };
}

/** the example flow changed by `change`, checked */
function errorsAfter(change: (flow: FlowDef) => void): FieldError[] {
  const flow = exampleFlow();
  change(flow);
  return checkFlows(appWith(flow));
}

function node<T extends FlowNodeType>(flow: FlowDef, id: string): Extract<FlowNode, { type: T }> {
  return flow.nodes.find((n) => n.id === id) as Extract<FlowNode, { type: T }>;
}

const indexOf = (flow: FlowDef, id: string) => flow.nodes.findIndex((n) => n.id === id);

describe('the FlowDef JSON Schema', () => {
  const validate = new Ajv2020({ allErrors: true, strict: true, discriminator: true }).compile(flowDefSchema);

  it('accepts the fully populated typed example', () => {
    expect(validate(exampleFlow()), JSON.stringify(validate.errors)).toBe(true);
  });

  it('covers every node type, trigger, assignee rule and service action of the example (and so of the types)', () => {
    const flow = exampleFlow();
    expect(new Set(flow.nodes.map((n) => n.type))).toEqual(new Set(FLOW_NODE_TYPES));
    const actions = new Set(flow.nodes.flatMap((n) => (n.type === 'serviceTask' ? [n.action.type] : [])));
    expect(actions).toEqual(new Set(Object.keys(SERVICE_ACTION_SCHEMAS)));
    const rules = new Set(flow.nodes.flatMap((n) => (n.type === 'userTask' ? n.assignees.map((a) => a.type) : [])));
    expect(rules).toEqual(new Set(Object.keys(ASSIGNEE_RULE_SCHEMAS)));
    expect(Object.keys(TRIGGER_SCHEMAS).sort()).toEqual(['api', 'manual', 'recordCreated', 'recordUpdated', 'schedule']);
    // every trigger validates in the schema too
    for (const trigger of [{ type: 'recordCreated', condition: true }, { type: 'schedule', cron: '0 9 * * 1-5', timezone: 'Asia/Shanghai' }, { type: 'manual', label: { zh: '提交' } }, { type: 'api' }] as const) {
      const f = exampleFlow();
      node<'startEvent'>(f, 'start').trigger = trigger;
      expect(validate(f), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('refuses unknown properties and node types, naming the path and the node', () => {
    const errors = errorsAfter((f) => {
      (node<'userTask'>(f, 'finance_review') as unknown as Record<string, unknown>).approvers = [];
      (f.nodes[indexOf(f, 'fork')] as unknown as Record<string, unknown>).type = 'inclusiveGateway';
    });
    expect(errors).toContainEqual(expect.objectContaining({ field: `flows/0/nodes/${indexOf(exampleFlow(), 'finance_review')}/approvers`, message: expect.stringContaining('"finance_review"') }));
    expect(errors.some((e) => e.field.startsWith(`flows/0/nodes/${indexOf(exampleFlow(), 'fork')}`) && e.message.includes('"fork"'))).toBe(true);
  });
});

describe('checkFlows', () => {
  it('finds nothing wrong with the example, nor with an app without flows', () => {
    expect(checkFlows(exampleFlowApp())).toEqual([]);
    expect(checkFlows({ objects: [] })).toEqual([]);
  });

  const f0 = exampleFlow();
  const at = (id: string) => `flows/0/nodes/${indexOf(f0, id)}`;
  const cases: { name: string; change: (f: FlowDef) => void; field: string; code: string; names: string }[] = [
    { name: 'duplicate node id', change: (f) => (node(f, 'log').id = 'mark'), field: `${at('log')}/id`, code: 'duplicate', names: 'mark' },
    { name: 'second start event', change: (f) => f.nodes.push({ id: 'start2', type: 'startEvent', trigger: { type: 'api' } }), field: `flows/0/nodes/${f0.nodes.length}`, code: 'multiple_starts', names: 'start2' },
    { name: 'edge to an unknown node', change: (f) => (f.edges[0]!.target = 'ghost'), field: 'flows/0/edges/0/target', code: 'unknown_node', names: 'start' },
    { name: 'unreachable node', change: (f) => f.nodes.push({ id: 'island', type: 'serviceTask', action: { type: 'setVariables', values: {} } }), field: `flows/0/nodes/${f0.nodes.length}`, code: 'unreachable', names: 'island' },
    {
      name: 'node that cannot reach an end',
      change: (f) => {
        f.nodes.push({ id: 'loop', type: 'serviceTask', action: { type: 'setVariables', values: {} } });
        f.edges.find((e) => e.id === 'e_s2')!.target = 'loop';
        f.edges.push({ id: 'e_loop', source: 'loop', target: 'pause' });
      },
      field: at('pause'),
      code: 'no_end',
      names: 'pause',
    },
    { name: 'forking gateway without default', change: (f) => delete node<'exclusiveGateway'>(f, 'split').default, field: `${at('split')}/default`, code: 'no_default', names: 'split' },
    {
      name: 'gateway whose only edge has a condition and no default',
      change: (f) => {
        delete node<'exclusiveGateway'>(f, 'split').default;
        f.edges = f.edges.filter((e) => e.id !== 'e_small');
        f.nodes = f.nodes.filter((n) => !['small_task', 'pause', 'small_end'].includes(n.id));
        f.edges = f.edges.filter((e) => !['e_s1', 'e_s2'].includes(e.id));
      },
      field: `${at('split')}/default`,
      code: 'no_default',
      names: 'split',
    },
    { name: 'default that is not an outgoing edge', change: (f) => (node<'exclusiveGateway'>(f, 'split').default = 'e1'), field: `${at('split')}/default`, code: 'default_not_outgoing', names: 'split' },
    { name: 'join waiting for more branches than the fork has', change: (f) => f.edges.push({ id: 'e_extra', source: 'classify', target: 'join' }), field: at('classify'), code: 'several_outgoing', names: 'classify' },
    {
      name: 'fork branch that never joins while the others do',
      change: (f) => {
        f.nodes.push({ id: 'extra', type: 'serviceTask', action: { type: 'setVariables', values: {} } }, { id: 'stray_end', type: 'endEvent' });
        f.edges.push({ id: 'e_f3', source: 'fork', target: 'extra' }, { id: 'e_x', source: 'extra', target: 'stray_end' });
      },
      field: at('fork'),
      code: 'unjoined_branch',
      names: 'fork',
    },
    {
      name: 'join reached by no fork',
      change: (f) => {
        f.nodes.push({ id: 'lonely_join', type: 'parallelGateway' });
        f.edges.find((e) => e.id === 'e_s2')!.target = 'lonely_join';
        f.edges.push({ id: 'e_lj', source: 'small_task', target: 'lonely_join' }, { id: 'e_lj2', source: 'lonely_join', target: 'small_end' });
        f.nodes.push({ id: 'pause2', type: 'timerEvent', timer: { duration: 'PT1M' } });
        f.edges.find((e) => e.id === 'e_s1')!.target = 'pause2';
        f.edges.push({ id: 'e_p2', source: 'pause2', target: 'pause' });
      },
      field: at('small_task'),
      code: 'several_outgoing',
      names: 'small_task',
    },
    { name: 'boundary timer on a service task', change: (f) => (node<'boundaryTimer'>(f, 'sla').attachedTo = 'mark'), field: `${at('sla')}/attachedTo`, code: 'not_a_user_task', names: 'sla' },
    {
      name: 'approval edge without outcome next to an approved edge',
      change: (f) => delete f.edges.find((e) => e.id === 'e_rejected')!.outcome,
      field: `flows/0/edges/${f0.edges.findIndex((e) => e.id === 'e_rejected')}`,
      code: 'unused_edge',
      names: 'finance_review',
    },
    { name: 'approval with two approved edges', change: (f) => (f.edges.find((e) => e.id === 'e_rejected')!.outcome = 'approved'), field: at('finance_review'), code: 'outcome_edges', names: 'finance_review' },
    {
      name: 'approval without a way out when approved',
      change: (f) => {
        f.edges = f.edges.filter((e) => e.id !== 'e_approved');
        f.edges.push({ id: 'e_fork_in', source: 'classify', target: 'fork' });
      },
      field: at('finance_review'),
      code: 'outcome_edges',
      names: 'finance_review',
    },
    {
      name: 'fork branches merging without a join',
      change: (f) => {
        // both branches of the fork run into `query`: the rest would run twice
        f.edges.find((e) => e.id === 'e_j1')!.target = 'query';
        f.edges.find((e) => e.id === 'e_j2')!.target = 'query';
        f.nodes = f.nodes.filter((n) => n.id !== 'join');
        f.edges = f.edges.filter((e) => e.id !== 'e_q');
      },
      field: at('fork'),
      code: 'merge_without_join',
      names: 'fork',
    },
    { name: 'condition that is not boolean', change: (f) => (f.edges.find((e) => e.id === 'e_large')!.condition = { var: 'title' }), field: 'flows/0/edges/2/condition', code: 'not_boolean', names: 'split' },
    { name: 'condition reading an unknown variable', change: (f) => (f.edges.find((e) => e.id === 'e_large')!.condition = { '==': [{ var: '$vars.nope' }, 1] }), field: 'flows/0/edges/2/condition/==/0', code: 'unknown_field', names: 'split' },
    { name: 'timer date that is not a date', change: (f) => (node<'timerEvent'>(f, 'wait').timer = { date: { var: 'title' } }), field: `${at('wait')}/timer/date`, code: 'type_mismatch', names: 'wait' },
    { name: 'timer with both duration and date', change: (f) => (node<'timerEvent'>(f, 'pause').timer.date = { today: [] }), field: `${at('pause')}/timer`, code: 'timer_spec', names: 'pause' },
    { name: 'field assignee naming no user field', change: (f) => (node<'userTask'>(f, 'finance_review').assignees[1] = { type: 'field', field: 'title' }), field: `${at('finance_review')}/assignees/1/field`, code: 'not_a_user_field', names: 'finance_review' },
    { name: 'field assignee naming no field', change: (f) => (node<'userTask'>(f, 'small_task').assignees[0] = { type: 'field', field: 'boss' }), field: `${at('small_task')}/assignees/0/field`, code: 'unknown_field', names: 'small_task' },
    { name: 'role assignee naming no role', change: (f) => (node<'userTask'>(f, 'finance_review').assignees[0] = { type: 'role', role: 'ceo' }), field: `${at('finance_review')}/assignees/0/role`, code: 'unknown_role', names: 'finance_review' },
    { name: 'user assignee that is no uuid', change: (f) => (node<'userTask'>(f, 'finance_review').assignees[3] = { type: 'user', userId: 'bob' }), field: `${at('finance_review')}/assignees/3/userId`, code: 'invalid_user', names: 'finance_review' },
    { name: 'manager of a non-user field', change: (f) => (node<'userTask'>(f, 'finance_review').assignees[2] = { type: 'manager', field: 'amount' }), field: `${at('finance_review')}/assignees/2/field`, code: 'not_a_user_field', names: 'finance_review' },
    { name: 'service action on an unknown object', change: (f) => ((node<'serviceTask'>(f, 'log').action as { object: string }).object = 'invoice'), field: `${at('log')}/action/object`, code: 'unknown_object', names: 'log' },
    { name: 'service action writing an unknown field', change: (f) => ((node<'serviceTask'>(f, 'mark').action as { values: object }).values = { colour: 'red' }), field: `${at('mark')}/action/values/colour`, code: 'unknown_field', names: 'mark' },
    { name: 'service action writing a wrongly typed value', change: (f) => ((node<'serviceTask'>(f, 'mark').action as { values: object }).values = { amount: 'lots' }), field: `${at('mark')}/action/values/amount`, code: 'type_mismatch', names: 'mark' },
    { name: 'setVariables of an undeclared variable', change: (f) => ((node<'serviceTask'>(f, 'classify').action as { values: object }).values = { nope: 1 }), field: `${at('classify')}/action/values/nope`, code: 'unknown_variable', names: 'classify' },
    { name: 'query filter that cannot run in SQL', change: (f) => ((node<'serviceTask'>(f, 'query').action as { filter: unknown }).filter = { '==': [{ var: 'company.industry' }, 'x'] }), field: `${at('query')}/action/filter/==/0`, code: 'not_in_sql', names: 'query' },
    { name: 'query sorted by an unknown field', change: (f) => ((node<'serviceTask'>(f, 'query').action as { sort: string }).sort = '-size'), field: `${at('query')}/action/sort`, code: 'unknown_field', names: 'query' },
    { name: 'invalid ISO duration', change: (f) => (node<'boundaryTimer'>(f, 'sla').timer.duration = '4 hours'), field: `${at('sla')}/timer/duration`, code: 'invalid_duration', names: 'sla' },
    { name: 'invalid retry delay', change: (f) => (node<'serviceTask'>(f, 'mark').retry = { initialDelay: 'P1X' }), field: `${at('mark')}/retry/initialDelay`, code: 'invalid_duration', names: 'mark' },
    { name: 'invalid cron', change: (f) => (node<'startEvent'>(f, 'start').trigger = { type: 'schedule', cron: '61 * * * *' }), field: `${at('start')}/trigger/cron`, code: 'invalid_cron', names: 'start' },
    { name: 'unknown time zone', change: (f) => (node<'startEvent'>(f, 'start').trigger = { type: 'schedule', cron: '0 9 * * *', timezone: 'Mars/Olympus' }), field: `${at('start')}/trigger/timezone`, code: 'invalid_timezone', names: 'start' },
    { name: 'trigger field that does not exist', change: (f) => (node<'startEvent'>(f, 'start').trigger = { type: 'recordUpdated', fields: ['stage', 'size'] }), field: `${at('start')}/trigger/fields/1`, code: 'unknown_field', names: 'start' },
    { name: 'record trigger on a flow without object', change: (f) => delete f.object, field: `${at('start')}/trigger/type`, code: 'needs_object', names: 'start' },
    { name: 'editable field that is unknown', change: (f) => (node<'userTask'>(f, 'finance_review').editableFields = ['notes', 'size']), field: `${at('finance_review')}/editableFields/1`, code: 'unknown_field', names: 'finance_review' },
  ];

  for (const c of cases) {
    it(`reports ${c.name} at its path, naming the node`, () => {
      const errors = errorsAfter(c.change);
      const hit = errors.find((e) => e.field === c.field && e.code === c.code);
      expect(hit, JSON.stringify(errors, null, 1)).toBeDefined();
      expect(hit!.message).toContain(`"${c.names}"`);
    });
  }

  it('reports a join whose branch count differs from its fork', () => {
    const errors = errorsAfter((f) => {
      // a third branch out of the fork that ends at the join through an exclusive split twice
      f.nodes.push({ id: 'choose', type: 'exclusiveGateway', default: 'e_c1' });
      f.edges.find((e) => e.id === 'e_f2')!.target = 'choose';
      f.edges.push({ id: 'e_c1', source: 'choose', target: 'log' }, { id: 'e_c2', source: 'choose', target: 'join', condition: true });
    });
    expect(errors).toContainEqual(expect.objectContaining({ code: 'join_count', message: expect.stringContaining('"join"') }));
  });

  it('accepts an approval with one plain edge (a rejection ends the instance) and a fork whose branches end on their own', () => {
    const flow: FlowDef = {
      key: 'simple',
      name: { en: 'Simple' },
      object: 'deal',
      nodes: [
        { id: 'start', type: 'startEvent', trigger: { type: 'manual' } },
        { id: 'review', type: 'userTask', kind: 'approval', mode: 'single', assignees: [{ type: 'field', field: 'owner_id' }] },
        { id: 'fork', type: 'parallelGateway' },
        { id: 'wait', type: 'timerEvent', timer: { duration: 'PT1H' } },
        { id: 'late', type: 'endEvent' },
        { id: 'stop', type: 'endEvent', terminate: true },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'review' },
        { id: 'e2', source: 'review', target: 'fork' },
        { id: 'e3', source: 'fork', target: 'wait' },
        { id: 'e4', source: 'wait', target: 'late' },
        { id: 'e5', source: 'fork', target: 'stop' },
      ],
    };
    expect(checkFlows(appWith(flow))).toEqual([]);
  });

  it('reports duplicate flow keys', () => {
    expect(checkFlows(appWith(exampleFlow(), exampleFlow()))).toContainEqual(expect.objectContaining({ field: 'flows/1/key', code: 'duplicate' }));
  });

  it('random well-formed flows validate', () => {
    fc.assert(
      fc.property(blocks, (seq) => {
        const errors = checkFlows(appWith(buildFlow(seq)));
        expect(errors, JSON.stringify(errors)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, whatever is put into a well-formed flow', () => {
    const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<unknown>(null, '', 'start', 'StartEvent_1', { var: '$vars.level' }, { var: 'nope' }, [], {}, -1, 1e9));
    fc.assert(
      fc.property(blocks, fc.nat(), fc.constantFrom('nodes', 'edges'), fc.string({ maxLength: 12 }), junk, (seq, pick, section, prop, value) => {
        const flow = buildFlow(seq);
        const items = flow[section] as unknown as Record<string, unknown>[];
        const target = items[pick % items.length]!;
        const keys = Object.keys(target);
        const key = pick % 3 === 0 ? prop : keys[pick % keys.length]!;
        target[key] = value;
        const errors = checkFlows(appWith(flow));
        for (const e of errors) expect(e.field.startsWith('flows')).toBe(true);
      }),
      { numRuns: 500 },
    );
    // and junk in place of whole sections, roles included
    for (const roles of [[null], [{}], [{ key: 1 }]]) expect(() => checkFlows({ ...exampleFlowApp(), roles })).not.toThrow();
  });

  type Mutation = { describe: string; apply(f: FlowDef): string[] | null };
  const mutations: Mutation[] = [
    {
      describe: 'drop an edge that is the only way in or out',
      apply: (f) => {
        const i = f.edges.findIndex((e) => f.edges.filter((x) => x.target === e.target).length === 1 || f.edges.filter((x) => x.source === e.source).length === 1);
        const [e] = f.edges.splice(i, 1);
        return [e!.source, e!.target];
      },
    },
    {
      describe: 'remove the default of a forking gateway',
      apply: (f) => {
        const g = f.nodes.find((n) => n.type === 'exclusiveGateway' && n.default !== undefined);
        if (!g || g.type !== 'exclusiveGateway') return null;
        delete g.default;
        return [g.id];
      },
    },
    {
      describe: 'break a condition',
      apply: (f) => {
        const e = f.edges.find((x) => x.condition !== undefined);
        if (!e) return null;
        e.condition = { '+': [{ var: '$vars.level' }, 1] };
        return [e.source];
      },
    },
    {
      describe: 'assign to a field that does not exist',
      apply: (f) => {
        const t = f.nodes.find((n) => n.type === 'userTask');
        if (!t || t.type !== 'userTask') return null;
        t.assignees = [{ type: 'field', field: 'nobody' }];
        return [t.id];
      },
    },
    {
      describe: 'attach a boundary timer to a non-user-task',
      apply: (f) => {
        const b = f.nodes.find((n) => n.type === 'boundaryTimer');
        if (!b || b.type !== 'boundaryTimer') return null;
        b.attachedTo = 'StartEvent_1';
        return [b.id];
      },
    },
    {
      describe: 'reroute a branch past its join',
      apply: (f) => {
        const join = f.nodes.find((n) => {
          if (n.type !== 'parallelGateway' || f.edges.filter((e) => e.target === n.id).length < 2) return false;
          const after = f.edges.find((e) => e.source === n.id)?.target;
          return f.nodes.find((x) => x.id === after)?.type !== 'endEvent';
        });
        if (!join) return null;
        const after = f.edges.find((e) => e.source === join.id)!.target;
        f.edges.find((e) => e.target === join.id)!.target = after;
        const forks = f.nodes.filter((n) => n.type === 'parallelGateway' && f.edges.filter((e) => e.source === n.id).length > 1);
        return [join.id, after, ...forks.map((n) => n.id)];
      },
    },
    {
      describe: 'give a timer an invalid duration',
      apply: (f) => {
        const t = f.nodes.find((n) => n.type === 'timerEvent' && n.timer.duration !== undefined);
        if (!t || t.type !== 'timerEvent') return null;
        t.timer.duration = 'PT';
        return [t.id];
      },
    },
  ];

  it('random single mutations of well-formed flows are caught, naming the node', () => {
    let applied = 0;
    fc.assert(
      fc.property(blocks, fc.constantFrom(...mutations), (seq, mutation) => {
        const flow = buildFlow(seq);
        const named = mutation.apply(flow);
        if (named === null) return;
        applied++;
        const errors = checkFlows(appWith(flow));
        expect(
          errors.some((e) => e.field.startsWith('flows/0/') && named.some((id) => e.message.includes(`"${id}"`))),
          `${mutation.describe}: expected an error naming ${named.join(' or ')}, got ${JSON.stringify(errors)}`,
        ).toBe(true);
      }),
      { numRuns: 400 },
    );
    expect(applied).toBeGreaterThan(100);
  });
});

describe('publishing through MetadataRepository', () => {
  it('refuses a draft with a broken flow and names the node; saves a good one', async () => {
    const database = await openTestDatabase();
    try {
      const workspaceId = randomUUID();
      const userId = randomUUID();
      await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'flows' }).execute();
      await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
      const actor = { workspaceId, userId, source: 'api' as const };
      const metadata = new MetadataRepository(database.db, { documentChecks: [checkFlows] });
      const broken = exampleFlow();
      delete node<'exclusiveGateway'>(broken, 'split').default;
      const problem = await refusal(metadata.createApp(actor, { key: 'crm', draft: appWith(broken) }));
      expect(problem.kind).toBe('unprocessable');
      expect(problem.errors).toContainEqual(expect.objectContaining({ field: `flows/0/nodes/${indexOf(broken, 'split')}/default`, code: 'no_default' }));
      await metadata.createApp(actor, { key: 'crm', draft: appWith(exampleFlow()) });
      await metadata.publish(actor, 'crm');
      const published = await metadata.getPublished(workspaceId, 'crm');
      expect((published.document.flows as FlowDef[])[0]!.key).toBe('deal_approval');
    } finally {
      await database.close();
    }
  });
});
