import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { ProblemError, findObject, isProblemError, type PublishedApp } from '@tessera/metadata';
import { ruleEngineFor } from '@tessera/rules';
import { RecordRepository, composeWriteHooks, type Actor, type FlowStarter, type MetadataRepository, type RecordWriteHooks, type SystemDatabase } from '@tessera/store';
import type { ApprovalAction, FlowDef, RetryPolicy, StartEventNode } from '../model/types';
import { DEFAULT_FLOW_TIMEZONE, retryDelayMs } from '../time/index';
import { JobQueue, LostLease, type ClaimedJob, type JobSpec } from '../queue/job-queue';
import { recordTriggerHooks, type TriggerSink } from '../triggers/record-triggers';
import { automationFlowStarter } from '../triggers/automation-starts';
import { nextScheduledFire, scheduledFlows } from '../triggers/schedules';
import { defaultTransports, deliverEffect, type EffectRequest, type EffectTransports } from './collaborators';
import { DeliveryFailed, FlowIncident, RunAheadFailed, WorkerCrash } from './errors';
import { executeNode, fireTimer } from './interpreter';
import { Step, insertEvents, loadToken, lockInstance, lockInstanceWithTokens, type InstanceRow, type StepServices, type TokenRow } from './step';
import { transactionBoundDb } from './transaction-bound-db';
import { actOnTask, fireBoundary, type TaskAct, type TaskRow } from './user-tasks';
import { allowedActions } from './collaborators';
import { iso, json, type FlowTaskView, type IncidentView, type InstanceView, type TimelineEntry } from './views';

export interface WorkflowEngineOptions {
  metadata: MetadataRepository;
  /** how HTTP and email effects leave; default defaultTransports() */
  transports?: EffectTransports;
  /** what "now" is for timers, due jobs and leases; tests control time through it */
  clock?: () => Date;
  /** names this worker in job leases; default a random id */
  workerId?: string;
  /** how long a claimed job is this worker's before another may take it over (default 30 s) */
  leaseMs?: number;
  /** IANA zone of durations, dates and "today" in expressions (default Asia/Shanghai) */
  timezone?: string;
  /**
   * How many steps of one instance may share a transaction (default 50: an instance's
   * automatic steps run to its next wait state, a user task, a timer or an effect awaiting
   * delivery, in one commit). A step's next steps that are due now run in the same
   * transaction, each behind a savepoint: a step that fails is undone alone and left queued
   * as its own job, so it fails (and opens its incident) at its own node. 1 commits every
   * step on its own. Fewer round trips and commits; same guarantees.
   */
  stepsPerTransaction?: number;
  /**
   * Test hook: called at named points of a job's life ('before-commit', 'after-commit',
   * 'after-send'); throwing WorkerCrash from it stops the worker dead, as a killed process.
   */
  faults?: (point: 'before-commit' | 'after-commit' | 'after-send') => void;
}

export interface WorkerOptions {
  /** jobs run at once (default 4) */
  concurrency?: number;
  /** how long an idle worker waits before looking for due jobs again (default 200 ms) */
  pollMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_LEASE_MS = 30_000;
/** enough to take an instance's automatic steps to its next wait state; a loop of automatic steps commits every this many */
const DEFAULT_STEPS_PER_TRANSACTION = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The durable flow engine. Instances, tokens, tasks and jobs live in the database; a job's
 * step (and the steps it runs ahead, up to the instance's next wait state) is one
 * transaction that also deletes the job that ran it and enqueues what is left, so
 * any number of workers (runWorker) on one database run each step once, and a worker killed
 * at any instant loses nothing: its leased jobs are taken over when the lease runs out.
 */
export class WorkflowEngine {
  private readonly metadata: MetadataRepository;
  private readonly transports: EffectTransports;
  private readonly clock: () => Date;
  private readonly timezone: string;
  private readonly faults: WorkflowEngineOptions['faults'];
  readonly queue: JobQueue;
  private readonly triggerHooks = new WeakMap<PublishedApp, RecordWriteHooks | null>();
  private readonly services: StepServices;
  /** set by a simulated crash: this engine releases nothing from then on */
  private crashed = false;
  private readonly versions = new Map<string, PublishedApp>();
  private readonly stepsPerTransaction: number;

  constructor(
    private readonly db: Kysely<SystemDatabase>,
    options: WorkflowEngineOptions,
  ) {
    this.metadata = options.metadata;
    this.transports = options.transports ?? defaultTransports();
    this.clock = options.clock ?? (() => new Date());
    this.timezone = options.timezone ?? DEFAULT_FLOW_TIMEZONE;
    this.faults = options.faults;
    this.stepsPerTransaction = Math.max(1, Math.floor(options.stepsPerTransaction ?? DEFAULT_STEPS_PER_TRANSACTION));
    this.queue = new JobQueue(db, this.clock, options.workerId ?? `worker-${randomUUID()}`, options.leaseMs ?? DEFAULT_LEASE_MS);
    this.services = {
      timezone: this.timezone,
      records: (trx, app) => new RecordRepository(transactionBoundDb(trx), app, { hooks: this.recordHooks(app), startFlow: this.flowStarterFor(app) }),
    };
  }

  // ---- record triggers ---------------------------------------------------------------

  /** record write hooks that start record-triggered flows in the write's own transaction (compose with the rule engine's) */
  writeHooksFor(app: PublishedApp): RecordWriteHooks | null {
    if (this.triggerHooks.has(app)) return this.triggerHooks.get(app)!;
    const hooks = recordTriggerHooks(app, this.triggerSink());
    this.triggerHooks.set(app, hooks);
    return hooks;
  }

  /** what a RecordRepository passes to automations so their startFlow actions start flows in the write's transaction */
  flowStarterFor(app: PublishedApp): FlowStarter {
    return automationFlowStarter(app, this.triggerSink());
  }

  private triggerSink(): TriggerSink {
    return {
      timezone: this.timezone,
      now: this.clock,
      enqueue: async (ctx, job) => {
        await this.queue.enqueue(ctx.trx, [job]);
      },
    };
  }

  /** the hooks a flow's own record writes run: the app's rules, then its record triggers */
  private recordHooks(app: PublishedApp): RecordWriteHooks | undefined {
    return composeWriteHooks(ruleEngineFor(app), this.writeHooksFor(app));
  }

  // ---- instances ---------------------------------------------------------------------

  async startInstance(actor: Actor, appKey: string, flowKey: string, input: { recordId?: string; variables?: Record<string, unknown> } = {}): Promise<InstanceView> {
    const app = await this.metadata.getPublished(actor.workspaceId, appKey);
    const flow = findFlow(app, flowKey);
    if (flow.disabled) throw new ProblemError('conflict', `Flow "${flowKey}" is disabled`, [{ field: 'flow', code: 'disabled', message: 'a disabled flow starts no new instances' }]);
    const start = flow.nodes.find((n): n is StartEventNode => n.type === 'startEvent' && (n.trigger.type === 'api' || n.trigger.type === 'manual'));
    if (!start) {
      throw new ProblemError('unprocessable', `Flow "${flowKey}" cannot be started by hand or through the API`, [
        { field: 'flow', code: 'no_manual_start', message: 'the flow has no start event with an api or manual trigger' },
      ]);
    }
    const variables = checkVariables(flow, input.variables);
    const record = await this.checkRecord(app, flow, input.recordId, actor.workspaceId);
    // the start runs the instance's automatic steps up to its first wait state in its own
    // transaction; what is left (a failed step, a delivery, a timer) goes to the workers
    const { view } = await this.transact((trx, ahead) =>
      this.createInstance(trx, ahead, app, flow, start, { workspaceId: actor.workspaceId, recordId: record ? String(record.id) : null, record, variables, startedBy: actor.userId, startKey: null }, false),
    );
    return view;
  }

  /** the record a start names, as expressions read it; refused when the flow is about none or it does not exist */
  private async checkRecord(app: PublishedApp, flow: FlowDef, recordId: string | undefined, workspaceId: string): Promise<Record<string, unknown> | null> {
    if (recordId === undefined || recordId === null) {
      if (flow.object) throw new ProblemError('unprocessable', `Flow "${flow.key}" is about a ${flow.object} record`, [{ field: 'recordId', code: 'required', message: `the ${flow.object} record to start the flow on` }]);
      return null;
    }
    const object = flow.object ? findObject(app.document, flow.object) : undefined;
    if (!object?.id) throw new ProblemError('unprocessable', `Flow "${flow.key}" is about no record`, [{ field: 'recordId', code: 'unexpected', message: 'the flow has no object' }]);
    const found =
      typeof recordId === 'string' && UUID.test(recordId)
        ? await new RecordRepository(this.db, app).get(workspaceId, object.key, recordId).catch((e: unknown) => {
            if (isProblemError(e) && e.kind === 'not_found') return undefined;
            throw e;
          })
        : undefined;
    if (!found) throw new ProblemError('unprocessable', `No ${object.key} record ${String(recordId)}`, [{ field: 'recordId', code: 'not_found', message: `no ${object.key} record with id ${String(recordId)}` }]);
    return found as Record<string, unknown>;
  }

  /** Inserts an instance and runs its start event, in the caller's transaction. */
  private async createInstance(
    trx: Transaction<SystemDatabase>,
    ahead: number,
    app: PublishedApp,
    flow: FlowDef,
    start: StartEventNode,
    input: { workspaceId: string; recordId: string | null; record?: Record<string, unknown> | null; variables: Record<string, unknown>; startedBy: string | null; startKey: string | null },
    leased = true,
  ): Promise<{ id: string; followUps: ClaimedJob[]; view: InstanceView }> {
    const now = this.clock();
    const object = flow.object ? findObject(app.document, flow.object) : undefined;
    const instance: InstanceRow = {
      workspace_id: input.workspaceId,
      id: uuidv7(),
      app_id: app.appId,
      app_key: app.appKey,
      app_version: app.version,
      flow_key: flow.key,
      object_id: object?.id ?? null,
      record_id: input.recordId,
      status: 'running',
      result: null,
      variables: input.variables,
      visits: { [start.id]: 1 },
      started_by: input.startedBy,
      started_at: now,
      ended_at: null,
    };
    const token: TokenRow = { id: uuidv7(), instance_id: instance.id, node_id: start.id, status: 'ready', arrived_by: null, visit: 1, state: null };
    const step = new Step(trx, this.services, instance, app, flow, now);
    // a new instance's tokens are all made here: its joins and its end count them in memory
    step.allTokensKnown = true;
    step.insertOnSave(input.startKey);
    step.touch(token);
    if (input.record) step.primeRecord(input.record);
    await executeNode(step, token);
    const followUps = await this.commitStep(step, ahead, leased);
    const live = [...step.tokens.values()].filter((t): t is TokenRow & { status: 'ready' | 'waiting' | 'joining' } => t.status === 'ready' || t.status === 'waiting' || t.status === 'joining');
    return { id: instance.id, followUps, view: instanceView(instance, live.sort((a, b) => (a.id < b.id ? -1 : 1))) };
  }

  async cancelInstance(actor: Actor, instanceId: string, reason?: string): Promise<InstanceView> {
    const row = await this.instanceRow(actor.workspaceId, instanceId);
    const app = await this.appOf(row);
    await this.db.transaction().execute(async (trx) => {
      const instance = await lockInstance(trx, actor.workspaceId, instanceId);
      if (!instance) throw instanceNotFound(instanceId);
      if (instance.status !== 'running') {
        throw new ProblemError('conflict', `Instance ${instanceId} is already ${instance.status}`, [{ field: 'status', code: 'not_running', message: `the instance is ${instance.status}` }]);
      }
      const step = new Step(trx, this.services, instance, app, findFlow(app, instance.flow_key), this.clock());
      await step.end('cancelled', null, actor.userId, reason ?? null);
      await step.save();
    });
    return this.getInstance(actor.workspaceId, instanceId);
  }

  async getInstance(workspaceId: string, instanceId: string): Promise<InstanceView> {
    const row = await this.instanceRow(workspaceId, instanceId);
    const tokens = await this.db
      .selectFrom('flow_tokens')
      .select(['id', 'node_id', 'status'])
      .where('workspace_id', '=', workspaceId)
      .where('instance_id', '=', instanceId)
      .where('status', 'in', ['ready', 'waiting', 'joining'])
      .orderBy('id')
      .execute();
    return instanceView(row, tokens as Array<{ id: string; node_id: string; status: 'ready' | 'waiting' | 'joining' }>);
  }

  /** every step: node, who, when, action, comment; in the order they happened */
  async timeline(workspaceId: string, instanceId: string): Promise<TimelineEntry[]> {
    await this.instanceRow(workspaceId, instanceId);
    const rows = await this.db
      .selectFrom('flow_events')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('instance_id', '=', instanceId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      at: iso(r.at)!,
      nodeId: r.node_id,
      action: r.action,
      actorId: r.actor_id,
      comment: r.comment,
      data: json<Record<string, unknown> | null>(r.data, null),
    }));
  }

  async instancesOfRecord(workspaceId: string, recordId: string): Promise<InstanceView[]> {
    if (!UUID.test(recordId)) return [];
    const rows = await sql<InstanceRow>`
      SELECT * FROM flow_instances WHERE workspace_id = ${workspaceId} AND record_id = ${recordId} ORDER BY started_at DESC, id DESC LIMIT 200`.execute(this.db);
    const ids = rows.rows.map((r) => r.id);
    const tokens =
      ids.length === 0
        ? []
        : await this.db
            .selectFrom('flow_tokens')
            .select(['id', 'instance_id', 'node_id', 'status'])
            .where('workspace_id', '=', workspaceId)
            .where('instance_id', 'in', ids)
            .where('status', 'in', ['ready', 'waiting', 'joining'])
            .orderBy('id')
            .execute();
    return rows.rows.map((r) =>
      instanceView(
        r,
        tokens.filter((t) => t.instance_id === r.id) as Array<{ id: string; node_id: string; status: 'ready' | 'waiting' | 'joining' }>,
      ),
    );
  }

  // ---- tasks -------------------------------------------------------------------------

  /** the user's tasks, newest first; roles are resolved to users when a task opens, so this covers both */
  async inbox(
    workspaceId: string,
    userId: string,
    query: { status?: 'open' | 'done'; limit?: number; cursor?: string } = {},
  ): Promise<{ items: FlowTaskView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw new ProblemError('bad_request', 'Invalid limit', [{ field: 'limit', code: 'range', message: 'limit must be an integer from 1 to 200' }]);
    }
    if (query.cursor !== undefined && !UUID.test(query.cursor)) {
      throw new ProblemError('bad_request', 'Invalid cursor', [{ field: 'cursor', code: 'invalid', message: 'the cursor is not one this list gave' }]);
    }
    if (!UUID.test(userId)) return { items: [], nextCursor: null };
    let q = this.db
      .selectFrom('flow_tasks as t')
      .innerJoin('flow_instances as i', (j) => j.onRef('i.workspace_id', '=', 't.workspace_id').onRef('i.id', '=', 't.instance_id'))
      .select(['t.id', 't.instance_id', 't.token_id', 't.node_id', 't.visit', 't.assignee_id', 't.status', 't.due_at', 't.decision', 't.comment', 't.created_at', 't.completed_at'])
      .select(['i.app_key', 'i.app_version', 'i.flow_key', 'i.object_id', 'i.record_id'])
      .where('t.workspace_id', '=', workspaceId)
      .where('t.assignee_id', '=', userId);
    q = query.status === 'done' ? q.where('t.status', '!=', 'open') : q.where('t.status', '=', 'open');
    if (query.cursor) q = q.where('t.id', '<', query.cursor);
    const rows = await q.orderBy('t.id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const items: FlowTaskView[] = [];
    for (const r of page) items.push(await this.taskView(workspaceId, r));
    return { items, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
  }

  private async taskView(
    workspaceId: string,
    r: {
      id: string; instance_id: string; node_id: string; assignee_id: string; status: 'open' | 'done' | 'cancelled';
      due_at: Date | string | null; decision: string | null; comment: string | null; created_at: Date | string; completed_at: Date | string | null;
      app_key: string; app_version: number; flow_key: string; object_id: string | null; record_id: string | null;
    },
  ): Promise<FlowTaskView> {
    const app = await this.appVersion(workspaceId, r.app_key, r.app_version);
    const flow = ((app.document.flows ?? []) as FlowDef[]).find((f) => f.key === r.flow_key);
    const node = flow?.nodes.find((n) => n.id === r.node_id);
    const task = node?.type === 'userTask' ? node : null;
    return {
      id: r.id,
      instanceId: r.instance_id,
      appKey: r.app_key,
      flowKey: r.flow_key,
      nodeId: r.node_id,
      nodeName: node?.name ?? null,
      kind: task?.kind ?? 'task',
      objectId: r.object_id,
      recordId: r.record_id,
      assigneeId: r.assignee_id,
      status: r.status,
      dueAt: iso(r.due_at),
      decision: r.decision,
      comment: r.comment,
      createdAt: iso(r.created_at)!,
      completedAt: iso(r.completed_at),
      actions: task ? allowedActions(task) : [],
      editableFields: task?.editableFields ?? [],
    };
  }

  async getTask(workspaceId: string, taskId: string): Promise<FlowTaskView> {
    if (!UUID.test(taskId)) throw taskNotFound(taskId);
    const r = await this.db
      .selectFrom('flow_tasks as t')
      .innerJoin('flow_instances as i', (j) => j.onRef('i.workspace_id', '=', 't.workspace_id').onRef('i.id', '=', 't.instance_id'))
      .select(['t.id', 't.instance_id', 't.node_id', 't.assignee_id', 't.status', 't.due_at', 't.decision', 't.comment', 't.created_at', 't.completed_at'])
      .select(['i.app_key', 'i.app_version', 'i.flow_key', 'i.object_id', 'i.record_id'])
      .where('t.workspace_id', '=', workspaceId)
      .where('t.id', '=', taskId)
      .executeTakeFirst();
    if (!r) throw taskNotFound(taskId);
    return this.taskView(workspaceId, r);
  }

  /**
   * The assignee acts on their task: approve, reject, return (to an earlier user task),
   * delegate or comment, optionally editing the task's editable fields of the record.
   * One transaction, with the instance and the task's token locked.
   */
  async completeTask(
    actor: Actor,
    taskId: string,
    act: { action: ApprovalAction; comment?: string; delegateTo?: string; returnTo?: string; values?: Record<string, unknown> },
  ): Promise<FlowTaskView> {
    if (!UUID.test(taskId)) throw taskNotFound(taskId);
    const task = await this.db
      .selectFrom('flow_tasks')
      .select(['id', 'instance_id', 'token_id', 'node_id', 'visit', 'assignee_id', 'status', 'due_at'])
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', taskId)
      .executeTakeFirst();
    if (!task) throw taskNotFound(taskId);
    if (task.assignee_id !== actor.userId) {
      throw new ProblemError('forbidden', `Task ${taskId} is not assigned to you`, [{ field: 'taskId', code: 'not_assignee', message: 'only the assignee may act on a task' }]);
    }
    const row = await this.instanceRow(actor.workspaceId, task.instance_id);
    const app = await this.appOf(row);
    await this.transact(async (trx, ahead) => {
      const instance = await lockInstance(trx, actor.workspaceId, task.instance_id);
      if (!instance || instance.status !== 'running') throw taskClosed(taskId);
      const current = await trx
        .selectFrom('flow_tasks')
        .select(['id', 'instance_id', 'token_id', 'node_id', 'visit', 'assignee_id', 'status', 'due_at'])
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', taskId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (current.status !== 'open') throw taskClosed(taskId);
      const step = new Step(trx, this.services, instance, app, findFlow(app, instance.flow_key), this.clock());
      await actOnTask(step, current as TaskRow, actor.userId!, act as TaskAct);
      await this.commitStep(step, ahead, false);
    });
    return this.getTask(actor.workspaceId, taskId);
  }

  // ---- incidents ---------------------------------------------------------------------

  async incidents(workspaceId: string, query: { status?: 'open' | 'resolved' } = {}): Promise<IncidentView[]> {
    let q = this.db.selectFrom('incidents').selectAll().where('workspace_id', '=', workspaceId);
    if (query.status) q = q.where('status', '=', query.status);
    const rows = await q.orderBy('id', 'desc').limit(500).execute();
    return rows.map(incidentView);
  }

  /** Gives the failed job a fresh set of attempts and resolves the incident, in one transaction. */
  async retryIncident(actor: Actor, incidentId: string): Promise<IncidentView> {
    if (!UUID.test(incidentId)) throw incidentNotFound(incidentId);
    const row = await this.db.transaction().execute(async (trx) => {
      const incident = await trx.selectFrom('incidents').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', incidentId).forUpdate().executeTakeFirst();
      if (!incident) throw incidentNotFound(incidentId);
      if (incident.status !== 'open') {
        throw new ProblemError('conflict', `Incident ${incidentId} is already resolved`, [{ field: 'status', code: 'resolved', message: 'only an open incident can be retried' }]);
      }
      if (incident.job_id) {
        await this.queue.revive(trx, actor.workspaceId, incident.job_id);
        if (incident.job_kind === 'deliver') {
          await trx
            .updateTable('outbox')
            .set({ status: 'pending', next_attempt_at: this.clock() })
            .where('workspace_id', '=', actor.workspaceId)
            .where('id', '=', sql<string>`(SELECT (payload->>'outboxId')::uuid FROM jobs WHERE workspace_id = ${actor.workspaceId} AND id = ${incident.job_id})`)
            .where('status', '=', 'failed')
            .execute();
        }
      }
      if (incident.instance_id) {
        await insertEvents(trx, actor.workspaceId, incident.instance_id, [{ tokenId: null, nodeId: incident.node_id, action: 'incident_retried', actorId: actor.userId, data: { incident: incidentId } }], this.clock());
      }
      return trx
        .updateTable('incidents')
        .set({ status: 'resolved', resolved_at: this.clock(), resolved_by: actor.userId })
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', incidentId)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return incidentView(row);
  }

  // ---- scheduled starts --------------------------------------------------------------

  /**
   * Makes sure every scheduled flow of the app's running version has its next fire
   * enqueued (one job per flow, by key). Call after a publish; idempotent.
   */
  async syncSchedules(workspaceId: string, appKey: string): Promise<number> {
    const app = await this.metadata.getPublished(workspaceId, appKey);
    const jobs: JobSpec[] = [];
    for (const { flow, node, cron, timezone } of scheduledFlows(app)) {
      const fireAt = nextScheduledFire(cron, timezone, this.clock());
      if (!fireAt) continue;
      jobs.push(scheduleJob(workspaceId, app, flow.key, node.id, fireAt));
    }
    const inserted = await this.db.transaction().execute(async (trx) => {
      let n = 0;
      for (const job of jobs) {
        const exists = await trx.selectFrom('jobs').select('id').where('workspace_id', '=', workspaceId).where('key', '=', job.key!).executeTakeFirst();
        if (!exists) {
          await this.queue.enqueue(trx, [job]);
          n++;
        }
      }
      return n;
    });
    return inserted;
  }

  // ---- workers -----------------------------------------------------------------------

  /**
   * Claims due jobs with FOR UPDATE SKIP LOCKED and runs them until the signal aborts. One
   * claim per round trip fills every free slot (an idle worker asks the database once per
   * `pollMs`, not once per slot); each claimed job runs with the next steps it leaves for
   * this worker.
   */
  async runWorker(options: WorkerOptions = {}): Promise<void> {
    const concurrency = options.concurrency ?? 4;
    const pollMs = options.pollMs ?? 200;
    // a simulated crash stops every slot at once, leases left held, as a killed process would
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const running = new Set<Promise<void>>();
    let failure: { error: unknown } | null = null;
    let lastWarning = 0;
    while (!signal.aborted) {
      const free = concurrency - running.size;
      if (free === 0) {
        await Promise.race(running);
        continue;
      }
      let claimed: ClaimedJob[] = [];
      try {
        claimed = await this.queue.claim(free);
      } catch (e) {
        if (signal.aborted) break;
        // the database is away: wait and try again rather than dying (and say so once a minute)
        if (Date.now() - lastWarning > 60_000) {
          lastWarning = Date.now();
          process.emitWarning(`workflow worker could not claim jobs: ${(e as Error).message}`);
        }
      }
      for (const job of claimed) {
        const run: Promise<void> = this.runChain([job], signal).then(
          () => undefined,
          (error: unknown) => {
            failure ??= { error };
            stop.abort();
          },
        );
        running.add(run);
        void run.finally(() => running.delete(run));
      }
      // fewer due jobs than free slots: nothing else is due now
      if (claimed.length < free) await sleep(pollMs, signal);
    }
    await Promise.all(running);
    if (failure) throw (failure as { error: unknown }).error;
  }

  /** runs every job due now (tests, benchmarks); returns how many ran */
  async drain(options: { maxJobs?: number } = {}): Promise<number> {
    const max = options.maxJobs ?? Number.POSITIVE_INFINITY;
    let ran = 0;
    while (ran < max) {
      const jobs = await this.queue.claim(Math.min(50, max - ran));
      if (jobs.length === 0) break;
      ran += await this.runChain(jobs, undefined, max - ran);
    }
    return ran;
  }

  /** runs jobs and the next steps they enqueued for this worker, one after the other */
  private async runChain(jobs: ClaimedJob[], signal?: AbortSignal, budget = Number.POSITIVE_INFINITY): Promise<number> {
    const pending = [...jobs];
    let ran = 0;
    while (pending.length > 0) {
      if (signal?.aborted || ran >= budget) {
        if (!this.crashed) for (const job of pending) await this.queue.release(job).catch(() => undefined);
        break;
      }
      const job = pending.shift()!;
      pending.push(...(await this.runJob(job)));
      ran++;
    }
    return ran;
  }


  /** Runs one claimed job; a failure is recorded (retry or incident), never thrown, except a simulated crash. */
  private async runJob(job: ClaimedJob): Promise<ClaimedJob[]> {
    try {
      const followUps = await this.dispatch(job);
      this.faults?.('after-commit');
      return followUps;
    } catch (e) {
      if (e instanceof WorkerCrash) {
        this.crashed = true;
        throw e;
      }
      if (e instanceof LostLease) return [];
      await this.recordFailure(job, e);
      return [];
    }
  }

  private dispatch(job: ClaimedJob): Promise<ClaimedJob[]> {
    switch (job.kind) {
      case 'step':
        return this.instanceJob(job, async (step, token) => {
          if (token?.status === 'ready') await executeNode(step, token);
        });
      case 'timer':
        return this.instanceJob(job, async (step, token) => {
          if (token) await fireTimer(step, token, job.payload.visit);
        });
      case 'boundary':
        return this.instanceJob(job, async (step, token) => {
          if (token) await fireBoundary(step, token, String(job.payload.boundaryId), job.payload.visit);
        });
      case 'deliver':
        return this.deliver(job);
      case 'start':
        return this.startFromJob(job);
      case 'schedule':
        return this.fireSchedule(job);
    }
  }

  /**
   * A job about one instance: its app version is loaded first (outside the transaction,
   * cached), then the instance row is locked, the job deleted and the work done, all in
   * one transaction. Jobs of an instance that has ended are just deleted.
   */
  private async instanceJob(job: ClaimedJob, work: (step: Step, token: TokenRow | null) => Promise<void>): Promise<ClaimedJob[]> {
    const app = await this.appOfJob(job);
    return this.transact(async (trx, ahead) => {
      // instance first, then the job: the lock order every writer of an instance keeps
      const { instance, token, live } = await lockInstanceWithTokens(trx, job.workspaceId, job.instanceId!, job.tokenId!);
      await this.queue.finishIn(trx, job);
      if (!instance || instance.status !== 'running') return [];
      const step = new Step(trx, this.services, instance, app, findFlow(app, instance.flow_key), this.clock());
      for (const t of live) step.tokens.set(t.id, t);
      if (token) step.tokens.set(token.id, token);
      step.allTokensKnown = true;
      await work(step, token);
      return this.commitStep(step, ahead);
    });
  }

  /**
   * Writes the step and enqueues its next jobs, the last thing before the commit. A worker
   * takes the ones due now leased to itself and runs them next; an API caller leaves them
   * to the workers.
   */
  private async commitStep(step: Step, ahead: number, leased = true): Promise<ClaimedJob[]> {
    await this.runAhead(step, ahead);
    await step.save();
    const stamp = { app: step.app.appKey, v: step.app.version };
    const followUps = await this.queue.enqueue(
      step.trx,
      step.jobs.map((j) => ({ ...j, payload: { ...j.payload, ...stamp } })),
      leased,
    );
    this.faults?.('before-commit');
    return followUps;
  }

  /**
   * Runs up to `budget` next steps of the instance that are due now inside this transaction.
   * A step that fails here fails the whole transaction with RunAheadFailed, and `transact`
   * runs it again stopping just before that step: the steps before it commit, and its job
   * is queued to fail (or succeed) on its own, at its own node. No savepoint per step.
   */
  private async runAhead(step: Step, budget: number): Promise<void> {
    for (let done = 0; done < budget && step.instance.status === 'running'; done++) {
      const i = step.jobs.findIndex((j) => j.kind === 'step' && j.runAt <= step.now);
      if (i < 0) return;
      const [next] = step.jobs.splice(i, 1);
      try {
        const token = step.tokens.get(next!.tokenId!) ?? (await loadToken(step.trx, step.workspaceId, next!.tokenId!));
        if (token?.status === 'ready') await executeNode(step, token);
      } catch (e) {
        if (e instanceof WorkerCrash) throw e;
        throw new RunAheadFailed(done, e);
      }
    }
  }

  /**
   * One transaction of steps: `work` gets how many steps it may run ahead. When a step run
   * ahead fails, everything is rolled back and `work` runs again with the steps before it.
   */
  private async transact<T>(work: (trx: Transaction<SystemDatabase>, ahead: number) => Promise<T>): Promise<T> {
    let ahead = this.stepsPerTransaction - 1;
    for (;;) {
      try {
        return await this.db.transaction().execute((trx) => work(trx, ahead));
      } catch (e) {
        if (!(e instanceof RunAheadFailed) || e.completed >= ahead) throw e instanceof RunAheadFailed ? e.cause : e;
        ahead = e.completed;
      }
    }
  }

  /** the app version a job's instance runs on: stamped on the job by the step that made it, else read from the instance */
  private async appOfJob(job: ClaimedJob): Promise<PublishedApp> {
    const { app, v } = job.payload as { app?: unknown; v?: unknown };
    if (typeof app === 'string' && typeof v === 'number') return this.appVersion(job.workspaceId, app, v);
    return this.appOf(await this.instanceRow(job.workspaceId, job.instanceId!));
  }

  /**
   * Delivers an outbox effect: sent outside any transaction (at least once, with its key),
   * then recorded once: the outbox row is locked and only a still-pending row is marked
   * delivered, in the transaction that deletes the job and, when the token waits for the
   * result, stores it and moves the token on.
   */
  private async deliver(job: ClaimedJob): Promise<ClaimedJob[]> {
    const outboxId = String(job.payload.outboxId);
    const entry = await this.db.selectFrom('outbox').selectAll().where('workspace_id', '=', job.workspaceId).where('id', '=', outboxId).executeTakeFirst();
    let result: unknown = null;
    if (entry && entry.status === 'pending') {
      const sent = await deliverEffect(json<EffectRequest>(entry.effect, null as never), entry.idempotency_key, this.transports);
      this.faults?.('after-send');
      if (!sent.ok) throw new DeliveryFailed(sent.error, sent.retryable);
      result = sent.result;
    }
    const row = entry?.instance_id ? await this.instanceRow(job.workspaceId, entry.instance_id) : null;
    const app = row ? await this.appOf(row) : null;
    return this.transact(async (trx, ahead) => {
      const instance = entry?.instance_id ? await lockInstance(trx, job.workspaceId, entry.instance_id) : null;
      await this.queue.finishIn(trx, job);
      const locked = await trx.selectFrom('outbox').select(['status']).where('workspace_id', '=', job.workspaceId).where('id', '=', outboxId).forUpdate().executeTakeFirst();
      if (!entry || !locked || locked.status !== 'pending') return [];
      const now = this.clock();
      await trx
        .updateTable('outbox')
        .set({ status: 'delivered', delivered_at: now, result: JSON.stringify(result ?? null), attempts: sql<number>`attempts + 1`, last_error: null })
        .where('workspace_id', '=', job.workspaceId)
        .where('id', '=', outboxId)
        .execute();
      if (!instance || !app) return [];
      const step = new Step(trx, this.services, instance, app, findFlow(app, instance.flow_key), now);
      step.event({ tokenId: entry.token_id, nodeId: entry.node_id, action: 'delivered', data: { idempotencyKey: entry.idempotency_key } });
      if (entry.result_variable && instance.status === 'running' && entry.token_id) {
        const token = await loadToken(trx, job.workspaceId, entry.token_id);
        if (token && token.status === 'waiting' && token.node_id === entry.node_id) {
          step.setVariable(entry.result_variable, result);
          await step.leave(token, step.outgoing(token.node_id));
        }
      }
      return this.commitStep(step, ahead);
    });
  }

  /** A record-triggered start: the instance runs on the version the write saw. */
  private async startFromJob(job: ClaimedJob): Promise<ClaimedJob[]> {
    const p = job.payload as { appKey: string; version: number; flowKey: string; startNode: string; recordId: string | null; startedBy: string | null };
    const app = await this.appVersion(job.workspaceId, p.appKey, p.version);
    const flow = findFlow(app, p.flowKey);
    const start = flow.nodes.find((n): n is StartEventNode => n.id === p.startNode && n.type === 'startEvent');
    if (!start) throw new FlowIncident(`flow "${p.flowKey}" has no start event "${p.startNode}"`, p.startNode);
    return this.transact(async (trx, ahead) => {
      await this.queue.finishIn(trx, job);
      const { followUps } = await this.createInstance(trx, ahead, app, flow, start, {
        workspaceId: job.workspaceId,
        recordId: p.recordId,
        variables: {},
        startedBy: p.startedBy,
        startKey: null,
      });
      return followUps;
    });
  }

  /**
   * A scheduled flow's fire: starts one instance (unique per fire time) on the running
   * version and enqueues the next fire, or stops when the flow is no longer scheduled.
   */
  private async fireSchedule(job: ClaimedJob): Promise<ClaimedJob[]> {
    const p = job.payload as { appKey: string; flowKey: string; startNode: string; fireAt: string };
    const app = await this.metadata.getPublished(job.workspaceId, p.appKey);
    const scheduled = scheduledFlows(app).find((s) => s.flow.key === p.flowKey);
    return this.transact(async (trx, ahead) => {
      await this.queue.finishIn(trx, job);
      if (!scheduled) return [];
      const startKey = `schedule:${p.flowKey}:${p.fireAt}`;
      const taken = await trx.selectFrom('flow_instances').select('id').where('workspace_id', '=', job.workspaceId).where('start_key', '=', startKey).executeTakeFirst();
      let followUps: ClaimedJob[] = [];
      if (!taken) {
        ({ followUps } = await this.createInstance(trx, ahead, app, scheduled.flow, scheduled.node, { workspaceId: job.workspaceId, recordId: null, variables: {}, startedBy: null, startKey }));
      }
      const next = nextScheduledFire(scheduled.cron, scheduled.timezone, new Date(p.fireAt));
      if (next) await this.queue.enqueue(trx, [scheduleJob(job.workspaceId, app, p.flowKey, scheduled.node.id, next)]);
      return followUps;
    });
  }

  /** A failed attempt: retried with the node's backoff, or parked with an incident. */
  private async recordFailure(job: ClaimedJob, e: unknown): Promise<void> {
    const retryable = isRetryable(e);
    const message = errorMessage(e);
    const policy = job.payload.retry as RetryPolicy | undefined;
    const nodeId = e instanceof FlowIncident && e.nodeId ? e.nodeId : await this.nodeOf(job);
    try {
      const incident = await this.queue.fail(job, message, { retryable, delayMs: retryDelayMs(policy, job.attempts, job.id), nodeId });
      if (job.kind === 'deliver') {
        await this.db
          .updateTable('outbox')
          .set({
            attempts: sql<number>`attempts + 1`,
            last_error: message.slice(0, 4000),
            ...(incident ? { status: 'failed' as const } : { next_attempt_at: new Date(this.clock().getTime() + retryDelayMs(policy, job.attempts, job.id)) }),
          })
          .where('workspace_id', '=', job.workspaceId)
          .where('id', '=', String(job.payload.outboxId))
          .where('status', '=', 'pending')
          .execute();
      }
      if (incident && job.instanceId) {
        await this.db.transaction().execute((trx) =>
          insertEvents(trx, job.workspaceId, job.instanceId!, [{ tokenId: job.tokenId, nodeId, action: 'incident', data: { incident, error: message.slice(0, 500) } }], this.clock()),
        );
      }
    } catch {
      // the failure could not be recorded (database away): the lease runs out and the job runs again
    }
  }

  private async nodeOf(job: ClaimedJob): Promise<string | null> {
    if (!job.tokenId) return null;
    const token = await this.db.selectFrom('flow_tokens').select('node_id').where('workspace_id', '=', job.workspaceId).where('id', '=', job.tokenId).executeTakeFirst().catch(() => undefined);
    return token?.node_id ?? null;
  }

  private async instanceRow(workspaceId: string, instanceId: string): Promise<InstanceRow> {
    if (!UUID.test(instanceId)) throw instanceNotFound(instanceId);
    const result = await sql<InstanceRow>`SELECT * FROM flow_instances WHERE workspace_id = ${workspaceId} AND id = ${instanceId}`.execute(this.db);
    const row = result.rows[0];
    if (!row) throw instanceNotFound(instanceId);
    return row;
  }

  /** the app version the instance started on */
  private appOf(row: InstanceRow): Promise<PublishedApp> {
    return this.appVersion(row.workspace_id, row.app_key, row.app_version);
  }

  /** versions never change, so they are cached for good (the metadata repository reads the app row first each time) */
  private async appVersion(workspaceId: string, appKey: string, version: number): Promise<PublishedApp> {
    const key = `${workspaceId}/${appKey}/${version}`;
    let app = this.versions.get(key);
    if (!app) {
      app = await this.metadata.getPublished(workspaceId, appKey, version);
      if (this.versions.size > 1000) this.versions.clear();
      this.versions.set(key, app);
    }
    return app;
  }
}

function findFlow(app: PublishedApp, flowKey: string): FlowDef {
  const flow = ((app.document.flows ?? []) as FlowDef[]).find((f) => f.key === flowKey);
  if (!flow) throw new ProblemError('not_found', `Flow "${flowKey}" not found in app "${app.appKey}" (version ${app.version})`);
  return flow;
}

function scheduleJob(workspaceId: string, app: PublishedApp, flowKey: string, startNode: string, fireAt: Date): JobSpec {
  return {
    workspaceId,
    kind: 'schedule',
    payload: { appKey: app.appKey, flowKey, startNode, fireAt: fireAt.toISOString() },
    runAt: fireAt,
    key: `schedule:${app.appId}:${flowKey}`,
  };
}

/** Variables given at start must be declared by the flow. */
function checkVariables(flow: FlowDef, variables: Record<string, unknown> | undefined): Record<string, unknown> {
  if (variables === undefined || variables === null) return {};
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    throw new ProblemError('unprocessable', 'Invalid variables', [{ field: 'variables', code: 'type', message: 'variables is an object of name -> value' }]);
  }
  const declared = new Set((flow.variables ?? []).map((v) => v.name));
  const unknown = Object.keys(variables).filter((k) => !declared.has(k));
  if (unknown.length > 0) {
    throw new ProblemError(
      'unprocessable',
      `Unknown variables: ${unknown.join(', ')}`,
      unknown.map((k) => ({ field: `variables/${k}`, code: 'unknown_variable', message: `"${k}" is not a variable of flow "${flow.key}"` })),
    );
  }
  return { ...variables };
}

function isRetryable(e: unknown): boolean {
  if (e instanceof FlowIncident) return false;
  if (e instanceof DeliveryFailed) return e.retryable;
  if (isProblemError(e)) return e.kind === 'conflict';
  return true;
}

function errorMessage(e: unknown): string {
  if (isProblemError(e) && e.errors.length > 0) return `${e.message} (${e.errors.map((x) => `${x.field}: ${x.message}`).join('; ')})`;
  return e instanceof Error ? e.message : String(e);
}

function instanceView(row: InstanceRow, tokens: Array<{ id: string; node_id: string; status: 'ready' | 'waiting' | 'joining' }>): InstanceView {
  return {
    id: row.id,
    appKey: row.app_key,
    appVersion: row.app_version,
    flowKey: row.flow_key,
    objectId: row.object_id,
    recordId: row.record_id,
    status: row.status,
    result: row.result,
    variables: json(row.variables, {}),
    startedBy: row.started_by,
    startedAt: iso(row.started_at)!,
    endedAt: iso(row.ended_at),
    tokens: tokens.map((t) => ({ id: t.id, nodeId: t.node_id, status: t.status })),
  };
}

function incidentView(r: {
  id: string; job_id: string | null; job_kind: string; instance_id: string | null; node_id: string | null; error: string; attempts: number;
  status: 'open' | 'resolved'; created_at: Date | string; resolved_at: Date | string | null; resolved_by: string | null;
}): IncidentView {
  return {
    id: r.id,
    jobId: r.job_id,
    jobKind: r.job_kind,
    instanceId: r.instance_id,
    nodeId: r.node_id,
    error: r.error,
    attempts: r.attempts,
    status: r.status,
    createdAt: iso(r.created_at)!,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const instanceNotFound = (id: string) => new ProblemError('not_found', `Flow instance ${id} not found`);
const taskNotFound = (id: string) => new ProblemError('not_found', `Task ${id} not found`);
const incidentNotFound = (id: string) => new ProblemError('not_found', `Incident ${id} not found`);
const taskClosed = (id: string) => new ProblemError('conflict', `Task ${id} is no longer open`, [{ field: 'taskId', code: 'closed', message: 'the task was completed, cancelled or its flow ended' }]);
