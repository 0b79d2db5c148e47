import type { DiagramBounds, FlowDef, FlowNode } from '../model/types';

type Point = { x: number; y: number };

export interface DiagramLayout {
  bounds: Map<string, DiagramBounds>;
  waypoints: Map<string, Point[]>;
}

/** the sizes bpmn-js draws by default */
const SIZE: Record<FlowNode['type'], { width: number; height: number }> = {
  startEvent: { width: 36, height: 36 },
  endEvent: { width: 36, height: 36 },
  timerEvent: { width: 36, height: 36 },
  boundaryTimer: { width: 36, height: 36 },
  userTask: { width: 100, height: 80 },
  serviceTask: { width: 100, height: 80 },
  exclusiveGateway: { width: 50, height: 50 },
  parallelGateway: { width: 50, height: 50 },
};

const COLUMN = 170;
const ROW = 130;
const LEFT = 160;
const TOP = 100;

/**
 * Where to draw each node and edge: what the flow remembers from a drawn diagram, else a
 * simple left-to-right layout: a node's column is its longest distance from the start
 * (back edges of loops ignored), rows fill in discovery order, boundary timers sit on their
 * task's lower edge, and edges are drawn with right-angle bends.
 */
export function layoutFlow(flow: FlowDef): DiagramLayout {
  const bounds = new Map<string, DiagramBounds>();
  const placed = autoPlace(flow);
  for (const node of flow.nodes) {
    if (node.type === 'boundaryTimer') continue;
    bounds.set(node.id, node.layout ?? centred(placed.get(node.id) ?? { x: LEFT, y: TOP }, SIZE[node.type]));
  }
  const perHost = new Map<string, number>();
  for (const node of flow.nodes) {
    if (node.type !== 'boundaryTimer') continue;
    const host = bounds.get(node.attachedTo) ?? { x: LEFT, y: TOP, width: 100, height: 80 };
    const k = perHost.get(node.attachedTo) ?? 0;
    perHost.set(node.attachedTo, k + 1);
    bounds.set(node.id, node.layout ?? { x: host.x + host.width - 50 - 40 * k, y: host.y + host.height - 18, width: 36, height: 36 });
  }
  const bottom = Math.max(TOP, ...[...bounds.values()].map((b) => b.y + b.height));
  const waypoints = new Map<string, Point[]>();
  for (const edge of flow.edges) {
    const from = bounds.get(edge.source);
    const to = bounds.get(edge.target);
    if (edge.waypoints) waypoints.set(edge.id, edge.waypoints);
    else if (from && to) {
      const boundary = flow.nodes.find((n) => n.id === edge.source)?.type === 'boundaryTimer';
      waypoints.set(edge.id, route(from, to, boundary, bottom));
    }
  }
  return { bounds, waypoints };
}

function centred(c: Point, size: { width: number; height: number }): DiagramBounds {
  return { x: c.x - size.width / 2, y: c.y - size.height / 2, ...size };
}

/** centre points by column (longest path from the start) and row */
function autoPlace(flow: FlowDef): Map<string, Point> {
  const next = new Map<string, string[]>(flow.nodes.map((n) => [n.id, []]));
  for (const e of flow.edges) next.get(e.source)?.push(e.target);
  // a boundary timer's path continues from its task
  for (const n of flow.nodes) if (n.type === 'boundaryTimer') next.get(n.attachedTo)?.push(...(next.get(n.id) ?? []));
  const start = flow.nodes.find((n) => n.type === 'startEvent')?.id;
  const order: string[] = [];
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string) => {
    state.set(id, 'open');
    for (const t of next.get(id) ?? []) {
      if (state.get(t) === 'open') back.add(`${id}>${t}`);
      else if (!state.has(t)) visit(t);
    }
    state.set(id, 'done');
    order.push(id);
  };
  if (start) visit(start);
  for (const n of flow.nodes) if (!state.has(n.id) && n.type !== 'boundaryTimer') visit(n.id);
  const column = new Map<string, number>();
  for (const id of order.reverse()) {
    const c = column.get(id) ?? 0;
    column.set(id, c);
    for (const t of next.get(id) ?? []) if (!back.has(`${id}>${t}`)) column.set(t, Math.max(column.get(t) ?? 0, c + 1));
  }
  const rows = new Map<number, number>();
  const centres = new Map<string, Point>();
  for (const id of order) {
    const c = column.get(id) ?? 0;
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    centres.set(id, { x: LEFT + c * COLUMN, y: TOP + r * ROW });
  }
  return centres;
}

function route(from: DiagramBounds, to: DiagramBounds, fromBoundary: boolean, bottom: number): Point[] {
  const ty = to.y + to.height / 2;
  if (fromBoundary) {
    const sx = from.x + from.width / 2;
    const sy = from.y + from.height;
    return sx === to.x ? [{ x: sx, y: sy }, { x: sx, y: to.y }] : [{ x: sx, y: sy }, { x: sx, y: ty }, { x: to.x, y: ty }];
  }
  const sx = from.x + from.width;
  const sy = from.y + from.height / 2;
  if (to.x >= sx) {
    if (sy === ty) return [{ x: sx, y: sy }, { x: to.x, y: ty }];
    const mx = Math.round((sx + to.x) / 2);
    return [{ x: sx, y: sy }, { x: mx, y: sy }, { x: mx, y: ty }, { x: to.x, y: ty }];
  }
  // a loop back: around underneath everything
  const below = bottom + 40;
  return [
    { x: sx, y: sy },
    { x: sx + 20, y: sy },
    { x: sx + 20, y: below },
    { x: to.x - 20, y: below },
    { x: to.x - 20, y: ty },
    { x: to.x, y: ty },
  ];
}
