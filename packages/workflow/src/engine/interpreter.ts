import type { EndEventNode, ExclusiveGatewayNode, FlowEdge, FlowNode, ParallelGatewayNode, TimerEventNode } from '../model/types';
import { FlowIncident } from './errors';
import { runServiceTask } from './service-tasks';
import { enterUserTask } from './user-tasks';
import { timerDue } from './timers';
import type { Step, TokenRow } from './step';

/**
 * Runs the node a ready token is at: one step, atomic in the step's transaction. Each run writes one
 * timeline entry for the node, moves the token on (or parks it waiting) and schedules
 * what comes next.
 */
export async function executeNode(step: Step, token: TokenRow): Promise<void> {
  const node = step.node(token.node_id);
  switch (node.type) {
    case 'startEvent':
      step.event({ tokenId: token.id, nodeId: node.id, action: 'started', actorId: step.instance.started_by });
      return step.leave(token, step.outgoing(node.id));
    case 'endEvent':
      return endEvent(step, token, node);
    case 'exclusiveGateway':
      return exclusiveGateway(step, token, node);
    case 'parallelGateway':
      return parallelGateway(step, token, node);
    case 'timerEvent':
      return timerEvent(step, token, node);
    case 'serviceTask':
      return runServiceTask(step, token, node);
    case 'userTask':
      return enterUserTask(step, token, node);
    case 'boundaryTimer':
      // a token only reaches a boundary event by its timer firing (see fireBoundary)
      throw new FlowIncident(`node "${node.id}" is a boundary timer, which no edge may lead to`, node.id);
  }
}

async function endEvent(step: Step, token: TokenRow, node: EndEventNode): Promise<void> {
  await step.setToken(token, { status: 'done' });
  step.event({ tokenId: token.id, nodeId: node.id, action: 'ended', data: node.result ? { result: node.result } : null });
  if (node.result !== undefined) step.instance.result = node.result;
  if (node.terminate) return step.end('completed', node.result ?? step.instance.result);
  if (await step.noLiveTokens()) await step.end('completed', step.instance.result);
}

/** The first edge (in edge order) whose condition holds, else the default; none is an incident. */
async function exclusiveGateway(step: Step, token: TokenRow, node: ExclusiveGatewayNode): Promise<void> {
  const edges = step.outgoing(node.id);
  let chosen: FlowEdge | undefined;
  if (edges.length === 1) chosen = edges[0];
  else {
    for (const edge of edges) {
      if (edge.id === node.default || edge.condition === undefined) continue;
      if ((await step.evaluate(edge.condition, 'boolean')) === true) {
        chosen = edge;
        break;
      }
    }
    chosen ??= edges.find((e) => e.id === node.default);
  }
  if (!chosen) throw new FlowIncident(`no condition of gateway "${node.id}" holds and it has no default edge`, node.id);
  step.event({ tokenId: token.id, nodeId: node.id, action: 'decided', data: { edge: chosen.id, target: chosen.target } });
  await step.move(token, chosen);
}

/**
 * Join: the token waits ('joining') until every incoming edge has brought one; the count
 * runs under the instance's row lock, so the last of two concurrent branches joins once.
 * Fork: the token leaves by every outgoing edge.
 */
async function parallelGateway(step: Step, token: TokenRow, node: ParallelGatewayNode): Promise<void> {
  const incoming = step.incoming(node.id);
  const outgoing = step.outgoing(node.id);
  if (incoming.length > 1) {
    await step.setToken(token, { status: 'joining' });
    const byEdge = await step.joiningAt(node.id, token);
    if (!incoming.every((e) => byEdge.has(e.id))) {
      step.event({ tokenId: token.id, nodeId: node.id, action: 'arrived', data: { edge: token.arrived_by } });
      return;
    }
    const others = incoming.map((e) => byEdge.get(e.id)!).filter((id) => id !== token.id);
    await step.setTokensStatus(others, 'done');
    step.event({ tokenId: token.id, nodeId: node.id, action: 'joined', data: { tokens: others.length + 1, ...(outgoing.length > 1 ? { forked: outgoing.map((e) => e.id) } : {}) } });
  } else {
    step.event({ tokenId: token.id, nodeId: node.id, action: outgoing.length > 1 ? 'forked' : 'passed', data: { edges: outgoing.map((e) => e.id) } });
  }
  await step.leave(token, outgoing);
}

async function timerEvent(step: Step, token: TokenRow, node: TimerEventNode): Promise<void> {
  const due = await timerDue(step, node.timer, node.id);
  await step.setToken(token, { status: 'waiting' });
  step.jobs.push({ workspaceId: step.workspaceId, kind: 'timer', payload: { visit: token.visit }, runAt: due, instanceId: step.instance.id, tokenId: token.id });
  step.event({ tokenId: token.id, nodeId: node.id, action: 'timer_set', data: { due: due.toISOString() } });
}

/** A timer job: the token waiting at the timer event goes on. */
export async function fireTimer(step: Step, token: TokenRow, visit: unknown): Promise<void> {
  const node = step.node(token.node_id);
  if (node.type !== 'timerEvent' || token.status !== 'waiting' || token.visit !== visit) return;
  step.event({ tokenId: token.id, nodeId: node.id, action: 'timer_fired' });
  await step.leave(token, step.outgoing(node.id));
}

export function isNode<T extends FlowNode['type']>(node: FlowNode, type: T): node is Extract<FlowNode, { type: T }> {
  return node.type === type;
}
