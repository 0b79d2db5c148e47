import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { ProblemError, findField, isProblemError, type AppDocument, type AutomationRule, type ObjectDef } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import type { RecordChange, WriteContext, WriteWarning } from '@tessera/store';
import { compileRule, truthy, type CompiledRule } from '../expressions/compile';

type Values = Array<[fieldKey: string, value: CompiledRule]>;

type CompiledAction =
  | { type: 'setFields'; values: Values }
  | { type: 'createRecord'; object: string; values: Values }
  | { type: 'createTask'; assignee: CompiledRule; title: CompiledRule; dueDate?: CompiledRule }
  | { type: 'notify'; recipients: CompiledRule; message: CompiledRule }
  | { type: 'startFlow'; flow: string };

export interface CompiledAutomation {
  rule: AutomationRule;
  /** update only: field ids one of which must change; null = any change */
  changedIds: string[] | null;
  condition?: CompiledRule;
  actions: CompiledAction[];
  /** every compiled expression above, so the engine can pre-load the relations they read */
  expressions: CompiledRule[];
}

export function compileAutomations(object: ObjectDef, app: AppDocument): CompiledAutomation[] {
  return (app.rules ?? [])
    .filter((rule) => rule.object === object.key && rule.active !== false)
    .map((rule) => {
      const actions = rule.actions.map((a) => compileAction(a, object, app));
      const compiled: CompiledAutomation = {
        rule,
        changedIds: rule.changedFields?.length ? rule.changedFields.map((k) => findField(object, k)?.id ?? `?${k}`) : null,
        actions,
        expressions: actions.flatMap(expressionsOf),
      };
      if (rule.condition !== undefined) {
        compiled.condition = compileRule(rule.condition, object, app);
        compiled.expressions.push(compiled.condition);
      }
      return compiled;
    });
}

function compileAction(action: AutomationRule['actions'][number], object: ObjectDef, app: AppDocument): CompiledAction {
  const c = (e: unknown) => compileRule(e, object, app);
  const values = (v: Record<string, unknown>): Values => Object.entries(v).map(([k, e]) => [k, c(e)]);
  switch (action.type) {
    case 'setFields':
      return { type: 'setFields', values: values(action.values) };
    case 'createRecord':
      return { type: 'createRecord', object: action.object, values: values(action.values) };
    case 'createTask':
      return { type: 'createTask', assignee: c(action.assignee), title: c(action.title), ...(action.dueDate !== undefined ? { dueDate: c(action.dueDate) } : {}) };
    case 'notify':
      return { type: 'notify', recipients: c(action.recipients), message: c(action.message) };
    case 'startFlow':
      return { type: 'startFlow', flow: action.flow };
  }
}

function expressionsOf(action: CompiledAction): CompiledRule[] {
  switch (action.type) {
    case 'setFields':
    case 'createRecord':
      return action.values.map(([, e]) => e);
    case 'createTask':
      return [action.assignee, action.title, ...(action.dueDate ? [action.dueDate] : [])];
    case 'notify':
      return [action.recipients, action.message];
    case 'startFlow':
      return [];
  }
}

/**
 * Runs the automations this write triggers, synchronously in its transaction. Their own
 * writes go through the whole pipeline one level deeper, so a chain that keeps
 * triggering itself hits the depth limit and the entire write is rolled back.
 */
export async function runAutomations(
  ctx: WriteContext,
  automations: readonly CompiledAutomation[],
  change: RecordChange,
  view: Record<string, unknown>,
  env: EvalEnv,
): Promise<WriteWarning[]> {
  const event = change.action === 'restore' ? null : change.action;
  if (!event) return [];
  const warnings: WriteWarning[] = [];
  for (const automation of automations) {
    if (!automation.rule.on.includes(event)) continue;
    if (event === 'update' && automation.changedIds && !automation.changedIds.some((id) => changed(change, id))) continue;
    if (automation.condition && !truthy(automation.condition.run(view, env))) continue;
    try {
      for (const action of automation.actions) {
        const warning = await runAction(ctx, automation.rule, action, change, view, env);
        if (warning) warnings.push(warning);
      }
    } catch (e) {
      throw failed(automation.rule, e);
    }
  }
  return warnings;
}

function changed(change: RecordChange, id: string): boolean {
  return JSON.stringify(change.before?.[id]) !== JSON.stringify(change.after[id]);
}

async function runAction(
  ctx: WriteContext,
  rule: AutomationRule,
  action: CompiledAction,
  change: RecordChange,
  view: Record<string, unknown>,
  env: EvalEnv,
): Promise<WriteWarning | null> {
  const evaluate = (values: Values) => Object.fromEntries(values.map(([k, e]) => [k, e.run(view, env)]));
  switch (action.type) {
    case 'setFields':
      if (change.action !== 'delete') await ctx.records.update(ctx.object.key, change.id, evaluate(action.values), 'flow');
      return null;
    case 'createRecord':
      await ctx.records.create(action.object, evaluate(action.values), 'flow');
      return null;
    case 'createTask':
      await createTask(ctx, rule, change, action.assignee.run(view, env), action.title.run(view, env), action.dueDate?.run(view, env));
      return null;
    case 'notify':
      await notify(ctx, rule, change, action.recipients.run(view, env), action.message.run(view, env));
      return null;
    case 'startFlow':
      if (change.action === 'delete') return null;
      if (!ctx.startFlow) {
        return { rule: rule.key, code: 'flow_unavailable', message: `flow "${action.flow}" was not started: no workflow engine runs this write`, fields: [] };
      }
      await ctx.startFlow(action.flow, change.id);
      return null;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

async function createTask(ctx: WriteContext, rule: AutomationRule, change: RecordChange, assignee: unknown, title: unknown, due: unknown): Promise<void> {
  const userId = await existingUser(ctx, assignee, 'assignee');
  const text = typeof title === 'string' || typeof title === 'number' ? String(title).trim() : '';
  if (!text) throw invalid('title', 'the task title is empty');
  if (due !== undefined && due !== null && !(typeof due === 'string' && DATE.test(due.slice(0, 10)))) throw invalid('dueDate', 'the due date is not a date');
  await sql`
    INSERT INTO tasks (workspace_id, id, user_id, title, due_date, record_id, object_id, source)
    VALUES (${ctx.actor.workspaceId}, ${uuidv7()}, ${userId}, ${text.slice(0, 1000)}, ${typeof due === 'string' ? due.slice(0, 10) : null},
            ${change.id}, ${ctx.object.id!}, ${`automation:${rule.key}`})`.execute(ctx.trx);
}

async function notify(ctx: WriteContext, rule: AutomationRule, change: RecordChange, recipients: unknown, text: unknown): Promise<void> {
  const list = (Array.isArray(recipients) ? recipients : [recipients]).filter((r) => r !== null && r !== undefined);
  if (list.length === 0) throw invalid('recipients', 'no recipient');
  const message = typeof text === 'string' || typeof text === 'number' ? String(text).trim() : '';
  if (!message) throw invalid('message', 'the message is empty');
  for (const recipient of new Set(list)) {
    const userId = await existingUser(ctx, recipient, 'recipients');
    await sql`
      INSERT INTO notifications (workspace_id, id, user_id, message, record_id, object_id, source)
      VALUES (${ctx.actor.workspaceId}, ${uuidv7()}, ${userId}, ${message.slice(0, 4000)}, ${change.id}, ${ctx.object.id!}, ${`automation:${rule.key}`})`.execute(ctx.trx);
  }
}

async function existingUser(ctx: WriteContext, value: unknown, field: string): Promise<string> {
  if (typeof value !== 'string' || !UUID.test(value)) throw invalid(field, `${JSON.stringify(value ?? null)} is not a user id`);
  const found = await ctx.trx
    .selectFrom('users')
    .select('id')
    .where('workspace_id', '=', ctx.actor.workspaceId)
    .where('id', '=', value.toLowerCase())
    .executeTakeFirst();
  if (!found) throw invalid(field, `no user with id ${value}`);
  return found.id;
}

function invalid(field: string, text: string): ProblemError {
  return new ProblemError('unprocessable', text, [{ field, code: 'invalid', message: text }]);
}

/** Names the automation that failed; the innermost name wins in a chain. */
function failed(rule: AutomationRule, e: unknown): unknown {
  if (!isProblemError(e) || e.extra.automation !== undefined) return e;
  return new ProblemError(e.kind, `Automation "${rule.key}" failed: ${e.message}`, e.errors, { ...e.extra, automation: rule.key });
}
