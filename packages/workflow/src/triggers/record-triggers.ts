import { toApiRecord, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import type { RecordChange, RecordWriteHooks, WriteContext, WriteWarning } from '@tessera/store';
import type { FlowDef, FlowTrigger, StartEventNode } from '../model/types';
import { compileFlowExpression } from '../expressions/flow-expressions';
import type { JobSpec } from '../queue/job-queue';

type RecordTrigger = Extract<FlowTrigger, { type: 'recordCreated' | 'recordUpdated' }>;

interface TriggeredStart {
  flow: FlowDef;
  node: StartEventNode;
  trigger: RecordTrigger;
  /** field ids one of which must change (recordUpdated with `fields`); null = any */
  changedIds: string[] | null;
}

/** What the hooks need from the engine: a way to enqueue in the write's transaction. */
export interface TriggerSink {
  enqueue(ctx: WriteContext, job: JobSpec): Promise<void>;
  timezone: string;
  /** the engine's clock: start jobs are due at its now */
  now(): Date;
}

/**
 * Record write hooks that start the app's record-triggered flows: after a create (or an
 * update that changed one of the trigger's fields) whose condition holds, a start job is
 * enqueued in the write's own transaction, so the flow starts if and only if the write
 * commits. The condition reads the record as written.
 */
export function recordTriggerHooks(app: PublishedApp, sink: TriggerSink): RecordWriteHooks | null {
  const byObject = new Map<string, TriggeredStart[]>();
  for (const flow of (app.document.flows ?? []) as FlowDef[]) {
    if (flow.disabled || !flow.object) continue;
    const object = app.document.objects.find((o) => o.key === flow.object && !o.deleted);
    if (!object?.id) continue;
    for (const node of flow.nodes) {
      if (node.type !== 'startEvent') continue;
      const trigger = node.trigger;
      if (trigger.type !== 'recordCreated' && trigger.type !== 'recordUpdated') continue;
      const changedIds =
        trigger.type === 'recordUpdated' && trigger.fields?.length
          ? trigger.fields.map((k) => object.fields.find((f) => f.key === k)?.id ?? `?${k}`)
          : null;
      const list = byObject.get(object.id) ?? [];
      list.push({ flow, node, trigger, changedIds });
      byObject.set(object.id, list);
    }
  }
  if (byObject.size === 0) return null;
  return {
    concerns: (object: ObjectDef) => byObject.has(object.id ?? ''),
    // a start job is written in the write's transaction, so creates need one
    isPureCreate: (object: ObjectDef) => !(byObject.get(object.id ?? '') ?? []).some((t) => t.trigger.type === 'recordCreated'),
    beforeWrite: async (): Promise<WriteWarning[]> => [],
    afterWrite: async (ctx: WriteContext, change: RecordChange): Promise<WriteWarning[]> => {
      const starts = byObject.get(ctx.object.id ?? '');
      if (!starts || (change.action !== 'create' && change.action !== 'update')) return [];
      let view: Record<string, unknown> | null = null;
      for (const start of starts) {
        if (!fires(start, change)) continue;
        if (start.trigger.condition !== undefined) {
          view ??= Object.assign({}, change.system, toApiRecord(ctx.object, change.after)) as Record<string, unknown>;
          const env = { now: ctx.now, timezone: sink.timezone, ...(ctx.actor.userId ? { userId: ctx.actor.userId } : {}) };
          const holds = compileFlowExpression(app.document, start.flow, start.trigger.condition, 'boolean').run({ record: view, vars: {}, env });
          if (holds !== true) continue;
        }
        await sink.enqueue(ctx, {
          workspaceId: ctx.actor.workspaceId,
          kind: 'start',
          payload: { appKey: app.appKey, version: app.version, flowKey: start.flow.key, startNode: start.node.id, recordId: change.id, startedBy: ctx.actor.userId },
          runAt: sink.now(),
        });
      }
      return [];
    },
  };
}

function fires(start: TriggeredStart, change: RecordChange): boolean {
  if (start.trigger.type === 'recordCreated') return change.action === 'create';
  if (change.action !== 'update') return false;
  if (!start.changedIds) return true;
  return start.changedIds.some((id) => JSON.stringify(change.before?.[id] ?? null) !== JSON.stringify(change.after[id] ?? null));
}
