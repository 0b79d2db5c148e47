import type { LocalizedText } from '@tessera/metadata';
import type { ApprovalAction } from '../model/types';

/** A flow instance as the API shows it. */
export interface InstanceView {
  id: string;
  appKey: string;
  /** the app version the instance runs on, whatever was published since */
  appVersion: number;
  flowKey: string;
  /** id of the flow's object, and the record the instance is about */
  objectId: string | null;
  recordId: string | null;
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  /** set by the end event it ended at ('approved', 'rejected', ...) */
  result: string | null;
  variables: Record<string, unknown>;
  startedBy: string | null;
  startedAt: string;
  endedAt: string | null;
  /** where it is now: its live tokens */
  tokens: Array<{ id: string; nodeId: string; status: 'ready' | 'waiting' | 'joining' }>;
}

/** One step of an instance's timeline. */
export interface TimelineEntry {
  id: string;
  at: string;
  nodeId: string | null;
  /** what happened: started, decided, executed, task_created, approve, reject, ..., completed */
  action: string;
  /** who did it (a user acting on a task, the starter), null for the engine */
  actorId: string | null;
  comment: string | null;
  data: Record<string, unknown> | null;
}

/** A user task in someone's inbox. */
export interface FlowTaskView {
  id: string;
  instanceId: string;
  appKey: string;
  flowKey: string;
  nodeId: string;
  nodeName: LocalizedText | null;
  kind: 'approval' | 'task';
  objectId: string | null;
  recordId: string | null;
  assigneeId: string;
  status: 'open' | 'done' | 'cancelled';
  dueAt: string | null;
  decision: string | null;
  comment: string | null;
  createdAt: string;
  completedAt: string | null;
  /** what the assignee may do on it */
  actions: ApprovalAction[];
  /** record fields (keys) the assignee may edit while completing it */
  editableFields: string[];
}

/** A job or side effect that kept failing. */
export interface IncidentView {
  id: string;
  jobId: string | null;
  jobKind: string;
  instanceId: string | null;
  nodeId: string | null;
  error: string;
  attempts: number;
  status: 'open' | 'resolved';
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

export function iso(value: Date | string | null | undefined): string | null {
  if (value == null) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

export function json<T>(value: unknown, fallback: T): T {
  if (value == null) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
