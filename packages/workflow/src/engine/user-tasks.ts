import { sql, type Selectable } from 'kysely';
import type { FlowTasksTable } from '@tessera/store';
import { uuidv7 } from 'uuidv7';
import { ProblemError } from '@tessera/metadata';
import type { ApprovalAction, BoundaryTimerNode, FlowEdge, UserTaskNode } from '../model/types';
import { addIsoDuration } from '../time/index';
import { applyApprovalAction, resolveAssignees, startApproval, type ApprovalState } from './collaborators';
import { assigneeContext } from './service-tasks';
import { FlowIncident } from './errors';
import { timerDue, toInstant } from './timers';
import type { Step, TokenRow } from './step';

/**
 * A token entering a user task: the assignees are resolved, the approval starts, a task
 * is opened for each user the approval says, the boundary timers are scheduled, and the
 * token waits for the decisions.
 */
export async function enterUserTask(step: Step, token: TokenRow, node: UserTaskNode): Promise<void> {
  const assignees = await resolveAssignees(step.trx, await assigneeContext(step), node.assignees);
  if (assignees.length === 0) throw new FlowIncident(`no enabled user matches the assignee rules of user task "${node.id}"`, node.id);
  const { state, open } = startApproval(node, assignees);
  const due = await taskDue(step, node);
  await openTasks(step, token, node, open, due);
  await step.setToken(token, { status: 'waiting', state });
  for (const boundary of boundariesOf(step, node.id)) {
    const at = await timerDue(step, boundary.timer, boundary.id);
    step.jobs.push({
      workspaceId: step.workspaceId,
      kind: 'boundary',
      payload: { boundaryId: boundary.id, visit: token.visit },
      runAt: at,
      instanceId: step.instance.id,
      tokenId: token.id,
    });
  }
  step.event({ tokenId: token.id, nodeId: node.id, action: 'task_created', data: { assignees: open, ...(due ? { due: due.toISOString() } : {}) } });
}

function boundariesOf(step: Step, nodeId: string): BoundaryTimerNode[] {
  return step.flow.nodes.filter((n): n is BoundaryTimerNode => n.type === 'boundaryTimer' && n.attachedTo === nodeId);
}

async function taskDue(step: Step, node: UserTaskNode): Promise<Date | null> {
  if (node.due?.duration) return addIsoDuration(step.now, node.due.duration, step.services.timezone);
  if (node.due?.date !== undefined) return toInstant(await step.evaluate(node.due.date), step.services.timezone);
  return null;
}

async function openTasks(step: Step, token: TokenRow, node: UserTaskNode, users: string[], due: Date | null): Promise<void> {
  if (users.length === 0) return;
  step.openedTasks = true;
  await step.writeInstance();
  await step.trx
    .insertInto('flow_tasks')
    .values(
      users.map((userId) => ({
        workspace_id: step.workspaceId,
        id: uuidv7(),
        instance_id: step.instance.id,
        token_id: token.id,
        node_id: node.id,
        visit: token.visit,
        assignee_id: userId,
        due_at: due,
        created_at: step.now,
      })),
    )
    .execute();
}

export type TaskRow = Pick<Selectable<FlowTasksTable>, 'id' | 'instance_id' | 'token_id' | 'node_id' | 'visit' | 'assignee_id' | 'status' | 'due_at'>;

export interface TaskAct {
  action: ApprovalAction;
  comment?: string;
  delegateTo?: string;
  returnTo?: string;
  values?: Record<string, unknown>;
}

/**
 * One user's action on their task, in the step's transaction (the instance row is locked
 * by the caller, the task row here): record edits, the approval's next state, tasks closed
 * and opened, the timeline entry, and the token's move when the node is decided.
 */
export async function actOnTask(step: Step, task: TaskRow, userId: string, act: TaskAct): Promise<void> {
  const node = step.node(task.node_id);
  if (node.type !== 'userTask') throw new FlowIncident(`task ${task.id} is at "${task.node_id}", which is not a user task`, task.node_id);
  const token = await lockedToken(step, task.token_id);
  if (!token || token.node_id !== node.id || token.status !== 'waiting' || token.visit !== task.visit) {
    throw new ProblemError('conflict', `Task ${task.id} is no longer open`, [{ field: 'taskId', code: 'closed', message: 'the flow has moved on' }]);
  }
  if (act.values && Object.keys(act.values).length > 0) await editRecord(step, node, act.values);
  if (act.delegateTo !== undefined) await checkUser(step, act.delegateTo);
  if (act.action === 'return') checkReturnTarget(step, node, act.returnTo);
  const result = applyApprovalAction(node, token.state as ApprovalState, {
    userId,
    action: act.action,
    at: step.now,
    ...(act.comment !== undefined ? { comment: act.comment } : {}),
    ...(act.delegateTo !== undefined ? { delegateTo: act.delegateTo } : {}),
    ...(act.returnTo !== undefined ? { returnTo: act.returnTo } : {}),
  });
  await closeTasks(step, token, result.close, userId, act);
  await openTasks(step, token, node, result.open, task.due_at == null ? null : new Date(task.due_at));
  await step.setToken(token, { state: result.state });
  step.event({
    tokenId: token.id,
    nodeId: node.id,
    action: act.action,
    actorId: userId,
    comment: act.comment ?? null,
    data: {
      outcome: result.outcome.status,
      ...(act.delegateTo ? { delegateTo: act.delegateTo } : {}),
      ...(act.returnTo ? { returnTo: act.returnTo } : {}),
    },
  });
  const outcome = result.outcome;
  switch (outcome.status) {
    case 'pending':
      return;
    case 'returned':
      await dropBoundaryJobs(step, token);
      return step.move(token, { id: `return:${node.id}`, source: node.id, target: outcome.to });
    case 'approved':
    case 'completed':
      await dropBoundaryJobs(step, token);
      return step.leave(token, leaving(step, node.id, 'approved'));
    case 'rejected': {
      await dropBoundaryJobs(step, token);
      const edges = step.outgoing(node.id).filter((e) => e.outcome === 'rejected');
      if (edges.length > 0) return step.leave(token, edges);
      // no way out for a rejection: the instance ends rejected
      await step.setToken(token, { status: 'done' });
      return step.end('completed', 'rejected');
    }
  }
}

/** the edges an approved/completed task leaves by: those marked with the outcome, else those unmarked */
function leaving(step: Step, nodeId: string, outcome: 'approved'): FlowEdge[] {
  const edges = step.outgoing(nodeId);
  const marked = edges.filter((e) => e.outcome === outcome);
  return marked.length > 0 ? marked : edges.filter((e) => e.outcome === undefined);
}

async function lockedToken(step: Step, tokenId: string): Promise<TokenRow | null> {
  await step.flushTokens();
  const result = await sql<TokenRow>`
    SELECT id, instance_id, node_id, status, arrived_by, visit, state FROM flow_tokens
    WHERE workspace_id = ${step.workspaceId} AND id = ${tokenId} FOR UPDATE`.execute(step.trx);
  const row = result.rows[0] ?? null;
  return row ? (step.tokens.get(row.id) ?? row) : null;
}

async function closeTasks(step: Step, token: TokenRow, users: string[], actorId: string, act: TaskAct): Promise<void> {
  if (users.length === 0) return;
  // the actor's own task is done with their decision; the others' close undecided
  if (users.includes(actorId)) {
    await step.trx
      .updateTable('flow_tasks')
      .set({ status: 'done', decision: act.action, comment: act.comment ?? null, completed_at: step.now })
      .where('workspace_id', '=', step.workspaceId)
      .where('token_id', '=', token.id)
      .where('status', '=', 'open')
      .where('assignee_id', '=', actorId)
      .execute();
  }
  const others = users.filter((u) => u !== actorId);
  if (others.length > 0) await cancelOpenTasks(step, token, others);
}

/** closes the token's open tasks undecided: those of `users`, or all */
async function cancelOpenTasks(step: Step, token: TokenRow, users?: string[]): Promise<void> {
  let update = step.trx
    .updateTable('flow_tasks')
    .set({ status: 'cancelled', completed_at: step.now })
    .where('workspace_id', '=', step.workspaceId)
    .where('token_id', '=', token.id)
    .where('status', '=', 'open');
  if (users) update = update.where('assignee_id', 'in', users);
  await update.execute();
}

async function dropBoundaryJobs(step: Step, token: TokenRow): Promise<void> {
  await step.trx.deleteFrom('jobs').where('workspace_id', '=', step.workspaceId).where('token_id', '=', token.id).where('kind', '=', 'boundary').execute();
}

/** The assignee may change only the node's editable fields, through the record's rules. */
async function editRecord(step: Step, node: UserTaskNode, values: Record<string, unknown>): Promise<void> {
  const allowed = new Set(node.editableFields ?? []);
  const refused = Object.keys(values).filter((k) => !allowed.has(k));
  if (refused.length > 0) {
    throw new ProblemError(
      'unprocessable',
      `Fields ${refused.join(', ')} cannot be edited on task "${node.id}"`,
      refused.map((field) => ({ field: `values/${field}`, code: 'not_editable', message: `"${field}" is not one of the task's editable fields` })),
    );
  }
  const object = step.object;
  if (!object || !step.instance.record_id) {
    throw new ProblemError('unprocessable', 'This flow has no record to edit', [{ field: 'values', code: 'no_record', message: 'the instance is about no record' }]);
  }
  const repo = step.records();
  const current = await repo.get(step.workspaceId, object.key, step.instance.record_id);
  await repo.update(step.actor, object.key, step.instance.record_id, values, current.version);
  step.forgetRecord();
}

async function checkUser(step: Step, userId: string): Promise<void> {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const found = UUID.test(userId)
    ? await step.trx
        .selectFrom('users')
        .select('id')
        .where('workspace_id', '=', step.workspaceId)
        .where('id', '=', userId)
        .where('disabled_at', 'is', null)
        .executeTakeFirst()
    : undefined;
  if (!found) throw new ProblemError('unprocessable', `No enabled user ${userId} to delegate to`, [{ field: 'delegateTo', code: 'unknown_user', message: `no enabled user with id ${userId}` }]);
}

/** A return goes back to a user task the flow can reach this one from. */
function checkReturnTarget(step: Step, node: UserTaskNode, to: string | undefined): void {
  const target = to ? step.flow.nodes.find((n) => n.id === to) : undefined;
  const refuse = (message: string) => new ProblemError('unprocessable', message, [{ field: 'returnTo', code: 'invalid', message }]);
  if (!target || target.type !== 'userTask') throw refuse(`"${to ?? ''}" is not a user task of this flow`);
  if (target.id === node.id || !reaches(step, target.id, node.id)) throw refuse(`"${target.id}" is not an earlier step of "${node.id}"`);
}

function reaches(step: Step, from: string, to: string): boolean {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const e of step.outgoing(id)) {
      if (e.target === to) return true;
      if (!seen.has(e.target)) {
        seen.add(e.target);
        queue.push(e.target);
      }
    }
  }
  return false;
}

/** A boundary timer fired: interrupting ends the task and leaves by the boundary; otherwise a new token does. */
export async function fireBoundary(step: Step, token: TokenRow, boundaryId: string, visit: unknown): Promise<void> {
  const boundary = step.node(boundaryId);
  if (boundary.type !== 'boundaryTimer') throw new FlowIncident(`"${boundaryId}" is not a boundary timer`, boundaryId);
  if (token.node_id !== boundary.attachedTo || token.status !== 'waiting' || token.visit !== visit) return;
  const edges = step.outgoing(boundary.id);
  step.event({ tokenId: token.id, nodeId: boundary.id, action: 'boundary_fired', data: { interrupting: boundary.interrupting, task: boundary.attachedTo } });
  if (!boundary.interrupting) {
    for (const edge of edges) await step.spawn(edge);
    return;
  }
  await cancelOpenTasks(step, token);
  await dropBoundaryJobs(step, token);
  await step.leave(token, edges);
}
