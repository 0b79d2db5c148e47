import { ProblemError, type PublishedApp } from '@tessera/metadata';
import type { FlowStarter } from '@tessera/store';
import type { FlowDef, StartEventNode } from '../model/types';
import type { TriggerSink } from './record-triggers';

/**
 * How a `startFlow` automation action starts a flow: a start job written in the record
 * write's own transaction (the same way record triggers start flows), so the flow starts
 * if and only if the write commits, and runs on the app version the write ran on.
 * Publishing already refused a startFlow naming no flow of the rule's object; what is
 * checked here is what can change without a publish of this version: nothing, except a
 * flow that is disabled, which starts nothing.
 */
export function automationFlowStarter(app: PublishedApp, sink: TriggerSink): FlowStarter {
  return async (ctx, flowKey, recordId) => {
    const flow = ((app.document.flows ?? []) as FlowDef[]).find((f) => f.key === flowKey);
    if (!flow || flow.object !== ctx.object.key) {
      throw new ProblemError('unprocessable', `flow "${flowKey}" cannot be started for a ${ctx.object.key} record`, [
        { field: 'flow', code: 'unknown_flow', message: `no flow "${flowKey}" about ${ctx.object.key} in this app version` },
      ]);
    }
    if (flow.disabled) return;
    const start = flow.nodes.find((n): n is StartEventNode => n.type === 'startEvent');
    if (!start) return;
    await sink.enqueue(ctx, {
      workspaceId: ctx.actor.workspaceId,
      kind: 'start',
      payload: { appKey: app.appKey, version: app.version, flowKey, startNode: start.id, recordId, startedBy: ctx.actor.userId },
      runAt: sink.now(),
    });
  };
}
