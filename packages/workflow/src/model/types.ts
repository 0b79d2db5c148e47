import type { LocalizedText } from '@tessera/metadata';

/**
 * The flow model: a BPMN subset stored as JSON in an app document's `flows` section and
 * versioned with it. An instance runs on the app version it started with. BPMN 2.0 XML
 * maps onto it one element to one node (see ../bpmn); anything not listed here is rejected
 * by name on import.
 *
 * Expressions are the app's expression language. They are written against the flow's
 * record (fields by key, e.g. `{"var":"amount"}`) and may read instance variables as
 * `{"var":"$vars.name"}` and the starting user as `{"currentUser":[]}`.
 */
export type Expression = unknown;

export interface FlowDef {
  /** API name, unique within the app; instances and the start route name it */
  key: string;
  name: LocalizedText;
  description?: LocalizedText;
  /** key of the object whose records the flow is about; a scheduled or API flow may have none */
  object?: string;
  /** a disabled flow starts no new instances; running ones go on */
  disabled?: boolean;
  /** instance variables and their types, so expressions reading `$vars.x` type-check */
  variables?: FlowVariable[];
  nodes: FlowNode[];
  /** BPMN sequence flows */
  edges: FlowEdge[];
}

export interface FlowVariable {
  name: string;
  type: 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  name?: LocalizedText;
  /** on an edge leaving an exclusive gateway: taken when this holds (first match in order) */
  condition?: Expression;
  /** on an edge leaving an approval task: the outcome that takes it */
  outcome?: 'approved' | 'rejected';
  /** the points the BPMN diagram draws the edge through (its BPMNEdge waypoints) */
  waypoints?: { x: number; y: number }[];
}

export type FlowNode =
  | StartEventNode
  | EndEventNode
  | UserTaskNode
  | ServiceTaskNode
  | ExclusiveGatewayNode
  | ParallelGatewayNode
  | TimerEventNode
  | BoundaryTimerNode;

export type FlowNodeType = FlowNode['type'];

interface NodeBase {
  /** unique within the flow; BPMN element id */
  id: string;
  name?: LocalizedText;
  /** where the BPMN diagram draws the node (its BPMNShape bounds); kept so a drawn diagram round-trips */
  layout?: DiagramBounds;
}

/** a node's box in the BPMN diagram, in diagram pixels */
export interface DiagramBounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type FlowTrigger =
  /** a record of the flow's object was created (and the condition holds) */
  | { type: 'recordCreated'; condition?: Expression }
  /** a record was updated; only when one of `fields` changed, if given */
  | { type: 'recordUpdated'; fields?: string[]; condition?: Expression }
  /** a cron schedule (5 fields), in the given IANA zone (default Asia/Shanghai) */
  | { type: 'schedule'; cron: string; timezone?: string }
  /** a button on the record page; shown when the condition holds */
  | { type: 'manual'; label?: LocalizedText; condition?: Expression }
  /** POST /api/apps/:app/flows/:flow/instances */
  | { type: 'api' };

export interface StartEventNode extends NodeBase {
  type: 'startEvent';
  trigger: FlowTrigger;
}

export interface EndEventNode extends NodeBase {
  type: 'endEvent';
  /** ends the whole instance, cancelling other tokens (BPMN terminate end event) */
  terminate?: boolean;
  /** the instance's result when it ends here, e.g. 'approved' / 'rejected' */
  result?: string;
}

export type AssigneeRule =
  | { type: 'user'; userId: string }
  /** every user holding the role (a role key of the app) */
  | { type: 'role'; role: string }
  /** the user in a user field of the flow's record, or `owner_id` */
  | { type: 'field'; field: string }
  /** the manager of the user in a user field (default the record's owner) */
  | { type: 'manager'; field?: string }
  /** an expression yielding a user id or a list of them */
  | { type: 'expression'; expression: Expression };

export const APPROVAL_ACTIONS = ['approve', 'reject', 'return', 'delegate', 'comment'] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

export interface UserTaskNode extends NodeBase {
  type: 'userTask';
  /** 'approval' completes with approved/rejected; 'task' is a to-do completed once */
  kind: 'approval' | 'task';
  /** candidates are the union of the rules' users */
  assignees: AssigneeRule[];
  /**
   * single: one task for the first candidate; any (或签): every candidate gets the task and
   * the first decision decides; all (会签): every candidate must approve, one rejection
   * rejects; sequential: candidates in order, each must approve.
   */
  mode: 'single' | 'any' | 'all' | 'sequential';
  /** allowed actions; default all of APPROVAL_ACTIONS for an approval, ['comment'] otherwise */
  actions?: ApprovalAction[];
  /** ISO 8601 duration from the task's creation, e.g. 'P2D', or a date expression */
  due?: { duration?: string; date?: Expression };
  /** record fields (keys) the assignee may edit while completing the task */
  editableFields?: string[];
}

export interface RetryPolicy {
  /** attempts in all, first included (default 5) */
  maxAttempts?: number;
  /** ISO 8601 duration before the second attempt, doubled each time (default 'PT10S') */
  initialDelay?: string;
}

export type ServiceAction =
  | { type: 'createRecord'; object: string; values: Record<string, Expression>; resultVariable?: string }
  /** updates the record `record` names (an id expression), by default the flow's own record */
  | { type: 'updateRecord'; object?: string; record?: Expression; values: Record<string, Expression> }
  | { type: 'queryRecords'; object: string; filter?: Expression; sort?: string; limit?: number; resultVariable: string }
  | { type: 'notify'; recipients: AssigneeRule[]; message: Expression }
  | { type: 'email'; to: Expression; subject: Expression; body: Expression }
  | {
      type: 'http';
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      url: Expression;
      headers?: Record<string, Expression>;
      body?: Expression;
      /** the parsed JSON response is stored here */
      resultVariable?: string;
    }
  | { type: 'setVariables'; values: Record<string, Expression> };

export interface ServiceTaskNode extends NodeBase {
  type: 'serviceTask';
  action: ServiceAction;
  retry?: RetryPolicy;
}

export interface ExclusiveGatewayNode extends NodeBase {
  type: 'exclusiveGateway';
  /** id of the outgoing edge taken when no condition holds; required when it forks */
  default?: string;
}

/** Forks when it has several outgoing edges, joins (waits for every incoming) when several incoming. */
export interface ParallelGatewayNode extends NodeBase {
  type: 'parallelGateway';
}

export interface TimerSpec {
  /** ISO 8601 duration, e.g. 'PT15M', 'P1D' */
  duration?: string;
  /** a date/datetime expression (e.g. the record's close date) */
  date?: Expression;
}

/** BPMN intermediate timer catch event: the token waits until the timer is due. */
export interface TimerEventNode extends NodeBase {
  type: 'timerEvent';
  timer: TimerSpec;
}

/**
 * BPMN boundary timer on a user task (SLA escalation). Interrupting: when due, the task is
 * cancelled and the token leaves by the boundary's outgoing edge. Non-interrupting: a new
 * token leaves by it and the task stays open.
 */
export interface BoundaryTimerNode extends NodeBase {
  type: 'boundaryTimer';
  attachedTo: string;
  timer: TimerSpec;
  interrupting: boolean;
}
