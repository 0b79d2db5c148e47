/**
 * The decision logic of one user task node, as a pure state machine: state in, action in,
 * new state and "whose tasks to open and close" out. Pure so that the engine can run it inside
 * the transaction that stores its result (the state is JSON in the instance's task row), so
 * that a crash between "decided" and "tasks closed" cannot happen, and so that every rule of
 * 会签/或签 is tested without a database.
 *
 * Modes (who holds an open task, and what decides):
 * - single: the first candidate only.
 * - any (或签): every candidate; the first approve approves, the first reject rejects, and the
 *   others' tasks close.
 * - all (会签): every candidate must approve; one reject rejects at once and closes the rest.
 * - sequential: candidates one at a time in order; each approve opens the next one's task, the
 *   last approve approves, a reject rejects.
 * In every mode a 'return' (send back to an earlier user task, the caller names it and checks
 * it is one) ends the node with outcome 'returned' and closes every task.
 *
 * A delegation moves the delegator's open task to another user, who then decides in their
 * place (in 'all' they approve the delegator's share); the delegator holds nothing afterwards.
 * A comment is logged and changes nothing else. A 'task' (a to-do rather than an approval)
 * completes with 'approve'; its other actions are only those listed in node.actions.
 *
 * Anyone without an open task here, acting twice or after the decision included, is refused
 * with ProblemError('forbidden') naming them: the task list a user sees is exactly `open`.
 * Whether `delegateTo` is an enabled user of the workspace and `returnTo` an earlier user task
 * are the caller's checks (they need the database and the flow graph).
 */
import { ProblemError } from '@tessera/metadata';
import { APPROVAL_ACTIONS, type ApprovalAction, type UserTaskNode } from '../model/types';

export interface ApprovalDecisionRecord {
  userId: string;
  action: ApprovalAction;
  comment?: string;
  /** ISO 8601 instant */
  at: string;
  delegateTo?: string;
  returnTo?: string;
}

export type ApprovalOutcome =
  | { status: 'pending' }
  | { status: 'approved' }
  | { status: 'rejected' }
  | { status: 'returned'; to: string }
  | { status: 'completed' };

export interface ApprovalState {
  mode: UserTaskNode['mode'];
  kind: UserTaskNode['kind'];
  /** the candidates resolved when the node started, distinct, in rule order */
  assignees: string[];
  /** who currently holds an open task */
  open: string[];
  /** sequential mode: candidates whose turn has not come yet, in order */
  waiting: string[];
  decisions: ApprovalDecisionRecord[];
  outcome: ApprovalOutcome;
}

export interface ApprovalActionInput {
  userId: string;
  action: ApprovalAction;
  comment?: string;
  delegateTo?: string;
  returnTo?: string;
  at: Date;
}

export interface ApprovalStep {
  state: ApprovalState;
  outcome: ApprovalOutcome;
  /** users whose tasks to create */
  open: string[];
  /** users whose open tasks end with this action: the actor's own first (not for a comment), then those closed undecided */
  close: string[];
}

/** the actions a user may take on the node's tasks */
export function allowedActions(node: Pick<UserTaskNode, 'kind' | 'actions'>): ApprovalAction[] {
  if (node.kind === 'approval') return node.actions ? [...node.actions] : [...APPROVAL_ACTIONS];
  const listed = node.actions ?? ['comment'];
  return APPROVAL_ACTIONS.filter((a) => a === 'approve' || listed.includes(a));
}

export function startApproval(node: UserTaskNode, assignees: string[]): { state: ApprovalState; open: string[] } {
  const candidates = [...new Set(assignees)];
  if (candidates.length === 0) {
    throw new ProblemError('unprocessable', `User task "${node.id}" has no assignee: none of its assignee rules resolved to an enabled user`, [
      { field: `nodes/${node.id}/assignees`, code: 'no_assignee', message: 'no enabled user matches the assignee rules' },
    ]);
  }
  const open = node.mode === 'any' || node.mode === 'all' ? candidates : candidates.slice(0, 1);
  const waiting = node.mode === 'sequential' ? candidates.slice(1) : [];
  const state: ApprovalState = { mode: node.mode, kind: node.kind, assignees: candidates, open, waiting, decisions: [], outcome: { status: 'pending' } };
  return { state, open: [...open] };
}

function refuse(kind: 'forbidden' | 'unprocessable', field: string, code: string, message: string): never {
  throw new ProblemError(kind, message, [{ field, code, message }]);
}

function checkAction(node: UserTaskNode, state: ApprovalState, act: ApprovalActionInput): void {
  if (!state.open.includes(act.userId)) {
    const why = state.outcome.status === 'pending' ? '' : ` (it is already ${state.outcome.status})`;
    refuse('forbidden', 'userId', 'no_open_task', `User ${act.userId} holds no open task on "${node.id}"${why}`);
  }
  if (!(APPROVAL_ACTIONS as readonly string[]).includes(act.action)) {
    refuse('unprocessable', 'action', 'invalid', `"${String(act.action)}" is not an action; use one of ${APPROVAL_ACTIONS.join(', ')}`);
  }
  const allowed = allowedActions(node);
  if (!allowed.includes(act.action)) {
    refuse('unprocessable', 'action', 'not_allowed', `"${act.action}" is not allowed on "${node.id}"; allowed: ${allowed.join(', ')}`);
  }
  if (act.action === 'delegate') {
    if (!act.delegateTo) refuse('unprocessable', 'delegateTo', 'required', 'A delegation names the user it goes to (delegateTo)');
    if (act.delegateTo === act.userId) refuse('unprocessable', 'delegateTo', 'self', `User ${act.userId} cannot delegate a task to themselves`);
    if (state.open.includes(act.delegateTo)) {
      refuse('unprocessable', 'delegateTo', 'already_assigned', `User ${act.delegateTo} already holds an open task on "${node.id}"`);
    }
  }
  if (act.action === 'return' && !act.returnTo) {
    refuse('unprocessable', 'returnTo', 'required', 'A return names the earlier user task it goes back to (returnTo)');
  }
}

function decisionOf(act: ApprovalActionInput): ApprovalDecisionRecord {
  const record: ApprovalDecisionRecord = { userId: act.userId, action: act.action, at: act.at.toISOString() };
  if (act.comment !== undefined && act.comment !== '') record.comment = act.comment;
  if (act.action === 'delegate') record.delegateTo = act.delegateTo;
  if (act.action === 'return') record.returnTo = act.returnTo;
  return record;
}

/** apply one user's action; throws ProblemError('forbidden' | 'unprocessable') and leaves `state` untouched when refused */
export function applyApprovalAction(node: UserTaskNode, state: ApprovalState, act: ApprovalActionInput): ApprovalStep {
  checkAction(node, state, act);
  const decisions = [...state.decisions, decisionOf(act)];
  const others = state.open.filter((u) => u !== act.userId);
  const decided = (outcome: ApprovalOutcome): ApprovalStep => ({
    state: { ...state, open: [], waiting: [], decisions, outcome },
    outcome,
    open: [],
    close: [act.userId, ...others],
  });
  const goOn = (open: string[], waiting: string[], opened: string[], closed: string[]): ApprovalStep => ({
    state: { ...state, open, waiting, decisions },
    outcome: state.outcome,
    open: opened,
    close: closed,
  });

  switch (act.action) {
    case 'comment':
      return goOn(state.open, state.waiting, [], []);
    case 'delegate': {
      const to = act.delegateTo!;
      // the delegatee takes the delegator's place in the list, so order and shares stay as they were
      const open = state.open.map((u) => (u === act.userId ? to : u));
      return goOn(open, state.waiting, [to], [act.userId]);
    }
    case 'reject':
      return decided({ status: 'rejected' });
    case 'return':
      return decided({ status: 'returned', to: act.returnTo! });
    case 'approve': {
      const done: ApprovalOutcome = state.kind === 'task' ? { status: 'completed' } : { status: 'approved' };
      if (state.mode === 'all' && others.length > 0) return goOn(others, [], [], [act.userId]);
      if (state.mode === 'sequential' && state.waiting.length > 0) {
        const [next, ...rest] = state.waiting as [string, ...string[]];
        return goOn([next], rest, [next], [act.userId]);
      }
      return decided(done);
    }
  }
}
