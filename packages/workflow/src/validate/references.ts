import { SYSTEM_FIELDS, isComputed, valueKindOfField, type ObjectDef } from '@tessera/metadata';
import type { ExprIssue, ExprType } from '@tessera/expr';
import { checkFlowExpression, checkFlowFilter, flowObject } from '../expressions/flow-expressions';
import { cronProblem, isTimeZone, parseIsoDuration } from '../time/index';
import type { AssigneeRule, FlowNode, FlowTrigger, ServiceAction, TimerSpec } from '../model/types';
import type { FlowCheck } from './context';

/**
 * What the nodes refer to: the flow's object and its fields, other objects, roles, users,
 * variables, and expressions that must type-check; ISO durations and cron texts.
 */
export function checkReferences(c: FlowCheck): void {
  const object = flowObject(c.doc, c.flow);
  if (c.flow.object !== undefined && !object) c.flowError(['object'], 'unknown_object', `it is about object "${c.flow.object}", which the app does not have`);
  for (const node of c.flow.nodes) new NodeReferences(c, node, object).check();
  for (const e of c.flow.edges) {
    if (e.condition === undefined) continue;
    for (const issue of checkFlowExpression(c.doc, c.flow, e.condition, 'boolean')) c.edge(e, ['condition', ...split(issue.path)], issue.code, `condition: ${issue.message}`);
  }
}

function split(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** system fields holding a user id */
const SYSTEM_USER_FIELDS = new Set(['owner_id', 'created_by', 'updated_by']);

function liveField(object: ObjectDef | undefined, key: string) {
  return object?.fields.find((f) => f.key === key && !f.deleted);
}

class NodeReferences {
  constructor(
    private readonly c: FlowCheck,
    private readonly node: FlowNode,
    private readonly object: ObjectDef | undefined,
  ) {}

  private error(rest: (string | number)[], code: string, message: string): void {
    this.c.node(this.node.id, rest, code, message);
  }

  check(): void {
    const node = this.node;
    switch (node.type) {
      case 'startEvent':
        return this.trigger(node.trigger);
      case 'userTask':
        this.assignees(node.assignees, ['assignees']);
        if (node.assignees.length === 0) this.error(['assignees'], 'no_assignees', 'a user task needs at least one assignee rule');
        if (node.due?.duration !== undefined) this.duration(node.due.duration, ['due', 'duration']);
        if (node.due?.date !== undefined) this.dateExpression(node.due.date, ['due', 'date']);
        (node.editableFields ?? []).forEach((key, i) => this.writableField(this.object, key, ['editableFields', i]));
        return;
      case 'serviceTask':
        if (node.retry?.initialDelay !== undefined) this.duration(node.retry.initialDelay, ['retry', 'initialDelay']);
        return this.action(node.action);
      case 'timerEvent':
      case 'boundaryTimer':
        return this.timer(node.timer);
      default:
        return;
    }
  }

  // ---- expressions -----------------------------------------------------------------------

  private expression(expr: unknown, at: (string | number)[], expected?: ExprType): ExprIssue[] {
    const issues = checkFlowExpression(this.c.doc, this.c.flow, expr, expected);
    for (const i of issues) this.error([...at, ...split(i.path)], i.code, `${at.join('/')}: ${i.message}`);
    return issues;
  }

  private dateExpression(expr: unknown, at: (string | number)[]): void {
    const asDate = checkFlowExpression(this.c.doc, this.c.flow, expr, 'date');
    if (asDate.length === 0) return;
    const asDatetime = checkFlowExpression(this.c.doc, this.c.flow, expr, 'datetime');
    if (asDatetime.length === 0) return;
    const other = asDatetime.find((i) => i.code !== 'type_mismatch');
    if (other) this.error([...at, ...split(other.path)], other.code, `${at.join('/')}: ${other.message}`);
    else this.error(at, 'type_mismatch', `${at.join('/')}: expected a date or datetime expression`);
  }

  /** a value for a field of `object`, or a variable: literal null clears it, else the kinds must agree */
  private valueFor(expr: unknown, kind: ExprType, at: (string | number)[]): void {
    if (expr === null) return;
    this.expression(expr, at, kind === 'list' ? undefined : kind);
  }

  // ---- durations, timers, triggers -------------------------------------------------------

  private duration(text: string, at: (string | number)[]): void {
    const parsed = parseIsoDuration(text);
    if (!parsed.ok) this.error(at, 'invalid_duration', `"${text}" is not an ISO 8601 duration such as PT15M or P2D (${parsed.error})`);
  }

  private timer(timer: TimerSpec): void {
    const given = (timer.duration !== undefined ? 1 : 0) + (timer.date !== undefined ? 1 : 0);
    if (given !== 1) this.error(['timer'], 'timer_spec', 'a timer has exactly one of duration or date');
    if (timer.duration !== undefined) this.duration(timer.duration, ['timer', 'duration']);
    if (timer.date !== undefined) this.dateExpression(timer.date, ['timer', 'date']);
  }

  private trigger(trigger: FlowTrigger): void {
    const at = ['trigger'];
    if (trigger.type === 'schedule') {
      const zone = trigger.timezone;
      if (zone !== undefined && !isTimeZone(zone)) return this.error([...at, 'timezone'], 'invalid_timezone', `"${zone}" is not an IANA time zone`);
      const problem = cronProblem(trigger.cron, zone);
      if (problem) this.error([...at, 'cron'], 'invalid_cron', problem);
      return;
    }
    if (trigger.type === 'api') return;
    if (!this.c.flow.object) this.error([...at, 'type'], 'needs_object', `a ${trigger.type} trigger needs the flow to name its object`);
    if (trigger.type === 'recordUpdated') {
      (trigger.fields ?? []).forEach((key, i) => {
        if (!liveField(this.object, key) && this.object) this.error([...at, 'fields', i], 'unknown_field', `field "${key}" is not a field of ${this.object.key}`);
      });
    }
    if (trigger.condition !== undefined) this.expression(trigger.condition, [...at, 'condition'], 'boolean');
  }

  // ---- assignees -------------------------------------------------------------------------

  private assignees(rules: AssigneeRule[], at: (string | number)[]): void {
    const roles = new Set((this.c.doc.roles ?? []).map((r) => (r !== null && typeof r === 'object' ? (r as { key?: unknown }).key : undefined)));
    rules.forEach((rule, i) => {
      const here = [...at, i];
      switch (rule.type) {
        case 'user':
          if (!UUID.test(rule.userId)) this.error([...here, 'userId'], 'invalid_user', `"${rule.userId}" is not a user id (a uuid)`);
          return;
        case 'role':
          if (!roles.has(rule.role)) this.error([...here, 'role'], 'unknown_role', `role "${rule.role}" is not a role of the app`);
          return;
        case 'field':
          return this.userField(rule.field, [...here, 'field']);
        case 'manager':
          return this.userField(rule.field ?? 'owner_id', [...here, 'field']);
        case 'expression': {
          const issues = checkFlowExpression(this.c.doc, this.c.flow, rule.expression);
          for (const issue of issues) this.error([...here, 'expression', ...split(issue.path)], issue.code, `assignee expression: ${issue.message}`);
          if (issues.length === 0) {
            const text = checkFlowExpression(this.c.doc, this.c.flow, rule.expression, 'text').length === 0;
            const list = checkFlowExpression(this.c.doc, this.c.flow, rule.expression, 'list').length === 0;
            if (!text && !list) this.error([...here, 'expression'], 'type_mismatch', 'an assignee expression yields a user id (text) or a list of them');
          }
          return;
        }
      }
    });
  }

  private userField(key: string, at: (string | number)[]): void {
    if (SYSTEM_USER_FIELDS.has(key)) {
      if (!this.c.flow.object) this.error(at, 'needs_object', `"${key}" is a field of the flow's record, and the flow names no object`);
      return;
    }
    const field = liveField(this.object, key);
    if (!field) this.error(at, 'unknown_field', `"${key}" is not a user field of ${this.object?.key ?? 'the flow (it names no object)'}`);
    else if (field.type !== 'user') this.error(at, 'not_a_user_field', `"${key}" is a ${field.type} field, not a user field`);
  }

  // ---- service actions -------------------------------------------------------------------

  private objectNamed(key: string | undefined, at: (string | number)[]): ObjectDef | undefined {
    if (key === undefined) return this.object;
    const object = this.c.doc.objects.find((o) => o.key === key && !o.deleted);
    if (!object) this.error(at, 'unknown_object', `object "${key}" is not an object of the app`);
    return object;
  }

  private writableField(object: ObjectDef | undefined, key: string, at: (string | number)[]) {
    if (!object) return this.error(at, 'unknown_field', `"${key}" names a field, and there is no object to look it up in`);
    const field = liveField(object, key);
    if (!field) return this.error(at, 'unknown_field', `"${key}" is not a field of ${object.key}`);
    if (isComputed(field)) return this.error(at, 'computed_field', `"${key}" is a ${field.type} field, computed and not writable`);
    return field;
  }

  private values(object: ObjectDef | undefined, values: Record<string, unknown>, at: (string | number)[]): void {
    for (const [key, expr] of Object.entries(values)) {
      const field = this.writableField(object, key, [...at, key]);
      if (field) this.valueFor(expr, valueKindOfField(field), [...at, key]);
    }
  }

  private variable(name: string, at: (string | number)[]) {
    const v = this.c.flow.variables?.find((x) => x.name === name);
    if (!v) this.error(at, 'unknown_variable', `variable "${name}" is not declared in the flow's variables`);
    return v;
  }

  private action(action: ServiceAction): void {
    const at = ['action'];
    switch (action.type) {
      case 'createRecord': {
        const object = this.objectNamed(action.object, [...at, 'object']);
        if (object) this.values(object, action.values, [...at, 'values']);
        if (action.resultVariable !== undefined) this.variable(action.resultVariable, [...at, 'resultVariable']);
        return;
      }
      case 'updateRecord': {
        if (action.object === undefined && !this.c.flow.object) this.error([...at, 'object'], 'needs_object', 'the flow names no object, so the update must name one');
        const object = this.objectNamed(action.object, [...at, 'object']);
        if (action.object !== undefined && action.object !== this.c.flow.object && action.record === undefined) {
          this.error([...at, 'record'], 'required', `updating a ${action.object} that is not the flow's own record needs a record id expression`);
        }
        if (action.record !== undefined) this.expression(action.record, [...at, 'record'], 'text');
        if (object) this.values(object, action.values, [...at, 'values']);
        return;
      }
      case 'queryRecords': {
        const object = this.objectNamed(action.object, [...at, 'object']);
        if (object && action.filter !== undefined) {
          for (const i of checkFlowFilter(this.c.doc, this.c.flow, object, action.filter)) this.error([...at, 'filter', ...split(i.path)], i.code, `filter: ${i.message}`);
        }
        if (object && action.sort !== undefined) {
          const key = action.sort.replace(/^-/, '');
          if (!liveField(object, key) && !(SYSTEM_FIELDS as readonly string[]).includes(key)) this.error([...at, 'sort'], 'unknown_field', `sort field "${key}" is not a field of ${object.key}`);
        }
        const v = this.variable(action.resultVariable, [...at, 'resultVariable']);
        if (v && v.type !== 'list') this.error([...at, 'resultVariable'], 'type_mismatch', `variable "${v.name}" is a ${v.type}; query results are a list`);
        return;
      }
      case 'notify':
        if (action.recipients.length === 0) this.error([...at, 'recipients'], 'no_assignees', 'a notification needs at least one recipient rule');
        this.assignees(action.recipients, [...at, 'recipients']);
        this.expression(action.message, [...at, 'message']);
        return;
      case 'email':
        this.expression(action.to, [...at, 'to']);
        this.expression(action.subject, [...at, 'subject']);
        this.expression(action.body, [...at, 'body']);
        return;
      case 'http':
        this.expression(action.url, [...at, 'url'], 'text');
        for (const [name, expr] of Object.entries(action.headers ?? {})) this.expression(expr, [...at, 'headers', name]);
        if (action.body !== undefined) this.expression(action.body, [...at, 'body']);
        if (action.resultVariable !== undefined) this.variable(action.resultVariable, [...at, 'resultVariable']);
        return;
      case 'setVariables':
        for (const [name, expr] of Object.entries(action.values)) {
          const v = this.variable(name, [...at, 'values', name]);
          if (v) this.valueFor(expr, v.type, [...at, 'values', name]);
        }
        return;
    }
  }
}

