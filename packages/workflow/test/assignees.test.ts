import type { ObjectDef } from '@tessera/metadata';
import { openTestDatabase, type Database } from '@tessera/store';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAssignees, type AssigneeContext } from '../src/assignees';
import type { AssigneeRule } from '../src/model/types';

let database: Database;
const ws = randomUUID();
const otherWs = randomUUID();
const appId = randomUUID();
const otherApp = randomUUID();
// named by role in the story; emails chosen so that email order differs from insertion order
const u = {
  boss: randomUUID(),
  owner: randomUUID(),
  zoe: randomUUID(),
  amy: randomUUID(),
  gone: randomUUID(),
  reviewer: randomUUID(),
  outsider: randomUUID(),
};

const object: ObjectDef = {
  key: 'deal',
  label: { en: 'Deal' },
  fields: [
    { key: 'title', type: 'text', label: { en: 'Title' } },
    { key: 'reviewer', type: 'user', label: { en: 'Reviewer' } },
    { key: 'old_reviewer', type: 'user', label: { en: 'Old reviewer' }, deleted: true },
  ],
};

beforeAll(async () => {
  database = await openTestDatabase();
  const { db } = database;
  await db.insertInto('workspaces').values([{ workspace_id: ws, name: 'acme' }, { workspace_id: otherWs, name: 'other' }]).execute();
  const user = (id: string, email: string, extra: { manager_id?: string; disabled_at?: Date } = {}, workspace_id = ws) => ({ workspace_id, id, email, ...extra });
  await db
    .insertInto('users')
    .values([
      user(u.boss, 'boss@acme.test'),
      user(u.owner, 'owner@acme.test', { manager_id: u.boss }),
      user(u.zoe, 'zoe@acme.test', { manager_id: u.gone }),
      user(u.amy, 'amy@acme.test'),
      user(u.gone, 'gone@acme.test', { disabled_at: new Date() }),
      user(u.reviewer, 'reviewer@acme.test', { manager_id: u.owner }),
      user(u.outsider, 'outsider@other.test', {}, otherWs),
    ])
    .execute();
  await db
    .insertInto('user_roles')
    .values([
      { workspace_id: ws, app_id: appId, user_id: u.zoe, role_key: 'manager' },
      { workspace_id: ws, app_id: appId, user_id: u.amy, role_key: 'manager' },
      { workspace_id: ws, app_id: appId, user_id: u.gone, role_key: 'manager' },
      { workspace_id: ws, app_id: otherApp, user_id: u.boss, role_key: 'manager' },
      { workspace_id: otherWs, app_id: appId, user_id: u.outsider, role_key: 'manager' },
    ])
    .execute();
});

afterAll(async () => {
  await database?.close();
});

function context(record: Record<string, unknown> | null, extra: Partial<AssigneeContext> = {}): AssigneeContext {
  return {
    workspaceId: ws,
    appId,
    record,
    object,
    startedBy: null,
    evaluate: () => {
      throw new Error('no expression expected');
    },
    ...extra,
  };
}
const deal = { id: randomUUID(), title: 'Big one', owner_id: u.owner, created_by: u.amy, reviewer: u.reviewer };
const resolve = (rules: AssigneeRule[], ctx = context(deal)) => resolveAssignees(database.db, ctx, rules);

describe('resolveAssignees', () => {
  it('a user rule keeps an enabled user of the workspace and drops the rest', async () => {
    expect(await resolve([{ type: 'user', userId: u.amy }])).toEqual([u.amy]);
    expect(await resolve([{ type: 'user', userId: u.gone }])).toEqual([]);
    expect(await resolve([{ type: 'user', userId: u.outsider }])).toEqual([]);
    expect(await resolve([{ type: 'user', userId: randomUUID() }])).toEqual([]);
    expect(await resolve([{ type: 'user', userId: 'not-a-uuid' }])).toEqual([]);
    expect(await resolve([{ type: 'user', userId: u.amy.toUpperCase() }])).toEqual([u.amy]);
  });

  it('a role rule gives its enabled holders in this app and workspace, ordered by email', async () => {
    expect(await resolve([{ type: 'role', role: 'manager' }])).toEqual([u.amy, u.zoe]);
    expect(await resolve([{ type: 'role', role: 'nobody' }])).toEqual([]);
    expect(await resolveAssignees(database.db, context(deal, { appId: otherApp }), [{ type: 'role', role: 'manager' }])).toEqual([u.boss]);
  });

  it('a field rule reads a user field or a system user field of the record', async () => {
    expect(await resolve([{ type: 'field', field: 'owner_id' }])).toEqual([u.owner]);
    expect(await resolve([{ type: 'field', field: 'created_by' }])).toEqual([u.amy]);
    expect(await resolve([{ type: 'field', field: 'reviewer' }])).toEqual([u.reviewer]);
    // not a user field, a deleted one, an empty one, or no record at all: nobody
    expect(await resolve([{ type: 'field', field: 'title' }], context({ ...deal, title: u.amy }))).toEqual([]);
    expect(await resolve([{ type: 'field', field: 'old_reviewer' }], context({ ...deal, old_reviewer: u.amy }))).toEqual([]);
    expect(await resolve([{ type: 'field', field: 'reviewer' }], context({ ...deal, reviewer: null }))).toEqual([]);
    expect(await resolve([{ type: 'field', field: 'owner_id' }], context(null))).toEqual([]);
    // a record pointing at another workspace's user does not reach them
    expect(await resolve([{ type: 'field', field: 'reviewer' }], context({ ...deal, reviewer: u.outsider }))).toEqual([]);
  });

  it("a manager rule follows manager_id of the owner, or of a named field's user; a disabled manager is dropped", async () => {
    expect(await resolve([{ type: 'manager' }])).toEqual([u.boss]);
    expect(await resolve([{ type: 'manager', field: 'reviewer' }])).toEqual([u.owner]);
    expect(await resolve([{ type: 'manager' }], context({ ...deal, owner_id: u.zoe }))).toEqual([]);
    expect(await resolve([{ type: 'manager' }], context({ ...deal, owner_id: u.amy }))).toEqual([]);
    // without a record: the manager of whoever started the instance
    expect(await resolve([{ type: 'manager' }], context(null, { startedBy: u.reviewer }))).toEqual([u.owner]);
  });

  it('an expression rule takes a user id or a list of them and ignores anything else', async () => {
    const evaluating = (value: unknown) => context(deal, { evaluate: () => value });
    const rule: AssigneeRule[] = [{ type: 'expression', expression: { var: 'x' } }];
    expect(await resolve(rule, evaluating(u.amy))).toEqual([u.amy]);
    expect(await resolve(rule, evaluating([u.zoe, 42, null, u.gone, 'x', u.amy, u.zoe]))).toEqual([u.zoe, u.amy]);
    expect(await resolve(rule, evaluating({ id: u.amy }))).toEqual([]);
    expect(await resolve(rule, evaluating(null))).toEqual([]);
    const seen: unknown[] = [];
    await resolve(rule, context(deal, { evaluate: (e) => (seen.push(e), u.amy) }));
    expect(seen).toEqual([{ var: 'x' }]);
  });

  it('the union is distinct and keeps rule order', async () => {
    const rules: AssigneeRule[] = [
      { type: 'field', field: 'reviewer' },
      { type: 'role', role: 'manager' },
      { type: 'user', userId: u.amy },
      { type: 'manager' },
      { type: 'field', field: 'owner_id' },
      { type: 'user', userId: u.gone },
    ];
    expect(await resolve(rules)).toEqual([u.reviewer, u.amy, u.zoe, u.boss, u.owner]);
    expect(await resolve([])).toEqual([]);
  });

  it('never resolves across workspaces, even for a role held there with the same app id', async () => {
    const ctx = context({ ...deal, owner_id: u.outsider, reviewer: u.outsider }, { workspaceId: otherWs });
    expect(await resolveAssignees(database.db, ctx, [{ type: 'role', role: 'manager' }, { type: 'user', userId: u.amy }, { type: 'field', field: 'reviewer' }])).toEqual([u.outsider]);
  });

  it('works inside a transaction', async () => {
    const ids = await database.db.transaction().execute((trx) => resolveAssignees(trx, context(deal), [{ type: 'role', role: 'manager' }]));
    expect(ids).toEqual([u.amy, u.zoe]);
  });
});
