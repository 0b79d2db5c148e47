import type { PublishedApp } from '@tessera/metadata';
import type { FlowDef, StartEventNode } from '../model/types';
import { DEFAULT_FLOW_TIMEZONE, nextCronFire } from '../time/index';

export interface ScheduledFlow {
  flow: FlowDef;
  node: StartEventNode;
  cron: string;
  timezone: string;
}

/** the enabled flows of an app version that start on a cron schedule */
export function scheduledFlows(app: PublishedApp): ScheduledFlow[] {
  const out: ScheduledFlow[] = [];
  for (const flow of (app.document.flows ?? []) as FlowDef[]) {
    if (flow.disabled) continue;
    for (const node of flow.nodes) {
      if (node.type === 'startEvent' && node.trigger.type === 'schedule') {
        out.push({ flow, node, cron: node.trigger.cron, timezone: node.trigger.timezone ?? DEFAULT_FLOW_TIMEZONE });
        break;
      }
    }
  }
  return out;
}

/** the next fire strictly after `after`, or null when the schedule never fires again */
export function nextScheduledFire(cron: string, timezone: string, after: Date): Date | null {
  return nextCronFire(cron, timezone, after);
}
