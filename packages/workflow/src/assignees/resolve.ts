/**
 * Who gets a user task: the union of the node's assignee rules, resolved against the people
 * tables (users, user_roles) when the task starts, so that a change of owner or role holder
 * after publishing is honoured by every new task.
 *
 * Guarantees the engine relies on: the result holds distinct ids in rule order (sequential
 * approvals follow it; a role's holders come ordered by email so the order is stable across
 * runs and databases), and only enabled users of the flow's workspace — an id from a record
 * or an expression that names a disabled user, a user of another workspace or no user at all
 * is dropped, never trusted. Nothing resolving gives [], which the engine turns into an
 * incident an admin can fix (startApproval refuses an empty list).
 *
 * A `manager` rule without a field reads the record's owner, or, in a flow without a record,
 * the user who started the instance.
 *
 * Rules that do not fit the object (a field that is not a user field) resolve to nobody here;
 * flow validation names them before publish.
 */
import type { ObjectDef } from '@tessera/metadata';
import type { SystemDatabase } from '@tessera/store';
import type { Kysely, Transaction } from 'kysely';
import type { AssigneeRule } from '../model/types';

export interface AssigneeContext {
  workspaceId: string;
  appId: string;
  /** the flow's record by field key (with owner_id, created_by), or null */
  record: Record<string, unknown> | null;
  /** the object the record belongs to (to find user fields by key) */
  object: ObjectDef | null;
  startedBy: string | null;
  /** evaluates an `expression` rule (the engine passes compileFlowExpression(...).run bound to the instance) */
  evaluate(expr: unknown): unknown;
}

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

/** system fields that hold a user id */
export const USER_SYSTEM_FIELDS = ['owner_id', 'created_by', 'updated_by'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asUserId(value: unknown): string | null {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : null;
}

/** whether `key` names a field holding one user id: a live `user` field of the object, or a system user field */
export function isUserFieldKey(object: ObjectDef | null, key: string): boolean {
  if ((USER_SYSTEM_FIELDS as readonly string[]).includes(key)) return true;
  return object?.fields.some((f) => f.key === key && f.type === 'user' && !f.deleted) ?? false;
}

function userInField(ctx: AssigneeContext, key: string): string | null {
  if (!ctx.record || !isUserFieldKey(ctx.object, key)) return null;
  return asUserId(ctx.record[key]);
}

async function roleHolders(db: Db, ctx: AssigneeContext, role: string): Promise<string[]> {
  const rows = await db
    .selectFrom('user_roles as r')
    .innerJoin('users as u', (join) => join.onRef('u.workspace_id', '=', 'r.workspace_id').onRef('u.id', '=', 'r.user_id'))
    .select('u.id')
    .where('r.workspace_id', '=', ctx.workspaceId)
    .where('r.app_id', '=', ctx.appId)
    .where('r.role_key', '=', role)
    .where('u.disabled_at', 'is', null)
    .orderBy('u.email')
    .orderBy('u.id')
    .execute();
  return rows.map((r) => r.id);
}

async function managerOf(db: Db, ctx: AssigneeContext, userId: string | null): Promise<string | null> {
  if (!userId) return null;
  const row = await db
    .selectFrom('users')
    .select('manager_id')
    .where('workspace_id', '=', ctx.workspaceId)
    .where('id', '=', userId)
    .executeTakeFirst();
  return row?.manager_id ?? null;
}

function fromExpression(ctx: AssigneeContext, expression: unknown): string[] {
  const value = ctx.evaluate(expression);
  const values = Array.isArray(value) ? value : [value];
  return values.map(asUserId).filter((id): id is string => id !== null);
}

async function candidatesOf(db: Db, ctx: AssigneeContext, rule: AssigneeRule): Promise<string[]> {
  switch (rule.type) {
    case 'user':
      return [asUserId(rule.userId)].filter((id): id is string => id !== null);
    case 'role':
      return roleHolders(db, ctx, rule.role);
    case 'field':
      return [userInField(ctx, rule.field)].filter((id): id is string => id !== null);
    case 'manager': {
      // a flow without a record (scheduled, API) asks for the manager of whoever started it
      const of = rule.field === undefined && !ctx.record ? asUserId(ctx.startedBy) : userInField(ctx, rule.field ?? 'owner_id');
      const manager = asUserId(await managerOf(db, ctx, of));
      return manager ? [manager] : [];
    }
    case 'expression':
      return fromExpression(ctx, rule.expression);
    default:
      return [];
  }
}

/** distinct ids of enabled users in the workspace, in rule order; [] when none resolve */
export async function resolveAssignees(db: Db, ctx: AssigneeContext, rules: AssigneeRule[]): Promise<string[]> {
  const candidates: string[] = [];
  for (const rule of rules) candidates.push(...(await candidatesOf(db, ctx, rule)));
  const distinct = [...new Set(candidates)];
  if (distinct.length === 0) return [];
  const enabled = await db
    .selectFrom('users')
    .select('id')
    .where('workspace_id', '=', ctx.workspaceId)
    .where('id', 'in', distinct)
    .where('disabled_at', 'is', null)
    .execute();
  const keep = new Set(enabled.map((r) => r.id));
  return distinct.filter((id) => keep.has(id));
}
