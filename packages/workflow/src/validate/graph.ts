import type { FlowEdge, FlowNode } from '../model/types';
import type { FlowCheck } from './context';

/**
 * The shape of the graph: ids, the start, edge ends, how many edges each kind of node takes
 * and gives, reachability both ways, exclusive gateway defaults and parallel fork/join pairs.
 * Each check reports the node it is about, so a designer can jump to it.
 */
export function checkGraph(c: FlowCheck): void {
  checkIds(c);
  checkStart(c);
  checkEdges(c);
  for (const node of c.flow.nodes) if (c.nodes.get(node.id) === node) checkDegree(c, node);
  checkReachability(c);
  checkForksAndJoins(c);
}

function checkIds(c: FlowCheck): void {
  const seen = new Set<string>();
  c.flow.nodes.forEach((n, j) => {
    if (seen.has(n.id)) c.errors.push({ field: `${c.at}/nodes/${j}/id`, code: 'duplicate', message: `Node "${n.id}": the id is used twice` });
    seen.add(n.id);
  });
  c.flow.edges.forEach((e, k) => {
    if (seen.has(e.id)) c.errors.push({ field: `${c.at}/edges/${k}/id`, code: 'duplicate', message: `Edge "${e.id}": the id is already used by another node or edge` });
    seen.add(e.id);
  });
  const names = new Set<string>();
  (c.flow.variables ?? []).forEach((v, i) => {
    if (names.has(v.name)) c.flowError(['variables', i, 'name'], 'duplicate', `variable "${v.name}" is declared twice`);
    names.add(v.name);
  });
}

function checkStart(c: FlowCheck): void {
  const starts = c.flow.nodes.filter((n) => n.type === 'startEvent');
  if (starts.length === 0) c.flowError(['nodes'], 'no_start', 'a flow needs exactly one start event, it has none');
  for (const extra of starts.slice(1)) c.node(extra.id, [], 'multiple_starts', `a flow has exactly one start event; "${starts[0]!.id}" is already one`);
}

function checkEdges(c: FlowCheck): void {
  for (const e of c.flow.edges) {
    for (const end of ['source', 'target'] as const) {
      if (!c.nodes.has(e[end])) c.edge(e, [end], 'unknown_node', `${end} "${e[end]}" is not a node of the flow`);
    }
    if (!c.nodes.has(e.source) || !c.nodes.has(e.target)) continue;
    const source = c.nodes.get(e.source)!;
    if (e.condition !== undefined && source.type !== 'exclusiveGateway') {
      c.edge(e, ['condition'], 'condition_not_allowed', 'only edges leaving an exclusive gateway carry a condition');
    }
    if (e.outcome !== undefined && !(source.type === 'userTask' && source.kind === 'approval')) {
      c.edge(e, ['outcome'], 'outcome_not_allowed', 'only edges leaving an approval task carry an outcome');
    }
  }
}

const IN: Record<FlowNode['type'], 'none' | 'some'> = {
  startEvent: 'none',
  boundaryTimer: 'none',
  endEvent: 'some',
  userTask: 'some',
  serviceTask: 'some',
  timerEvent: 'some',
  exclusiveGateway: 'some',
  parallelGateway: 'some',
};

function checkDegree(c: FlowCheck, node: FlowNode): void {
  const ins = c.incoming.get(node.id)!;
  const outs = c.outgoing.get(node.id)!;
  if (IN[node.type] === 'none' && ins.length > 0) c.node(node.id, [], 'unexpected_incoming', `a ${node.type} has no incoming edges, but edge "${ins[0]!.id}" enters it`);
  if (IN[node.type] === 'some' && ins.length === 0 && node.type !== 'endEvent') c.node(node.id, [], 'no_incoming', 'no edge leads into it');
  switch (node.type) {
    case 'endEvent':
      if (outs.length > 0) c.node(node.id, [], 'unexpected_outgoing', `an end event has no outgoing edges, but edge "${outs[0]!.id}" leaves it`);
      return;
    case 'exclusiveGateway':
      return checkExclusive(c, node, outs);
    case 'parallelGateway':
      if (outs.length === 0) c.node(node.id, [], 'no_outgoing', 'no edge leaves it');
      if (ins.length > 1 && outs.length > 1) c.node(node.id, [], 'mixed_gateway', 'a parallel gateway either forks (one in, several out) or joins (several in, one out); split it in two');
      return;
    case 'userTask':
      if (node.kind === 'approval') return checkApprovalOutcomes(c, node.id, outs);
      return exactlyOneOut(c, node.id, outs);
    case 'boundaryTimer':
      return checkBoundary(c, node, outs);
    default:
      return exactlyOneOut(c, node.id, outs);
  }
}

function exactlyOneOut(c: FlowCheck, id: string, outs: FlowEdge[]): void {
  if (outs.length === 0) c.node(id, [], 'no_outgoing', 'no edge leaves it');
  if (outs.length > 1) c.node(id, [], 'several_outgoing', `it has ${outs.length} outgoing edges; use a gateway to branch`);
}

function checkExclusive(c: FlowCheck, node: Extract<FlowNode, { type: 'exclusiveGateway' }>, outs: FlowEdge[]): void {
  if (outs.length === 0) return c.node(node.id, [], 'no_outgoing', 'no edge leaves it');
  if (node.default !== undefined && !outs.some((e) => e.id === node.default)) {
    return c.node(node.id, ['default'], 'default_not_outgoing', `the default "${node.default}" is not one of its outgoing edges (${outs.map((e) => e.id).join(', ')})`);
  }
  // without a default, a token whose conditions all fail would wait at the gateway forever
  if (node.default === undefined && (outs.length > 1 || outs[0]!.condition !== undefined)) {
    const why = outs.length > 1 ? 'a gateway that forks' : 'a gateway whose only edge has a condition';
    return c.node(node.id, ['default'], 'no_default', `${why} needs a default edge, taken when no condition holds`);
  }
  for (const e of outs) {
    if (e.id === node.default) {
      if (e.condition !== undefined) c.edge(e, ['condition'], 'default_with_condition', `it is the default of gateway "${node.id}" and so takes no condition`);
    } else if (e.condition === undefined && outs.length > 1) {
      c.edge(e, [], 'no_condition', `it leaves gateway "${node.id}" without a condition and is not its default`);
    }
  }
}

/**
 * An approval leaves by its `approved` edge when approved, else by its edge without outcome;
 * when rejected by its `rejected` edge, else the instance ends with result "rejected".
 */
function checkApprovalOutcomes(c: FlowCheck, id: string, outs: FlowEdge[]): void {
  const approved = outs.filter((e) => e.outcome === 'approved');
  const rejected = outs.filter((e) => e.outcome === 'rejected');
  const plain = outs.filter((e) => e.outcome === undefined);
  for (const [label, edges] of [['approved', approved], ['rejected', rejected], ['no', plain]] as const) {
    if (edges.length > 1) c.node(id, [], 'outcome_edges', `an approval task has at most one outgoing edge with ${label} outcome, it has ${edges.length} (${edges.map((e) => e.id).join(', ')})`);
  }
  if (approved.length === 0 && plain.length === 0) c.node(id, [], 'outcome_edges', 'an approval task needs an edge to leave by when approved: one with outcome "approved", or one without outcome');
  if (approved.length > 0) {
    for (const e of plain) c.edge(e, [], 'unused_edge', `it is never taken: approval task "${id}" leaves by its "approved" edge when approved, and by its "rejected" edge (or ends the instance) when rejected`);
  }
}

function checkBoundary(c: FlowCheck, node: Extract<FlowNode, { type: 'boundaryTimer' }>, outs: FlowEdge[]): void {
  const host = c.nodes.get(node.attachedTo);
  if (!host) c.node(node.id, ['attachedTo'], 'unknown_node', `it is attached to "${node.attachedTo}", which is not a node of the flow`);
  else if (host.type !== 'userTask') c.node(node.id, ['attachedTo'], 'not_a_user_task', `a boundary timer attaches to a user task, "${host.id}" is a ${host.type}`);
  exactlyOneOut(c, node.id, outs);
}

// ---- reachability ------------------------------------------------------------------------

/** successors of a node: its edges' targets, and the boundary timers on it (they fire while it waits) */
function successors(c: FlowCheck, id: string, boundaries: Map<string, string[]>): string[] {
  return [...c.outgoing.get(id)!.map((e) => e.target), ...(boundaries.get(id) ?? [])];
}

function boundariesByHost(c: FlowCheck): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const n of c.nodes.values()) if (n.type === 'boundaryTimer') byHost.set(n.attachedTo, [...(byHost.get(n.attachedTo) ?? []), n.id]);
  return byHost;
}

function walk(from: string[], next: (id: string) => string[]): Set<string> {
  const seen = new Set(from);
  const stack = [...from];
  while (stack.length > 0) for (const n of next(stack.pop()!)) if (!seen.has(n)) (seen.add(n), stack.push(n));
  return seen;
}

function checkReachability(c: FlowCheck): void {
  const start = c.flow.nodes.find((n) => n.type === 'startEvent');
  if (!start) return;
  const boundaries = boundariesByHost(c);
  const reached = walk([start.id], (id) => successors(c, id, boundaries));
  const ends = [...c.nodes.values()].filter((n) => n.type === 'endEvent').map((n) => n.id);
  const finishing = walk(ends, (id) => c.incoming.get(id)!.map((e) => e.source));
  for (const n of c.nodes.values()) {
    if (!reached.has(n.id)) c.node(n.id, [], 'unreachable', `it cannot be reached from the start event "${start.id}"`);
    else if (!finishing.has(n.id)) c.node(n.id, [], 'no_end', 'no path leads from it to an end event');
  }
}

// ---- parallel fork/join ------------------------------------------------------------------

const isParallel = (n: FlowNode | undefined): boolean => n?.type === 'parallelGateway';

/**
 * Every branch of a parallel fork must meet the others at one parallel join, whose incoming
 * edges are exactly the branches: a join waits for a token on every incoming edge, so a
 * branch that ends elsewhere leaves it waiting forever, and one that arrives twice (through
 * an exclusive split inside the branch) is never counted. A nested fork is stepped over to
 * its own join. A branch may end at a terminate end event, which ends the whole instance.
 * A fork may also have no join at all when its branches each run to their own end.
 */
function checkForksAndJoins(c: FlowCheck): void {
  const joinOf = new Map<string, string | null>();
  const claimed = new Map<string, string>();
  const boundaries = boundariesByHost(c);
  for (const n of c.nodes.values()) {
    if (!isParallel(n) || c.outgoing.get(n.id)!.length < 2) continue;
    const join = matchFork(c, n.id, joinOf, boundaries, new Set());
    if (join === null) continue;
    const other = claimed.get(join);
    if (other !== undefined) c.node(join, [], 'join_shared', `it joins the branches of both fork "${other}" and fork "${n.id}"; give each fork its own join`);
    else claimed.set(join, n.id);
  }
  for (const n of c.nodes.values()) {
    if (isParallel(n) && c.incoming.get(n.id)!.length > 1 && !claimed.has(n.id) && ![...joinOf.values()].includes(n.id)) {
      c.node(n.id, [], 'unmatched_join', 'this parallel join is reached by no parallel fork whose branches all meet here, so it would wait forever');
    }
  }
}

function matchFork(c: FlowCheck, fork: string, joinOf: Map<string, string | null>, boundaries: Map<string, string[]>, active: Set<string>): string | null {
  if (joinOf.has(fork)) return joinOf.get(fork)!;
  if (active.has(fork)) return null; // a loop back into the fork: reported by the outer walk, not here
  active.add(fork);
  const branches = c.outgoing.get(fork)!;
  const walks = branches.map((branch) => ({ branch, ...branchJoins(c, branch.target, fork, joinOf, boundaries, active) }));
  active.delete(fork);
  const meets = new Set(walks.flatMap((w) => [...w.joins]));
  let join: string | null = null;
  if (meets.size === 0) {
    checkIndependentBranches(c, fork, walks);
  } else {
    const unjoined = walks.filter((w) => w.unjoined !== null);
    for (const w of unjoined) {
      c.node(fork, [], 'unjoined_branch', `its branch through edge "${w.branch.id}" reaches "${w.unjoined}" without meeting the other branches at a parallel join`);
    }
    if (unjoined.length === 0 && meets.size > 1) {
      c.node(fork, [], 'branches_split', `its branches meet at different parallel joins (${[...meets].join(', ')}); they must meet at one`);
    } else if (unjoined.length === 0) {
      join = [...meets][0]!;
      const arriving = c.incoming.get(join)!.length;
      if (arriving !== branches.length) {
        c.node(join, [], 'join_count', `it waits for ${arriving} incoming edges, but fork "${fork}" starts ${branches.length} branches`);
      }
    }
  }
  joinOf.set(fork, join);
  return join;
}

/**
 * A fork without a join is fine when its branches end on their own (each token reaches an end
 * event); but branches that run into the same node without a parallel join would run the
 * rest of the flow once per branch.
 */
function checkIndependentBranches(c: FlowCheck, fork: string, walks: { branch: FlowEdge; seen: Set<string> }[]): void {
  const owner = new Map<string, string>();
  for (const w of walks) {
    for (const id of w.seen) {
      if (c.nodes.get(id)?.type === 'endEvent') continue;
      const other = owner.get(id);
      if (other !== undefined && other !== w.branch.id) {
        c.node(fork, [], 'merge_without_join', `its branches through edges "${other}" and "${w.branch.id}" both reach "${id}" without a parallel join, so what follows would run once per branch`);
        return;
      }
      owner.set(id, w.branch.id);
    }
  }
}

/** the parallel joins the paths from `from` first meet (nested forks stepped over), and a node where a path ends unjoined */
function branchJoins(
  c: FlowCheck,
  from: string,
  fork: string,
  joinOf: Map<string, string | null>,
  boundaries: Map<string, string[]>,
  active: Set<string>,
): { joins: Set<string>; unjoined: string | null; seen: Set<string> } {
  const joins = new Set<string>();
  let unjoined: string | null = null;
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id) || id === fork) continue;
    seen.add(id);
    const node = c.nodes.get(id)!;
    const outs = c.outgoing.get(id)!;
    if (isParallel(node) && c.incoming.get(id)!.length > 1) {
      joins.add(id);
      continue;
    }
    if (node.type === 'endEvent') {
      if (!node.terminate) unjoined ??= id;
      continue;
    }
    if (isParallel(node) && outs.length > 1) {
      const inner = matchFork(c, id, joinOf, boundaries, active);
      if (inner !== null) stack.push(...c.outgoing.get(inner)!.map((e) => e.target));
      // a nested fork without a join ends its branches on their own
      else unjoined ??= id;
      continue;
    }
    stack.push(...outs.map((e) => e.target));
    // an interrupting timer carries the branch's token on; a non-interrupting one adds a token of its own
    for (const b of boundaries.get(id) ?? []) {
      const timer = c.nodes.get(b);
      if (timer?.type === 'boundaryTimer' && timer.interrupting) stack.push(b);
    }
  }
  return { joins, unjoined, seen };
}
