import fc from 'fast-check';
import { ProblemError } from '@tessera/metadata';
import { refusal } from '@tessera/store';
import { describe, expect, it } from 'vitest';
import { applyApprovalAction, startApproval, type ApprovalActionInput, type ApprovalState, type ApprovalStep } from '../src/approvals';
import type { ApprovalAction, UserTaskNode } from '../src/model/types';

const node = (mode: UserTaskNode['mode'], extra: Partial<UserTaskNode> = {}): UserTaskNode => ({
  id: 'review',
  type: 'userTask',
  kind: 'approval',
  mode,
  assignees: [{ type: 'role', role: 'manager' }],
  ...extra,
});
const at = new Date('2026-03-01T08:00:00Z');

/** a chain of actions from the start; returns every step */
function run(n: UserTaskNode, assignees: string[], acts: Array<Omit<ApprovalActionInput, 'at'>>): ApprovalStep[] {
  let state = startApproval(n, assignees).state;
  return acts.map((a) => {
    const step = applyApprovalAction(n, state, { ...a, at });
    state = step.state;
    return step;
  });
}
const last = (steps: ApprovalStep[]) => steps[steps.length - 1]!;
const refused = (f: () => unknown) => refusal(Promise.resolve().then(f));

describe('startApproval', () => {
  it('opens tasks per mode; duplicates in the candidates count once', () => {
    expect(startApproval(node('single'), ['a', 'b']).open).toEqual(['a']);
    expect(startApproval(node('any'), ['a', 'b', 'a']).open).toEqual(['a', 'b']);
    expect(startApproval(node('all'), ['a', 'b']).open).toEqual(['a', 'b']);
    const seq = startApproval(node('sequential'), ['a', 'b', 'c']);
    expect(seq.open).toEqual(['a']);
    expect(seq.state).toMatchObject({ assignees: ['a', 'b', 'c'], open: ['a'], waiting: ['b', 'c'], outcome: { status: 'pending' } });
  });

  it('refuses an empty candidate list clearly, naming the node', () => {
    expect(() => startApproval(node('all'), [])).toThrow(/User task "review" has no assignee/);
  });
});

describe('single', () => {
  it('the one candidate approves or rejects', () => {
    expect(last(run(node('single'), ['a', 'b'], [{ userId: 'a', action: 'approve' }]))).toMatchObject({ outcome: { status: 'approved' }, open: [], close: ['a'] });
    expect(last(run(node('single'), ['a'], [{ userId: 'a', action: 'reject', comment: 'too much' }])).state.decisions).toEqual([
      { userId: 'a', action: 'reject', comment: 'too much', at: at.toISOString() },
    ]);
  });

  it('the second candidate holds no task', async () => {
    const e = await refused(() => run(node('single'), ['a', 'b'], [{ userId: 'b', action: 'approve' }]));
    expect(e.kind).toBe('forbidden');
    expect(e.message).toContain('User b holds no open task on "review"');
  });
});

describe('any (或签)', () => {
  it('the first approval approves and closes the other tasks', () => {
    const step = last(run(node('any'), ['a', 'b', 'c'], [{ userId: 'b', action: 'approve' }]));
    expect(step).toMatchObject({ outcome: { status: 'approved' }, open: [], close: ['b', 'a', 'c'] });
  });

  it('the first rejection rejects; nobody can act after the decision', async () => {
    const steps = run(node('any'), ['a', 'b'], [{ userId: 'a', action: 'comment', comment: 'looking' }, { userId: 'b', action: 'reject' }]);
    expect(steps[0]).toMatchObject({ outcome: { status: 'pending' }, open: [], close: [] });
    expect(last(steps).outcome).toEqual({ status: 'rejected' });
    const e = await refused(() => applyApprovalAction(node('any'), last(steps).state, { userId: 'a', action: 'approve', at }));
    expect(e.kind).toBe('forbidden');
    expect(e.message).toContain('(it is already rejected)');
  });
});

describe('all (会签)', () => {
  it('approves only when every candidate approved', () => {
    const steps = run(node('all'), ['a', 'b', 'c'], [
      { userId: 'b', action: 'approve' },
      { userId: 'a', action: 'approve' },
      { userId: 'c', action: 'approve' },
    ]);
    expect(steps.map((s) => s.outcome.status)).toEqual(['pending', 'pending', 'approved']);
    expect(steps[0]).toMatchObject({ open: [], close: ['b'], state: { open: ['a', 'c'] } });
  });

  it('one rejection rejects at once and closes the rest', () => {
    const step = last(run(node('all'), ['a', 'b', 'c'], [{ userId: 'a', action: 'approve' }, { userId: 'c', action: 'reject' }]));
    expect(step).toMatchObject({ outcome: { status: 'rejected' }, close: ['c', 'b'], state: { open: [] } });
  });

  it('an approver cannot approve twice', async () => {
    const e = await refused(() => run(node('all'), ['a', 'b'], [{ userId: 'a', action: 'approve' }, { userId: 'a', action: 'approve' }]));
    expect(e.kind).toBe('forbidden');
  });

  it('a delegatee approves the delegator\'s share; the delegator can no longer act', async () => {
    const steps = run(node('all'), ['a', 'b'], [
      { userId: 'a', action: 'delegate', delegateTo: 'd', comment: 'on leave' },
      { userId: 'b', action: 'approve' },
    ]);
    expect(steps[0]).toMatchObject({ open: ['d'], close: ['a'], state: { open: ['d', 'b'] } });
    expect(steps[0]!.state.decisions[0]).toMatchObject({ userId: 'a', action: 'delegate', delegateTo: 'd', comment: 'on leave' });
    expect(last(steps).outcome.status).toBe('pending');
    expect((await refused(() => applyApprovalAction(node('all'), last(steps).state, { userId: 'a', action: 'approve', at }))).kind).toBe('forbidden');
    expect(applyApprovalAction(node('all'), last(steps).state, { userId: 'd', action: 'approve', at }).outcome).toEqual({ status: 'approved' });
  });
});

describe('sequential', () => {
  it('opens one task at a time in order; the last approval approves', () => {
    const steps = run(node('sequential'), ['a', 'b', 'c'], [
      { userId: 'a', action: 'approve' },
      { userId: 'b', action: 'approve' },
      { userId: 'c', action: 'approve' },
    ]);
    expect(steps.map((s) => [s.outcome.status, s.open, s.close])).toEqual([
      ['pending', ['b'], ['a']],
      ['pending', ['c'], ['b']],
      ['approved', [], ['c']],
    ]);
  });

  it('a later candidate cannot act before their turn; a reject in the middle rejects', async () => {
    expect((await refused(() => run(node('sequential'), ['a', 'b'], [{ userId: 'b', action: 'approve' }]))).kind).toBe('forbidden');
    const step = last(run(node('sequential'), ['a', 'b', 'c'], [{ userId: 'a', action: 'approve' }, { userId: 'b', action: 'reject' }]));
    expect(step).toMatchObject({ outcome: { status: 'rejected' }, open: [], state: { waiting: [] } });
  });

  it('a delegatee takes the turn and the order goes on after them', () => {
    const steps = run(node('sequential'), ['a', 'b'], [
      { userId: 'a', action: 'delegate', delegateTo: 'x' },
      { userId: 'x', action: 'approve' },
    ]);
    expect(steps.map((s) => [s.open, s.close])).toEqual([[['x'], ['a']], [['b'], ['x']]]);
  });
});

describe('return, delegate and the allowed actions', () => {
  it('return ends the node as returned to the named step and closes every task', () => {
    const step = last(run(node('all'), ['a', 'b'], [{ userId: 'b', action: 'return', returnTo: 'draft', comment: 'fix the amount' }]));
    expect(step).toMatchObject({ outcome: { status: 'returned', to: 'draft' }, close: ['b', 'a'] });
    expect(step.state.decisions[0]).toMatchObject({ action: 'return', returnTo: 'draft' });
  });

  it.each<[string, Omit<ApprovalActionInput, 'at'>, string]>([
    ['a return without a target', { userId: 'a', action: 'return' }, 'returnTo'],
    ['a delegation without a delegatee', { userId: 'a', action: 'delegate' }, 'delegateTo'],
    ['a delegation to oneself', { userId: 'a', action: 'delegate', delegateTo: 'a' }, 'delegateTo'],
    ['a delegation to someone holding the task', { userId: 'a', action: 'delegate', delegateTo: 'b' }, 'delegateTo'],
    ['an unknown action', { userId: 'a', action: 'escalate' as ApprovalAction }, 'action'],
  ])('refuses %s as unprocessable naming the field', async (_, act, field) => {
    const e = await refused(() => run(node('any'), ['a', 'b'], [act]));
    expect(e.kind).toBe('unprocessable');
    expect(e.errors[0]?.field).toBe(field);
  });

  it('only the actions the node lists are allowed', async () => {
    const strict = node('single', { actions: ['approve', 'reject'] });
    for (const action of ['return', 'delegate', 'comment'] as const) {
      const e = await refused(() => run(strict, ['a'], [{ userId: 'a', action, returnTo: 'x', delegateTo: 'y' }]));
      expect(e.message).toContain(`"${action}" is not allowed on "review"; allowed: approve, reject`);
    }
  });

  it('a refused action leaves the state untouched', async () => {
    const { state } = startApproval(node('all'), ['a', 'b']);
    const before = structuredClone(state);
    await refused(() => applyApprovalAction(node('all'), state, { userId: 'z', action: 'approve', at }));
    expect(state).toEqual(before);
  });
});

describe("kind 'task' (a to-do)", () => {
  const todo = (mode: UserTaskNode['mode'], actions?: ApprovalAction[]) => node(mode, { kind: 'task', ...(actions ? { actions } : {}) });

  it("'approve' completes it; comments are allowed by default", () => {
    const steps = run(todo('single'), ['a'], [{ userId: 'a', action: 'comment', comment: 'on it' }, { userId: 'a', action: 'approve' }]);
    expect(steps.map((s) => s.outcome.status)).toEqual(['pending', 'completed']);
    expect(last(run(todo('all'), ['a', 'b'], [{ userId: 'a', action: 'approve' }, { userId: 'b', action: 'approve' }])).outcome).toEqual({ status: 'completed' });
  });

  it('reject, return and delegate only when listed', async () => {
    for (const action of ['reject', 'return', 'delegate'] as const) {
      const e = await refused(() => run(todo('single'), ['a'], [{ userId: 'a', action, returnTo: 'x', delegateTo: 'y' }]));
      expect(e.kind).toBe('unprocessable');
      expect(e.message).toContain('allowed: approve, comment');
    }
    expect(last(run(todo('single', ['reject']), ['a'], [{ userId: 'a', action: 'reject' }])).outcome).toEqual({ status: 'rejected' });
    expect(last(run(todo('single', ['delegate']), ['a'], [{ userId: 'a', action: 'delegate', delegateTo: 'b' }])).open).toEqual(['b']);
  });
});

describe('property: random actions by random users', () => {
  const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
  const actions = fc.record({
    userId: fc.constantFrom(...users),
    action: fc.constantFrom<ApprovalAction>('approve', 'approve', 'approve', 'reject', 'return', 'delegate', 'comment'),
    delegateTo: fc.constantFrom(...users),
    returnTo: fc.constant('draft'),
  });

  it('decides exactly once and never changes; open tasks follow open/close; all and any decide as they should', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<UserTaskNode['mode']>('single', 'any', 'all', 'sequential'),
        fc.constantFrom<UserTaskNode['kind']>('approval', 'task'),
        fc.uniqueArray(fc.constantFrom(...users), { minLength: 1, maxLength: 4 }),
        fc.array(actions, { maxLength: 30 }),
        (mode, kind, assignees, acts) => {
          const n = node(mode, { kind, actions: ['approve', 'reject', 'return', 'delegate', 'comment'] });
          let { state } = startApproval(n, assignees);
          let decidedAt = -1;
          const given = new Map<string, number>(assignees.filter((u) => state.open.includes(u) || mode === 'sequential').map((u) => [u, 1]));
          const settled = new Map<string, number>();
          acts.forEach((act, i) => {
            const before: ApprovalState = state;
            let step: ApprovalStep;
            try {
              step = applyApprovalAction(n, state, { ...act, at });
            } catch (e) {
              expect(e).toBeInstanceOf(ProblemError);
              // refused only for a reason the rules give
              const holds = before.open.includes(act.userId);
              const badDelegation = act.action === 'delegate' && (act.delegateTo === act.userId || before.open.includes(act.delegateTo));
              expect(!holds || badDelegation).toBe(true);
              expect((e as ProblemError).kind).toBe(holds ? 'unprocessable' : 'forbidden');
              return;
            }
            state = step.state;
            expect(before.outcome.status).toBe('pending'); // nothing is accepted after the decision
            // the open set is the old one minus `close` plus `open`, each user once
            const expected = [...before.open.filter((u) => !step.close.includes(u)), ...step.open];
            expect([...state.open].sort()).toEqual([...expected].sort());
            expect(new Set(state.open).size).toBe(state.open.length);
            if (act.action === 'delegate') given.set(act.delegateTo, (given.get(act.delegateTo) ?? 0) + 1);
            if (act.action === 'approve' || act.action === 'delegate') settled.set(act.userId, (settled.get(act.userId) ?? 0) + 1);
            // a reject or return decides in every mode; in single and any, so does the first approval
            const decisiveAct = act.action === 'reject' || act.action === 'return' || (act.action === 'approve' && (mode === 'any' || mode === 'single'));
            if (decisiveAct) expect(step.outcome.status).not.toBe('pending');
            if (step.outcome.status !== 'pending') {
              expect(decidedAt).toBe(-1);
              decidedAt = i;
              expect(state.open).toEqual([]);
              const decisive = state.decisions.filter((d) => d.action !== 'comment' && d.action !== 'delegate');
              if (mode === 'any' || mode === 'single') expect(decisive).toHaveLength(1);
              if (step.outcome.status === 'approved' || step.outcome.status === 'completed') {
                expect(step.outcome.status).toBe(kind === 'task' ? 'completed' : 'approved');
                if (mode === 'all' || mode === 'sequential') {
                  // one approval per candidate, and everyone handed a task (by start, turn or delegation) settled each
                  expect(decisive.filter((d) => d.action === 'approve')).toHaveLength(assignees.length);
                  for (const [user, count] of given) expect(settled.get(user) ?? 0).toBe(count);
                }
              }
              if (step.outcome.status === 'rejected') expect(act.action).toBe('reject');
              if (step.outcome.status === 'returned') expect(step.outcome).toEqual({ status: 'returned', to: 'draft' });
            } else {
              expect(step.outcome).toEqual(before.outcome);
            }
          });
          if (decidedAt >= 0) expect(state.outcome.status).not.toBe('pending');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
