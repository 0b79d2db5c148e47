import type { AppDocument, FieldError } from '@tessera/metadata';
import type { FlowDef, FlowEdge, FlowNode } from '../model/types';

/** One flow under check: where its parts are in the document, and where its errors go. */
export class FlowCheck {
  readonly errors: FieldError[] = [];
  readonly nodeIndex = new Map<string, number>();
  readonly edgeIndex = new Map<string, number>();
  readonly nodes = new Map<string, FlowNode>();
  readonly outgoing = new Map<string, FlowEdge[]>();
  readonly incoming = new Map<string, FlowEdge[]>();

  constructor(
    readonly doc: AppDocument,
    readonly flow: FlowDef,
    /** `flows/<i>` */
    readonly at: string,
  ) {
    flow.nodes.forEach((n, j) => {
      if (!this.nodeIndex.has(n.id)) this.nodeIndex.set(n.id, j);
      if (!this.nodes.has(n.id)) this.nodes.set(n.id, n);
      this.outgoing.set(n.id, []);
      this.incoming.set(n.id, []);
    });
    flow.edges.forEach((e, k) => {
      if (!this.edgeIndex.has(e.id)) this.edgeIndex.set(e.id, k);
      if (this.nodes.has(e.source) && this.nodes.has(e.target)) {
        this.outgoing.get(e.source)!.push(e);
        this.incoming.get(e.target)!.push(e);
      }
    });
  }

  nodePath(id: string, ...rest: (string | number)[]): string {
    return [this.at, 'nodes', this.nodeIndex.get(id) ?? '?', ...rest].join('/');
  }

  edgePath(id: string, ...rest: (string | number)[]): string {
    return [this.at, 'edges', this.edgeIndex.get(id) ?? '?', ...rest].join('/');
  }

  /** an error about a node: its path in the document, and its id in the message */
  node(id: string, rest: (string | number)[], code: string, message: string): void {
    this.errors.push({ field: this.nodePath(id, ...rest), code, message: `Node "${id}": ${message}` });
  }

  /** an error about an edge, naming the edge and the node it leaves */
  edge(e: FlowEdge, rest: (string | number)[], code: string, message: string): void {
    this.errors.push({ field: this.edgePath(e.id, ...rest), code, message: `Edge "${e.id}" (from node "${e.source}"): ${message}` });
  }

  flowError(rest: (string | number)[], code: string, message: string): void {
    this.errors.push({ field: [this.at, ...rest].join('/'), code, message: `Flow "${this.flow.key}": ${message}` });
  }
}
