import { ProblemError, type FieldError, type LocalizedText } from '@tessera/metadata';
import { APPROVAL_ACTIONS, type ApprovalAction, type AssigneeRule, type DiagramBounds, type FlowDef, type FlowEdge, type FlowNode, type FlowTrigger, type FlowVariable, type ServiceAction, type TimerSpec, type UserTaskNode } from '../model/types';
import { inferText, tagOf, tesseraModdle, type ModdleElement } from './moddle';
import { EXPRESSION_LANGUAGE } from './tessera-moddle';

/** flow elements we map onto nodes; anything else in a process is refused by name */
const NODE_TYPES = new Set(['bpmn:StartEvent', 'bpmn:EndEvent', 'bpmn:UserTask', 'bpmn:ServiceTask', 'bpmn:ExclusiveGateway', 'bpmn:ParallelGateway', 'bpmn:IntermediateCatchEvent', 'bpmn:BoundaryEvent']);

/**
 * Reads BPMN 2.0 XML (as bpmn-js, Camunda Modeler or flowToBpmnXml write it) into a flow.
 * Elements outside the supported subset are refused by name with their id, e.g.
 * "bpmn:subProcess at id Activity_1 is not supported"; every problem is reported at once.
 * Lanes and text annotations are drawing aids and are dropped. The result is not validated:
 * checkFlows does that when the flow is saved into an app.
 */
export async function bpmnXmlToFlow(xml: string, options: { key: string; name?: LocalizedText }): Promise<FlowDef> {
  const moddle = tesseraModdle();
  let parsed: Awaited<ReturnType<typeof moddle.fromXML>>;
  try {
    parsed = await moddle.fromXML(xml);
  } catch (e) {
    throw new ProblemError('unprocessable', `The BPMN XML cannot be read: ${(e as Error).message}`, [{ field: 'xml', code: 'invalid_xml', message: (e as Error).message }]);
  }
  const reader = new BpmnReader();
  for (const w of parsed.warnings) reader.warning(w.message, w.element);
  const flow = reader.read(parsed.rootElement, options);
  if (reader.errors.length > 0 || !flow) {
    const errors = reader.errors.length > 0 ? reader.errors : [{ field: 'xml', code: 'no_process', message: 'the XML holds no bpmn:process' }];
    throw new ProblemError('unprocessable', `The BPMN XML cannot be imported: ${errors[0]!.message}`, errors);
  }
  return flow;
}

function ext(element: ModdleElement, type: string): ModdleElement | undefined {
  return (element.extensionElements?.values as ModdleElement[] | undefined)?.find((v) => v.$type === type);
}

function localized(element: ModdleElement | undefined): LocalizedText | undefined {
  if (!element) return undefined;
  const text: LocalizedText = {};
  if (typeof element.en === 'string') text.en = element.en;
  if (typeof element.zh === 'string') text.zh = element.zh;
  return text;
}

function words(attr: unknown): string[] | undefined {
  return typeof attr === 'string' ? attr.split(/\s+/).filter((w) => w !== '') : undefined;
}

function idOf(element: ModdleElement | undefined): string {
  return element?.id ?? '(no id)';
}

class BpmnReader {
  readonly errors: FieldError[] = [];

  private error(id: string, code: string, message: string): void {
    this.errors.push({ field: id, code, message });
  }

  private unsupported(element: ModdleElement, where?: ModdleElement): void {
    const at = where ?? element;
    this.error(idOf(at), 'unsupported_element', `${tagOf(element.$type)} at id ${idOf(at)} is not supported`);
  }

  warning(message: string, element: ModdleElement | undefined): void {
    // unknown elements in the BPMN namespace and references to missing ids
    const unparsable = /unparsable content <([^>\s]+)/.exec(message);
    if (unparsable) return this.error(idOf(element), 'unsupported_element', `${unparsable[1]} in ${element ? tagOf(element.$type) : 'the document'} at id ${idOf(element)} is not supported`);
    this.error(idOf(element), 'invalid_bpmn', message);
  }

  private json(text: unknown, id: string, what: string): unknown {
    if (typeof text !== 'string') {
      this.error(id, 'invalid_expression', `${what} at id ${id} is empty`);
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch {
      this.error(id, 'invalid_expression', `${what} at id ${id} is not a Tessera expression (JSON): ${text.slice(0, 80)}`);
      return undefined;
    }
  }

  /** `{key: parsed JSON}` of tessera:Expression children */
  private expressions(owner: ModdleElement | undefined, id: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const e of (owner?.expressions as ModdleElement[] | undefined) ?? []) out[String(e.key)] = this.json(e.text, id, `tessera:expression "${String(e.key)}"`);
    return out;
  }

  read(definitions: ModdleElement, options: { key: string; name?: LocalizedText }): FlowDef | null {
    const roots = (definitions.rootElements as ModdleElement[] | undefined) ?? [];
    const processes = roots.filter((r) => r.$type === 'bpmn:Process');
    for (const r of roots) {
      if (r.$type !== 'bpmn:Collaboration') continue;
      if ((r.participants?.length ?? 0) > 1) this.error(idOf(r), 'unsupported_element', `bpmn:collaboration at id ${idOf(r)} has ${r.participants.length} pools; one process is supported`);
      for (const m of r.messageFlows ?? []) this.unsupported(m);
    }
    if (processes.length > 1) this.error(idOf(processes[1]), 'unsupported_element', `bpmn:process at id ${idOf(processes[1])}: one process per flow is supported, the XML has ${processes.length}`);
    const process = processes[0];
    if (!process) return null;
    const flowExt = ext(process, 'tessera:Flow');
    const flowElements = (process.flowElements as ModdleElement[] | undefined) ?? [];
    const layout = diagramLayout(definitions);
    const nodes: FlowNode[] = [];
    const edges: FlowEdge[] = [];
    for (const element of flowElements) {
      if (element.$type === 'bpmn:SequenceFlow') {
        const edge = this.edge(element, layout.waypoints.get(element.id ?? ''));
        if (edge) edges.push(edge);
      } else if (NODE_TYPES.has(element.$type)) {
        const node = this.node(element);
        if (node) {
          const bounds = layout.bounds.get(node.id);
          nodes.push(bounds ? { ...node, layout: bounds } : node);
        }
      } else this.unsupported(element);
    }
    const flow: FlowDef = { key: options.key, name: options.name ?? this.name(process) ?? { en: options.key }, nodes: [], edges: [] };
    const description = localized(flowExt?.description) ?? docText(process);
    if (description) flow.description = description;
    if (typeof flowExt?.object === 'string') flow.object = flowExt.object;
    if (typeof flowExt?.disabled === 'boolean') flow.disabled = flowExt.disabled;
    const variables = ((flowExt?.variables as ModdleElement[] | undefined) ?? []).map((v) => ({ name: String(v.name), type: v.type as FlowVariable['type'] }));
    if (variables.length > 0) flow.variables = variables;
    // nodes and edges last, so a flow reads top-down like the types
    delete (flow as Partial<FlowDef>).nodes;
    delete (flow as Partial<FlowDef>).edges;
    return { ...flow, nodes, edges };
  }

  private name(element: ModdleElement): LocalizedText | undefined {
    return localized(ext(element, 'tessera:Name')) ?? (typeof element.name === 'string' && element.name !== '' ? inferText(element.name) : undefined);
  }

  private node(element: ModdleElement): FlowNode | null {
    const id = idOf(element);
    if (element.loopCharacteristics) this.unsupported(element.loopCharacteristics, element);
    const base: { id: string; name?: LocalizedText } = { id };
    const name = this.name(element);
    if (name) base.name = name;
    const definitions = (element.eventDefinitions as ModdleElement[] | undefined) ?? [];
    const timers = definitions.filter((d) => d.$type === 'bpmn:TimerEventDefinition');
    const allow = (...types: string[]) => {
      for (const d of definitions) if (!types.includes(d.$type)) this.unsupported(d, element);
    };
    switch (element.$type) {
      case 'bpmn:StartEvent':
        allow('bpmn:TimerEventDefinition');
        return { ...base, type: 'startEvent', trigger: this.trigger(element, timers[0]) };
      case 'bpmn:EndEvent': {
        allow('bpmn:TerminateEventDefinition');
        const node: FlowNode = { ...base, type: 'endEvent' };
        if (definitions.some((d) => d.$type === 'bpmn:TerminateEventDefinition')) node.terminate = true;
        const result = ext(element, 'tessera:Result')?.value;
        if (typeof result === 'string') node.result = result;
        return node;
      }
      case 'bpmn:UserTask':
        return { ...base, ...this.userTask(ext(element, 'tessera:UserTask'), id) };
      case 'bpmn:ServiceTask': {
        const action = ext(element, 'tessera:Action');
        if (!action) {
          this.error(id, 'missing_action', `bpmn:serviceTask at id ${id} has no tessera:action saying what it does`);
          return null;
        }
        const node: FlowNode = { ...base, type: 'serviceTask', action: this.action(action, id) };
        const retry = ext(element, 'tessera:Retry');
        if (retry) {
          node.retry = {};
          if (typeof retry.maxAttempts === 'number') node.retry.maxAttempts = retry.maxAttempts;
          if (typeof retry.initialDelay === 'string') node.retry.initialDelay = retry.initialDelay;
        }
        return node;
      }
      case 'bpmn:ExclusiveGateway': {
        const node: FlowNode = { ...base, type: 'exclusiveGateway' };
        if (element.default) node.default = idOf(element.default);
        return node;
      }
      case 'bpmn:ParallelGateway':
        return { ...base, type: 'parallelGateway' };
      case 'bpmn:IntermediateCatchEvent':
        allow('bpmn:TimerEventDefinition');
        if (timers.length !== 1) {
          if (definitions.length === 0) this.error(id, 'unsupported_element', `bpmn:intermediateCatchEvent at id ${id} has no timer; only timer catch events are supported`);
          return null;
        }
        return { ...base, type: 'timerEvent', timer: this.timer(timers[0]!, id) };
      case 'bpmn:BoundaryEvent':
        allow('bpmn:TimerEventDefinition');
        if (timers.length !== 1) {
          if (definitions.length === 0) this.error(id, 'unsupported_element', `bpmn:boundaryEvent at id ${id} has no timer; only boundary timers are supported`);
          return null;
        }
        return { ...base, type: 'boundaryTimer', attachedTo: idOf(element.attachedToRef), timer: this.timer(timers[0]!, id), interrupting: element.cancelActivity !== false };
      default:
        return null;
    }
  }

  private timer(definition: ModdleElement, id: string): TimerSpec {
    const timer: TimerSpec = {};
    if (definition.timeCycle) this.error(id, 'unsupported_element', `bpmn:timeCycle at id ${id} is only supported on a start event (a schedule)`);
    const duration = definition.timeDuration?.body;
    if (typeof duration === 'string') timer.duration = duration.trim();
    const date = definition.timeDate;
    if (date) {
      if (date.language !== EXPRESSION_LANGUAGE && typeof date.body === 'string' && !/^\s*[[{"]/.test(date.body)) {
        // a plain ISO date from another modeller: a date literal is a valid expression
        timer.date = date.body.trim();
      } else timer.date = this.json(date.body, id, 'bpmn:timeDate');
    }
    if (timer.duration === undefined && timer.date === undefined) this.error(id, 'invalid_timer', `the timer at id ${id} has neither a timeDuration nor a timeDate`);
    return timer;
  }

  private trigger(element: ModdleElement, timer: ModdleElement | undefined): FlowTrigger {
    const id = idOf(element);
    const t = ext(element, 'tessera:Trigger');
    if (timer) {
      const cron = timer.timeCycle?.body;
      if (typeof cron !== 'string') this.error(id, 'invalid_timer', `the timer start event at id ${id} needs a bpmn:timeCycle holding a cron text`);
      const trigger: FlowTrigger = { type: 'schedule', cron: typeof cron === 'string' ? cron.trim() : '' };
      if (typeof t?.timezone === 'string') trigger.timezone = t.timezone;
      return trigger;
    }
    const condition = this.expressions(t, id).condition;
    switch (t?.type) {
      case 'recordCreated':
        return condition === undefined ? { type: 'recordCreated' } : { type: 'recordCreated', condition };
      case 'recordUpdated': {
        const trigger: FlowTrigger = { type: 'recordUpdated' };
        const fields = words(t.fields);
        if (fields) trigger.fields = fields;
        if (condition !== undefined) trigger.condition = condition;
        return trigger;
      }
      case 'manual': {
        const trigger: FlowTrigger = { type: 'manual' };
        const label = localized(t.label);
        if (label) trigger.label = label;
        if (condition !== undefined) trigger.condition = condition;
        return trigger;
      }
      case 'schedule':
        this.error(id, 'invalid_timer', `the schedule start event at id ${id} needs a bpmn:timerEventDefinition with a bpmn:timeCycle`);
        return { type: 'api' };
      case 'api':
      case undefined:
        return { type: 'api' };
      default:
        this.error(id, 'invalid_trigger', `tessera:trigger type "${String(t?.type)}" at id ${id} is not one of recordCreated, recordUpdated, schedule, manual, api`);
        return { type: 'api' };
    }
  }

  private assignee(a: ModdleElement, id: string): AssigneeRule {
    switch (a.type) {
      case 'user':
        return { type: 'user', userId: String(a.userId ?? '') };
      case 'role':
        return { type: 'role', role: String(a.role ?? '') };
      case 'field':
        return { type: 'field', field: String(a.field ?? '') };
      case 'manager':
        return typeof a.field === 'string' ? { type: 'manager', field: a.field } : { type: 'manager' };
      case 'expression':
        return { type: 'expression', expression: this.expressions(a, id).expression };
      default:
        this.error(id, 'invalid_assignee', `tessera:assignee type "${String(a.type)}" at id ${id} is not one of user, role, field, manager, expression`);
        return { type: 'role', role: '' };
    }
  }

  private userTask(t: ModdleElement | undefined, id: string): Omit<UserTaskNode, 'id' | 'name'> {
    // a user task drawn without Tessera details: a to-do for nobody yet, which checkFlows reports
    if (!t) return { type: 'userTask', kind: 'task', mode: 'single', assignees: [] };
    const task: Omit<UserTaskNode, 'id' | 'name'> = {
      type: 'userTask',
      kind: t.kind === 'approval' ? 'approval' : 'task',
      assignees: ((t.assignees as ModdleElement[] | undefined) ?? []).map((a) => this.assignee(a, id)),
      mode: (['single', 'any', 'all', 'sequential'] as const).find((m) => m === t.mode) ?? 'single',
    };
    const actions = words(t.actions);
    if (actions) {
      const unknown = actions.filter((a) => !(APPROVAL_ACTIONS as readonly string[]).includes(a));
      if (unknown.length > 0) this.error(id, 'invalid_action', `tessera:userTask at id ${id} names unknown actions: ${unknown.join(', ')}`);
      task.actions = actions as ApprovalAction[];
    }
    const dueDate = this.expressions(t, id).dueDate;
    if (typeof t.dueDuration === 'string' || dueDate !== undefined) {
      task.due = {};
      if (typeof t.dueDuration === 'string') task.due.duration = t.dueDuration;
      if (dueDate !== undefined) task.due.date = dueDate;
    }
    const editable = words(t.editableFields);
    if (editable) task.editableFields = editable;
    return task;
  }

  private action(a: ModdleElement, id: string): ServiceAction {
    const exprs = this.expressions(a, id);
    const keyed = (items: ModdleElement[] | undefined, what: string) =>
      Object.fromEntries((items ?? []).map((v) => [String(v.name), this.json(v.text, id, `${what} "${String(v.name)}"`)]));
    const values = keyed(a.values, 'tessera:value');
    const optional = <T extends object>(action: T, extra: Record<string, unknown>): T => {
      for (const [k, v] of Object.entries(extra)) if (v !== undefined) (action as Record<string, unknown>)[k] = v;
      return action;
    };
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    switch (a.type) {
      case 'createRecord':
        return optional({ type: 'createRecord', object: String(a.object ?? ''), values }, { resultVariable: str(a.resultVariable) });
      case 'updateRecord':
        return optional({ type: 'updateRecord', values } as ServiceAction, { object: str(a.object), record: exprs.record });
      case 'queryRecords':
        return optional({ type: 'queryRecords', object: String(a.object ?? ''), resultVariable: String(a.resultVariable ?? '') } as ServiceAction, {
          filter: exprs.filter,
          sort: str(a.sort),
          limit: typeof a.limit === 'number' ? a.limit : undefined,
        });
      case 'notify':
        return { type: 'notify', recipients: ((a.recipients as ModdleElement[] | undefined) ?? []).map((r) => this.assignee(r, id)), message: exprs.message };
      case 'email':
        return { type: 'email', to: exprs.to, subject: exprs.subject, body: exprs.body };
      case 'http': {
        const headers = (a.headers as ModdleElement[] | undefined)?.length ? keyed(a.headers, 'tessera:header') : undefined;
        return optional({ type: 'http', method: (a.method ?? 'GET') as 'GET', url: exprs.url } as ServiceAction, { headers, body: exprs.body, resultVariable: str(a.resultVariable) });
      }
      case 'setVariables':
        return { type: 'setVariables', values };
      default:
        this.error(id, 'invalid_action', `tessera:action type "${String(a.type)}" at id ${id} is not one of createRecord, updateRecord, queryRecords, notify, email, http, setVariables`);
        return { type: 'setVariables', values: {} };
    }
  }

  private edge(element: ModdleElement, waypoints: { x: number; y: number }[] | undefined): FlowEdge | null {
    const id = idOf(element);
    if (!element.sourceRef || !element.targetRef) {
      this.error(id, 'invalid_bpmn', `bpmn:sequenceFlow at id ${id} needs both a sourceRef and a targetRef`);
      return null;
    }
    const edge: FlowEdge = { id, source: idOf(element.sourceRef), target: idOf(element.targetRef) };
    const name = this.name(element);
    if (name) edge.name = name;
    const condition = element.conditionExpression;
    if (condition) edge.condition = this.json(condition.body, id, 'bpmn:conditionExpression');
    const outcome = ext(element, 'tessera:Outcome')?.value;
    if (outcome === 'approved' || outcome === 'rejected') edge.outcome = outcome;
    else if (outcome !== undefined) this.error(id, 'invalid_outcome', `tessera:outcome "${String(outcome)}" at id ${id} is not approved or rejected`);
    if (waypoints) edge.waypoints = waypoints;
    return edge;
  }
}

function docText(element: ModdleElement): LocalizedText | undefined {
  const text = (element.documentation as ModdleElement[] | undefined)?.map((d) => d.text).find((t) => typeof t === 'string' && t !== '');
  return typeof text === 'string' ? inferText(text) : undefined;
}

/** the drawing: shape bounds and edge waypoints by element id, from the first diagram */
function diagramLayout(definitions: ModdleElement): { bounds: Map<string, DiagramBounds>; waypoints: Map<string, { x: number; y: number }[]> } {
  const bounds = new Map<string, DiagramBounds>();
  const waypoints = new Map<string, { x: number; y: number }[]>();
  const plane = (definitions.diagrams as ModdleElement[] | undefined)?.[0]?.plane;
  for (const item of (plane?.planeElement as ModdleElement[] | undefined) ?? []) {
    const target = item.bpmnElement?.id;
    if (typeof target !== 'string') continue;
    if (item.$type === 'bpmndi:BPMNShape' && item.bounds) {
      const b = item.bounds;
      bounds.set(target, { x: Number(b.x), y: Number(b.y), width: Number(b.width), height: Number(b.height) });
    } else if (item.$type === 'bpmndi:BPMNEdge' && Array.isArray(item.waypoint)) {
      waypoints.set(
        target,
        (item.waypoint as ModdleElement[]).map((p) => ({ x: Number(p.x), y: Number(p.y) })),
      );
    }
  }
  return { bounds, waypoints };
}
