import { sql, type Compilable, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { ExprType } from '@tessera/expr';
import type { ObjectDef, PublishedApp } from '@tessera/metadata';
import type { Actor, FlowInstancesTable, RecordRepository, SystemDatabase } from '@tessera/store';
import type { FlowDef, FlowEdge, FlowNode } from '../model/types';
import { compileFlowExpression, flowObject, type FlowEvalInput } from '../expressions/flow-expressions';
import type { JobSpec } from '../queue/job-queue';
import { FlowIncident } from './errors';
import { retryMaxAttempts } from '../time/index';

/** an instance row as the engine reads it */
export type InstanceRow = Omit<Selectable<FlowInstancesTable>, 'start_key' | 'updated_at'>;

export interface TokenRow {
  id: string;
  instance_id: string;
  node_id: string;
  status: 'ready' | 'waiting' | 'joining' | 'done' | 'cancelled';
  arrived_by: string | null;
  visit: number;
  state: unknown;
}

export interface EventSpec {
  tokenId: string | null;
  nodeId: string | null;
  action: string;
  actorId?: string | null;
  comment?: string | null;
  data?: Record<string, unknown> | null;
}

/** What a step needs from the engine. */
export interface StepServices {
  timezone: string;
  /** a record repository bound to the step's transaction, running the app's write hooks */
  records(trx: Transaction<SystemDatabase>, app: PublishedApp): RecordRepository;
}

/**
 * The steps of one instance in one transaction (the job's own step, then those run ahead):
 * everything they change is written in it, and the engine commits it together with the
 * deletion of the job that ran it. Tokens move in memory and are written by one upsert
 * (`flushTokens`, before any statement that reads them, and by `save`); instance fields and
 * the timeline are written by `save`; the caller enqueues the next jobs.
 */
export class Step {
  readonly events: EventSpec[] = [];
  readonly jobs: JobSpec[] = [];
  /**
   * The instance's tokens as this transaction left them, for those it read or wrote: the
   * instance row lock guards them, so a next step run in the same transaction takes its
   * token from here instead of reading it again.
   */
  readonly tokens = new Map<string, TokenRow>();
  /** tokens changed in memory and not yet written: `flushTokens` writes them in one statement */
  private readonly unwritten = new Set<string>();
  /**
   * True when `tokens` holds every live token of the instance (it was created by this
   * transaction, or they were read with the instance lock): joins and the end count them
   * here instead of asking the database.
   */
  allTokensKnown = false;
  private recordCache: Record<string, unknown> | null | undefined;
  private repo: RecordRepository | null = null;
  private dirty = false;

  constructor(
    readonly trx: Transaction<SystemDatabase>,
    readonly services: StepServices,
    readonly instance: InstanceRow,
    readonly app: PublishedApp,
    readonly flow: FlowDef,
    readonly now: Date,
  ) {}

  get workspaceId(): string {
    return this.instance.workspace_id;
  }

  /** the writer flow steps act as: the user who started the instance, through the 'flow' door */
  get actor(): Actor {
    return { workspaceId: this.workspaceId, userId: this.instance.started_by, source: 'flow' };
  }

  get object(): ObjectDef | null {
    return flowObject(this.app.document, this.flow) ?? null;
  }

  node(id: string): FlowNode {
    const node = this.flow.nodes.find((n) => n.id === id);
    if (!node) throw new FlowIncident(`node "${id}" is not in flow "${this.flow.key}" (version ${this.app.version})`, id);
    return node;
  }

  outgoing(nodeId: string): FlowEdge[] {
    return this.flow.edges.filter((e) => e.source === nodeId);
  }

  incoming(nodeId: string): FlowEdge[] {
    return this.flow.edges.filter((e) => e.target === nodeId);
  }

  records(): RecordRepository {
    return (this.repo ??= this.services.records(this.trx, this.app));
  }

  /** the flow's record as expressions read it (by field key, system fields), or null */
  async record(): Promise<Record<string, unknown> | null> {
    if (this.recordCache !== undefined) return this.recordCache;
    const object = this.object;
    if (!object || !this.instance.record_id) return (this.recordCache = null);
    try {
      this.recordCache = { ...(await this.records().get(this.workspaceId, object.key, this.instance.record_id)) };
    } catch {
      this.recordCache = null; // deleted since: expressions see no record
    }
    return this.recordCache;
  }

  /** after a write to the flow's record, expressions must read it again */
  forgetRecord(): void {
    this.recordCache = undefined;
  }

  async input(): Promise<FlowEvalInput> {
    return {
      record: await this.record(),
      vars: this.instance.variables,
      env: this.env(),
    };
  }

  async evaluate(expr: unknown, expected?: ExprType): Promise<unknown> {
    const compiled = compileFlowExpression(this.app.document, this.flow, expr, expected);
    // an expression of variables and constants alone does not need the record read
    if (!readsRecord(expr)) return compiled.run({ record: null, vars: this.instance.variables, env: this.env() });
    return compiled.run(await this.input());
  }

  private env(): FlowEvalInput['env'] {
    return { now: this.now, timezone: this.services.timezone, ...(this.instance.started_by ? { userId: this.instance.started_by } : {}) };
  }

  /** the flow's record as read just before this transaction (the start's own check): expressions need not read it again */
  primeRecord(record: Record<string, unknown>): void {
    this.recordCache = { ...record };
  }

  /** set when this transaction opened user tasks: ending the instance must then close them in the database */
  openedTasks = false;

  setVariable(name: string, value: unknown): void {
    this.instance.variables = { ...this.instance.variables, [name]: value === undefined ? null : value };
    this.dirty = true;
  }

  event(spec: EventSpec): void {
    this.events.push(spec);
  }

  /** counts a token entering `nodeId` and returns the visit number */
  private visit(nodeId: string): number {
    const n = (this.instance.visits[nodeId] ?? 0) + 1;
    this.instance.visits = { ...this.instance.visits, [nodeId]: n };
    this.dirty = true;
    return n;
  }

  /** moves a token along an edge: it is ready at the edge's target, with a step job */
  async move(token: TokenRow, edge: FlowEdge): Promise<void> {
    const visit = this.visit(edge.target);
    Object.assign(token, { node_id: edge.target, status: 'ready', arrived_by: edge.id, visit, state: null });
    this.touch(token);
    this.stepJob(token.id, edge.target);
  }

  /** a new token ready at the edge's target (a fork's other branches, a non-interrupting boundary) */
  async spawn(edge: FlowEdge): Promise<TokenRow> {
    const token: TokenRow = { id: uuidv7(), instance_id: this.instance.id, node_id: edge.target, status: 'ready', arrived_by: edge.id, visit: this.visit(edge.target), state: null };
    this.touch(token);
    this.stepJob(token.id, edge.target);
    return token;
  }

  /** leaves `token` by every edge in `edges`: the token takes the first, new tokens the rest */
  async leave(token: TokenRow, edges: FlowEdge[]): Promise<void> {
    if (edges.length === 0) throw new FlowIncident(`node "${token.node_id}" has no outgoing edge to leave by`, token.node_id);
    const [first, ...rest] = edges;
    for (const edge of rest) await this.spawn(edge);
    await this.move(token, first!);
  }

  async setToken(token: TokenRow, changes: Partial<Pick<TokenRow, 'status' | 'state' | 'arrived_by'>>): Promise<void> {
    Object.assign(token, changes);
    this.touch(token);
  }

  /** a token created or changed in memory; written by the next `flushTokens` */
  touch(token: TokenRow): void {
    this.tokens.set(token.id, token);
    this.unwritten.add(token.id);
  }

  /**
   * Writes every token changed since the last flush in one upsert. Run before any statement
   * that reads flow_tokens, and by `save`: token moves are many, their writes one.
   */
  async flushTokens(): Promise<void> {
    const upsert = this.tokenUpsert();
    if (!upsert) return;
    await this.writeInstance();
    await upsert.execute();
  }

  /** the upsert of the tokens changed since the last flush (they count as written from here), or null */
  private tokenUpsert() {
    if (this.unwritten.size === 0) return null;
    const rows = [...this.unwritten].map((id) => {
      const t = this.tokens.get(id)!;
      return {
        workspace_id: this.workspaceId,
        id: t.id,
        instance_id: t.instance_id,
        node_id: t.node_id,
        status: t.status,
        arrived_by: t.arrived_by,
        visit: t.visit,
        state: t.state == null ? null : JSON.stringify(t.state),
        created_at: this.now,
        updated_at: this.now,
      };
    });
    this.unwritten.clear();
    return this.trx
      .insertInto('flow_tokens')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'id']).doUpdateSet((eb) => ({
          node_id: eb.ref('excluded.node_id'),
          status: eb.ref('excluded.status'),
          arrived_by: eb.ref('excluded.arrived_by'),
          visit: eb.ref('excluded.visit'),
          state: eb.ref('excluded.state'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      );
  }

  /**
   * A new instance's row is inserted by `save` with its state at the end of the transaction;
   * a write that references it (a token, a task) before then inserts it first.
   */
  insertOnSave(startKey: string | null): void {
    this.pendingInsert = { startKey };
    this.createdHere = true;
  }

  /** the instance was created by this transaction: nothing of it is in the database but what this step wrote */
  private createdHere = false;

  private pendingInsert: { startKey: string | null } | null = null;

  async writeInstance(): Promise<void> {
    const insert = this.instanceInsert();
    if (insert) await insert.execute();
  }

  private instanceInsert() {
    if (!this.pendingInsert) return null;
    const { startKey } = this.pendingInsert;
    this.pendingInsert = null;
    this.dirty = false;
    return this.trx.insertInto('flow_instances').values({
      ...this.instance,
      variables: JSON.stringify(this.instance.variables),
      visits: JSON.stringify(this.instance.visits),
      start_key: startKey,
      updated_at: this.now,
    });
  }

  /**
   * The tokens joining at `nodeId`, one per incoming edge (the given token first, then the
   * earliest): from memory when every token is known, else from the database.
   */
  async joiningAt(nodeId: string, token: TokenRow): Promise<Map<string | null, string>> {
    if (this.allTokensKnown) {
      const byEdge = new Map<string | null, string>();
      const waiting = [...this.tokens.values()].filter((t) => t.node_id === nodeId && t.status === 'joining').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const t of [token, ...waiting]) if (t.status === 'joining' && t.node_id === nodeId && !byEdge.has(t.arrived_by)) byEdge.set(t.arrived_by, t.id);
      return byEdge;
    }
    await this.flushTokens();
    const waiting = await sql<{ id: string; arrived_by: string | null }>`
      SELECT DISTINCT ON (arrived_by) id, arrived_by FROM flow_tokens
      WHERE workspace_id = ${this.workspaceId} AND instance_id = ${this.instance.id} AND node_id = ${nodeId} AND status = 'joining'
      ORDER BY arrived_by, (id = ${token.id}) DESC, created_at, id`.execute(this.trx);
    return new Map(waiting.rows.map((r) => [r.arrived_by, r.id]));
  }

  /** sets tokens by id to `status` (a join's other arrivals): in memory when known, else by a statement */
  async setTokensStatus(ids: string[], status: TokenRow['status']): Promise<void> {
    const unknown: string[] = [];
    for (const id of ids) {
      const token = this.tokens.get(id);
      if (token) {
        token.status = status;
        this.unwritten.add(id);
      } else unknown.push(id);
    }
    if (unknown.length === 0) return;
    await this.trx.updateTable('flow_tokens').set({ status, updated_at: this.now }).where('workspace_id', '=', this.workspaceId).where('id', 'in', unknown).execute();
  }

  /** the job that runs the node a token is ready at; a service task's retry policy goes with it */
  stepJob(tokenId: string, nodeId: string): void {
    const node = this.flow.nodes.find((n) => n.id === nodeId);
    const retry = node?.type === 'serviceTask' ? node.retry : undefined;
    this.jobs.push({
      workspaceId: this.workspaceId,
      kind: 'step',
      payload: retry ? { retry } : {},
      runAt: this.now,
      instanceId: this.instance.id,
      tokenId,
      maxAttempts: retryMaxAttempts(retry),
    });
  }

  /** true when no token of the instance is still live */
  async noLiveTokens(): Promise<boolean> {
    if (this.allTokensKnown) return ![...this.tokens.values()].some((t) => t.status === 'ready' || t.status === 'waiting' || t.status === 'joining');
    await this.flushTokens();
    const row = await this.trx
      .selectFrom('flow_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', this.workspaceId)
      .where('instance_id', '=', this.instance.id)
      .where('status', 'in', ['ready', 'waiting', 'joining'])
      .executeTakeFirstOrThrow();
    return Number(row.n) === 0;
  }

  /**
   * Ends the instance: its live tokens and open tasks are cancelled and its pending
   * step/timer/boundary jobs deleted (effects already in the outbox are still delivered).
   */
  async end(status: 'completed' | 'cancelled' | 'failed', result: string | null, actorId: string | null = null, comment: string | null = null): Promise<void> {
    const ws = this.workspaceId;
    // live tokens and open tasks cancelled, pending jobs dropped: one statement, one round trip;
    // none of it needed for an instance made by this transaction that opened no task (its
    // tokens are all in memory and its jobs not yet written)
    if (!this.createdHere || this.openedTasks) await sql`
      WITH tokens AS (
        UPDATE flow_tokens SET status = 'cancelled', updated_at = ${this.now}
        WHERE workspace_id = ${ws} AND instance_id = ${this.instance.id} AND status IN ('ready', 'waiting', 'joining')
        RETURNING 1),
      tasks AS (
        UPDATE flow_tasks SET status = 'cancelled', completed_at = ${this.now}
        WHERE workspace_id = ${ws} AND instance_id = ${this.instance.id} AND status = 'open'
        RETURNING 1)
      DELETE FROM jobs WHERE workspace_id = ${ws} AND instance_id = ${this.instance.id} AND kind IN ('step', 'timer', 'boundary')`.execute(this.trx);
    // tokens only in memory are cancelled there, and written so by the next flush
    for (const token of this.tokens.values()) {
      if (token.status === 'ready' || token.status === 'waiting' || token.status === 'joining') {
        token.status = 'cancelled';
        this.unwritten.add(token.id);
      }
    }
    // effects already written to the outbox keep their delivery jobs, here as in the table
    const deliveries = this.jobs.filter((j) => j.kind !== 'step' && j.kind !== 'timer' && j.kind !== 'boundary');
    this.jobs.splice(0, this.jobs.length, ...deliveries);
    this.instance.status = status;
    this.instance.result = result;
    this.instance.ended_at = this.now;
    this.dirty = true;
    this.event({ tokenId: null, nodeId: null, action: status, actorId, comment, data: result === null ? null : { result } });
  }

  /** writes the instance's changed fields and the timeline; the caller enqueues `jobs` */
  async save(): Promise<void> {
    // the instance row, the tokens and the timeline in one statement (data-modifying CTEs;
    // foreign keys are checked at its end, so the new instance's tokens may come with it)
    const writes: Compilable[] = [];
    const instance = this.instanceInsert() ?? (this.dirty ? this.instanceUpdate() : null);
    if (instance) writes.push(instance);
    const tokens = this.tokenUpsert();
    if (tokens) writes.push(tokens);
    if (this.events.length > 0) writes.push(eventsInsert(this.trx, this.workspaceId, this.instance.id, this.events, this.now));
    this.dirty = false;
    if (writes.length === 0) return;
    if (writes.length === 1) {
      await this.trx.executeQuery(writes[0]!.compile());
      return;
    }
    const [last, ...first] = [writes[writes.length - 1]!, ...writes.slice(0, -1)];
    const ctes = sql.join(first.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w as unknown as RawBuilder<unknown>})`));
    await sql`WITH ${ctes} ${last as unknown as RawBuilder<unknown>}`.execute(this.trx);
  }

  private instanceUpdate() {
    return this.trx
      .updateTable('flow_instances')
      .set({
        variables: JSON.stringify(this.instance.variables),
        visits: JSON.stringify(this.instance.visits),
        status: this.instance.status,
        result: this.instance.result,
        ended_at: this.instance.ended_at,
        updated_at: this.now,
      })
      .where('workspace_id', '=', this.workspaceId)
      .where('id', '=', this.instance.id);
  }
}

export async function insertEvents(trx: Transaction<SystemDatabase>, workspaceId: string, instanceId: string, events: EventSpec[], at: Date): Promise<void> {
  if (events.length === 0) return;
  await eventsInsert(trx, workspaceId, instanceId, events, at).execute();
}

function eventsInsert(trx: Transaction<SystemDatabase>, workspaceId: string, instanceId: string, events: EventSpec[], at: Date) {
  return trx.insertInto('flow_events').values(
    events.map((e) => ({
      workspace_id: workspaceId,
      id: uuidv7(),
      instance_id: instanceId,
      token_id: e.tokenId,
      node_id: e.nodeId,
      action: e.action,
      actor_id: e.actorId ?? null,
      comment: e.comment ?? null,
      data: e.data == null ? null : JSON.stringify(e.data),
      at,
    })),
  );
}

/** Locks the instance row: every step of an instance holds it, so an instance's steps never interleave. */
export async function lockInstance(trx: Transaction<SystemDatabase>, workspaceId: string, instanceId: string): Promise<InstanceRow | null> {
  const result = await sql<InstanceRow>`
    SELECT workspace_id, id, app_id, app_key, app_version, flow_key, object_id, record_id, status, result, variables, visits, started_by, started_at, ended_at
    FROM flow_instances WHERE workspace_id = ${workspaceId} AND id = ${instanceId} FOR UPDATE`.execute(trx);
  return result.rows[0] ?? null;
}

/**
 * `lockInstance`, the token a job is about and every live token of the instance, in one
 * round trip (token rows are not locked: the instance lock guards them). With all live
 * tokens in hand, the step's joins and end count them in memory.
 */
export async function lockInstanceWithTokens(
  trx: Transaction<SystemDatabase>,
  workspaceId: string,
  instanceId: string,
  tokenId: string,
): Promise<{ instance: InstanceRow | null; token: TokenRow | null; live: TokenRow[] }> {
  const result = await sql<InstanceRow & { t_id: string | null; t_node_id: string; t_status: TokenRow['status']; t_arrived_by: string | null; t_visit: number; t_state: unknown }>`
    SELECT i.workspace_id, i.id, i.app_id, i.app_key, i.app_version, i.flow_key, i.object_id, i.record_id, i.status, i.result, i.variables, i.visits,
           i.started_by, i.started_at, i.ended_at,
           t.id AS t_id, t.node_id AS t_node_id, t.status AS t_status, t.arrived_by AS t_arrived_by, t.visit AS t_visit, t.state AS t_state
    FROM flow_instances i
    LEFT JOIN flow_tokens t ON t.workspace_id = i.workspace_id AND t.instance_id = i.id AND (t.id = ${tokenId} OR t.status IN ('ready', 'waiting', 'joining'))
    WHERE i.workspace_id = ${workspaceId} AND i.id = ${instanceId}
    FOR UPDATE OF i`.execute(trx);
  const first = result.rows[0];
  if (!first) return { instance: null, token: null, live: [] };
  const { t_id: _id, t_node_id: _n, t_status: _s, t_arrived_by: _a, t_visit: _v, t_state: _st, ...instance } = first;
  const tokens = result.rows
    .filter((r) => r.t_id !== null)
    .map((r): TokenRow => ({ id: r.t_id!, instance_id: instance.id, node_id: r.t_node_id, status: r.t_status, arrived_by: r.t_arrived_by, visit: r.t_visit, state: r.t_state }));
  return {
    instance,
    token: tokens.find((t) => t.id === tokenId) ?? null,
    live: tokens.filter((t) => t.status === 'ready' || t.status === 'waiting' || t.status === 'joining'),
  };
}

export async function loadToken(trx: Transaction<SystemDatabase>, workspaceId: string, tokenId: string): Promise<TokenRow | null> {
  const row = await trx
    .selectFrom('flow_tokens')
    .select(['id', 'instance_id', 'node_id', 'status', 'arrived_by', 'visit', 'state'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', tokenId)
    .executeTakeFirst();
  return (row as TokenRow | undefined) ?? null;
}

const recordReaders = new WeakMap<object, boolean>();

/** whether an expression reads the flow's record: a `var` that is not one of `$vars.` (only `var` reads the record) */
function readsRecord(expr: unknown): boolean {
  if (expr === null || typeof expr !== 'object') return false;
  let reads = recordReaders.get(expr);
  if (reads === undefined) {
    reads = Array.isArray(expr) ? expr.some(readsRecord) : Object.entries(expr).some(([key, value]) => (key === 'var' ? !isVariablePath(value) : readsRecord(value)));
    recordReaders.set(expr, reads);
  }
  return reads;
}

function isVariablePath(value: unknown): boolean {
  const name = Array.isArray(value) ? value[0] : value;
  return typeof name === 'string' && name.startsWith('$vars.') && (!Array.isArray(value) || !readsRecord(value.slice(1)));
}
