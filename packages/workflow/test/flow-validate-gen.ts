/**
 * Random well-formed flows for property tests (validation and BPMN round trips): sequences
 * of service tasks, to-do and approval tasks, timers, exclusive and parallel blocks nested in
 * each other, user tasks with boundary timers.
 */
import fc from 'fast-check';
import type { FlowDef, FlowEdge, FlowNode } from '../src/index';

export type Block =
  | { kind: 'service' | 'task' | 'approval' | 'timer' | 'wait' }
  | { kind: 'sla'; interrupting: boolean }
  | { kind: 'xor' | 'and'; branches: Block[][] };

export const blocks: fc.Arbitrary<Block[]> = fc.letrec<{ seq: Block[]; block: Block }>((tie) => ({
  seq: fc.array(tie('block'), { maxLength: 4 }),
  block: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Block>({ kind: 'service' }, { kind: 'task' }, { kind: 'approval' }, { kind: 'timer' }, { kind: 'wait' }),
    fc.boolean().map<Block>((interrupting) => ({ kind: 'sla', interrupting })),
    fc.record({ kind: fc.constantFrom<'xor' | 'and'>('xor', 'and'), branches: fc.array(tie('seq'), { minLength: 2, maxLength: 3 }) }),
  ),
})).seq;

/** lowers nested blocks to the flat node/edge lists of a FlowDef */
export function buildFlow(seq: Block[], key = 'generated'): FlowDef {
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  let n = 0;
  const id = (prefix: string) => `${prefix}_${++n}`;
  type Pending = { from: string; outcome?: 'approved' };
  const connect = (p: Pending, to: string, extra: Partial<FlowEdge> = {}): FlowEdge => {
    const e: FlowEdge = { id: id('Flow'), source: p.from, target: to, ...(p.outcome ? { outcome: p.outcome } : {}), ...extra };
    edges.push(e);
    return e;
  };
  const add = <T extends FlowNode>(node: T, from: Pending): T => {
    nodes.push(node);
    connect(from, node.id);
    return node;
  };
  const emit = (blocks: Block[], from: Pending): Pending => {
    let at = from;
    for (const b of blocks) at = emitOne(b, at);
    return at;
  };
  const emitOne = (b: Block, from: Pending): Pending => {
    switch (b.kind) {
      case 'service':
        return { from: add({ id: id('Service'), type: 'serviceTask', action: { type: 'setVariables', values: { level: { concat: ['l', n] } } } }, from).id };
      case 'task':
        return { from: add({ id: id('Task'), type: 'userTask', kind: 'task', mode: 'single', assignees: [{ type: 'field', field: 'approver' }] }, from).id };
      case 'timer':
        return { from: add({ id: id('Timer'), type: 'timerEvent', timer: { duration: 'PT5M' } }, from).id };
      case 'wait':
        return { from: add({ id: id('Wait'), type: 'timerEvent', timer: { date: { addDays: [{ var: 'close_date' }, 1] } } }, from).id };
      case 'approval': {
        const task = add({ id: id('Approve'), type: 'userTask', kind: 'approval', mode: 'any', assignees: [{ type: 'role', role: 'finance' }] }, from);
        const end: FlowNode = { id: id('Rejected'), type: 'endEvent', terminate: true, result: 'rejected' };
        nodes.push(end);
        connect({ from: task.id }, end.id, { outcome: 'rejected' });
        return { from: task.id, outcome: 'approved' };
      }
      case 'sla': {
        const task = add({ id: id('Review'), type: 'userTask', kind: 'task', mode: 'all', assignees: [{ type: 'field', field: 'owner_id' }], due: { duration: 'P1D' } }, from);
        const timer: FlowNode = { id: id('Sla'), type: 'boundaryTimer', attachedTo: task.id, timer: { duration: 'PT4H' }, interrupting: b.interrupting };
        nodes.push(timer);
        const notify = add({ id: id('Escalate'), type: 'serviceTask', action: { type: 'notify', recipients: [{ type: 'manager' }], message: 'late' } }, { from: timer.id });
        add({ id: id('Escalated'), type: 'endEvent', ...(b.interrupting ? { terminate: true } : {}) }, { from: notify.id });
        return { from: task.id };
      }
      case 'xor': {
        const split = add<Extract<FlowNode, { type: 'exclusiveGateway' }>>({ id: id('Gateway'), type: 'exclusiveGateway' }, from);
        const merge: FlowNode = { id: id('Merge'), type: 'exclusiveGateway' };
        b.branches.forEach((branch, i) => {
          const head = edges.length;
          const end = emit(branch, { from: split.id });
          if (edges.length === head) {
            // an empty branch goes straight to the merge
            const e = connect({ from: split.id }, merge.id);
            if (i === 0) split.default = e.id;
            else e.condition = { '==': [{ var: '$vars.level' }, `b${i}`] };
            return;
          }
          const first = edges[head]!;
          if (i === 0) split.default = first.id;
          else first.condition = { '==': [{ var: '$vars.level' }, `b${i}`] };
          connect(end, merge.id);
        });
        nodes.push(merge);
        return { from: merge.id };
      }
      case 'and': {
        const fork = add({ id: id('Fork'), type: 'parallelGateway' }, from);
        const join: FlowNode = { id: id('Join'), type: 'parallelGateway' };
        for (const branch of b.branches) connect(emit(branch, { from: fork.id }), join.id);
        nodes.push(join);
        return { from: join.id };
      }
    }
  };
  const start: FlowNode = { id: 'StartEvent_1', type: 'startEvent', trigger: { type: 'manual', label: { en: 'Go' } } };
  nodes.push(start);
  const last = emit(seq, { from: start.id });
  add({ id: id('End'), type: 'endEvent', result: 'done' }, last);
  return {
    key,
    name: { en: 'Generated' },
    object: 'deal',
    variables: [{ name: 'level', type: 'text' }],
    nodes,
    edges,
  };
}
