import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020';
import { randomUUID } from 'node:crypto';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import {
  MetadataRepository,
  OrgRepository,
  RecordRepository,
  ShareRepository,
  checkRoles,
  loadAccessPolicy,
  openTestDatabase,
  refusal,
  roleDefSchema,
  type AccessPolicy,
  type Actor,
  type Database,
  type RoleDef,
} from '../src/index';

function crm(roles: RoleDef[] = []): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: { en: 'Deal' },
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title' }, required: true },
          { key: 'amount', type: 'number', label: { en: 'Amount' } },
          { key: 'stage', type: 'text', label: { en: 'Stage' } },
          { key: 'notes', type: 'longtext', label: { en: 'Notes' } },
        ],
      },
    ],
    roles,
  };
}

const FULL = { create: true, read: true, update: true, delete: true, import: true, export: true } as const;

/** Every property of the role model set: the schema must accept it, so types and schema stay in step. */
const fullyPopulated: RoleDef = {
  key: 'sales_rep',
  name: { en: 'Sales rep', zh: '销售' },
  description: { en: 'Sees their team’s deals', zh: '查看本团队的交易' },
  objects: {
    deal: {
      ...FULL,
      scope: { expression: { '==': [{ var: 'owner_id' }, { currentUser: [] }] } },
      fields: { amount: 'read', notes: 'none', title: 'write' },
    },
  },
};

describe('role model', () => {
  it('a fully populated typed role validates against the JSON Schema', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(roleDefSchema);
    expect(validate(fullyPopulated), JSON.stringify(validate.errors)).toBe(true);
    expect(checkRoles(crm([fullyPopulated, { ...fullyPopulated, key: 'manager', objects: { deal: { ...FULL, scope: 'team' } } }]))).toEqual([]);
  });

  it('names each problem by its path under roles/<i>', () => {
    const errors = checkRoles(
      crm([
        { key: 'a', name: { en: 'A' }, objects: { invoice: { ...FULL, scope: 'all' } } },
        { key: 'a', name: { en: 'A again' }, objects: { deal: { ...FULL, scope: 'own', fields: { price: 'read' } } } },
        { key: 'c', name: { en: 'C' }, objects: { deal: { ...FULL, scope: { expression: { '+': [{ var: 'amount' }, 1] } } } } },
        { key: 'd', name: { en: 'D' }, objects: { deal: { ...FULL, scope: { expression: { '==': [{ var: 'nope' }, 1] } } } } },
      ]),
    );
    const fields = errors.map((e) => e.field);
    expect(fields).toContain('roles/0/objects/invoice');
    expect(fields).toContain('roles/1/key');
    expect(fields).toContain('roles/1/objects/deal/fields/price');
    expect(fields.some((f) => f.startsWith('roles/2/objects/deal/scope/expression'))).toBe(true);
    expect(fields.some((f) => f.startsWith('roles/3/objects/deal/scope/expression'))).toBe(true);
  });

  it('refuses a malformed role by its path', () => {
    const bad = crm([{ key: 'x', name: { en: 'X' }, objects: { deal: { ...FULL, scope: 'company' } } } as unknown as RoleDef]);
    expect(checkRoles(bad).some((e) => e.field.startsWith('roles/0/objects/deal/scope'))).toBe(true);
    const missing = crm([{ key: 'y', name: { en: 'Y' }, objects: { deal: { read: true, scope: 'all' } } } as unknown as RoleDef]);
    expect(checkRoles(missing).map((e) => e.field)).toContain('roles/0/objects/deal/create');
  });

  it('a draft with an invalid role is not saved', async () => {
    const database = await openTestDatabase();
    try {
      const actor = await workspace(database);
      const meta = new MetadataRepository(database.db, { documentChecks: [checkRoles] });
      const bad = crm([{ key: 'r', name: { en: 'R' }, objects: { deal: { ...FULL, scope: 'all', fields: { ghost: 'read' } } } }]);
      const refused = await refusal(meta.createApp(actor, { key: 'crm', draft: bad }));
      expect(refused.errors.map((e) => e.field)).toContain('roles/0/objects/deal/fields/ghost');
    } finally {
      await database.close();
    }
  });
});

async function workspace(database: Database): Promise<Actor> {
  const workspaceId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'w' }).execute();
  const userId = await addUser(database, workspaceId);
  return { workspaceId, userId, source: 'api' };
}

async function addUser(database: Database, workspaceId: string): Promise<string> {
  const id = randomUUID();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id, email: `${id}@example.com` }).execute();
  return id;
}

describe('policy on the record repository', () => {
  let database: Database;
  let admin: Actor;
  let app: PublishedApp;
  let org: OrgRepository;
  const roles: RoleDef[] = [
    { key: 'rep', name: { en: 'Rep' }, objects: { deal: { ...FULL, delete: false, scope: 'own', fields: { amount: 'read', notes: 'none' } } } },
    { key: 'viewer', name: { en: 'Viewer' }, objects: { deal: { create: false, read: true, update: false, delete: false, import: false, export: false, scope: 'team' } } },
    { key: 'closer', name: { en: 'Closer' }, objects: { deal: { ...FULL, scope: { expression: { '==': [{ var: 'stage' }, 'won'] } } } } },
  ];

  beforeAll(async () => {
    database = await openTestDatabase();
    admin = await workspace(database);
    const meta = new MetadataRepository(database.db, { documentChecks: [checkRoles] });
    await meta.createApp(admin, { key: 'crm', draft: crm(roles) });
    await meta.publish(admin, 'crm');
    app = await meta.getPublished(admin.workspaceId, 'crm');
    org = new OrgRepository(database.db);
  });

  afterAll(async () => {
    await database?.close();
  });

  async function as(userId: string, tokenRoles: string[] | null = null): Promise<RecordRepository> {
    const access = await loadAccessPolicy(database.db, app, { workspaceId: admin.workspaceId, userId, isAdmin: false, tokenRoles });
    return new RecordRepository(database.db, app, { access });
  }
  const actor = (userId: string): Actor => ({ workspaceId: admin.workspaceId, userId, source: 'api' });
  const env = { now: new Date() };
  const system = () => new RecordRepository(database.db, app);

  it('a user without a role sees nothing and may do nothing', async () => {
    const nobody = await addUser(database, admin.workspaceId);
    const repo = await as(nobody);
    expect((await refusal(repo.list(admin.workspaceId, 'deal', {}, env))).kind).toBe('forbidden');
    expect((await refusal(repo.create(actor(nobody), 'deal', { title: 'x' }))).kind).toBe('forbidden');
  });

  it('own scope, read-only and hidden fields on create, update and reads', async () => {
    const rep = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, rep, 'rep');
    const repo = await as(rep);
    const refused = await refusal(repo.create(actor(rep), 'deal', { title: 'mine', amount: 5, notes: 'x' }));
    expect(refused.kind).toBe('forbidden');
    expect(refused.errors.map((e) => e.field).sort()).toEqual(['amount', 'notes']);
    const mine = await repo.create(actor(rep), 'deal', { title: 'mine' });
    const other = await system().create(admin, 'deal', { title: 'theirs', notes: 'private' });
    await system().update(admin, 'deal', mine.id, { notes: 'hidden from rep', amount: 10 }, mine.version);
    const read = await repo.get(admin.workspaceId, 'deal', mine.id);
    expect(read.amount).toBe(10);
    expect('notes' in read).toBe(false);
    expect((await refusal(repo.get(admin.workspaceId, 'deal', other.id))).kind).toBe('not_found');
    expect((await refusal(repo.update(actor(rep), 'deal', other.id, { title: 'stolen' }, 1))).kind).toBe('not_found');
    expect((await refusal(repo.update(actor(rep), 'deal', mine.id, { amount: 99 }, read.version))).errors[0]!.field).toBe('amount');
    expect((await refusal(repo.delete(actor(rep), 'deal', mine.id))).kind).toBe('forbidden');
    // a hidden field is unknown to filters, sorts and search
    expect((await refusal(repo.list(admin.workspaceId, 'deal', { filter: { '==': [{ var: 'notes' }, 'x'] } }, env))).kind).toBe('bad_request');
    expect((await refusal(repo.list(admin.workspaceId, 'deal', { sort: '-notes' }, env))).kind).toBe('bad_request');
    expect((await repo.list(admin.workspaceId, 'deal', { q: 'hidden' }, env)).items).toEqual([]);
    expect((await repo.list(admin.workspaceId, 'deal', { q: 'mine' }, env)).items.map((r) => r.id)).toEqual([mine.id]);
  });

  it('a manager reaches their reports’ records, a cycle in the chart included', async () => {
    const boss = await addUser(database, admin.workspaceId);
    const mid = await addUser(database, admin.workspaceId);
    const junior = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, boss, 'rep');
    await org.setManager(admin.workspaceId, mid, boss);
    await org.setManager(admin.workspaceId, junior, mid);
    expect((await refusal(org.setManager(admin.workspaceId, boss, junior))).errors[0]!.code).toBe('cycle');
    const record = await system().create(actor(junior), 'deal', { title: 'junior deal' });
    expect((await (await as(boss)).get(admin.workspaceId, 'deal', record.id)).id).toBe(record.id);
    // a cycle written behind the API's back still terminates
    await database.db.updateTable('users').set({ manager_id: junior }).where('id', '=', boss).execute();
    expect((await (await as(boss)).get(admin.workspaceId, 'deal', record.id)).id).toBe(record.id);
    await database.db.updateTable('users').set({ manager_id: null }).where('id', '=', boss).execute();
  });

  it('team scope: members of my teams and of the sub-teams of teams I manage', async () => {
    const lead = await addUser(database, admin.workspaceId);
    const member = await addUser(database, admin.workspaceId);
    const stranger = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, lead, 'viewer');
    const parent = await org.createTeam(admin.workspaceId, { name: 'Sales', managerId: lead });
    const child = await org.createTeam(admin.workspaceId, { name: 'Sales East', parentId: parent.id });
    await org.addMember(admin.workspaceId, child.id, member);
    expect((await refusal(org.updateTeam(admin.workspaceId, parent.id, { parentId: child.id }))).errors[0]!.code).toBe('cycle');
    const theirs = await system().create(actor(member), 'deal', { title: 'east deal' });
    const outside = await system().create(actor(stranger), 'deal', { title: 'west deal' });
    const repo = await as(lead);
    const seen = (await repo.list(admin.workspaceId, 'deal', { limit: 200 }, env)).items.map((r) => r.id);
    expect(seen).toContain(theirs.id);
    expect(seen).not.toContain(outside.id);
    // read-only role: read, but not change
    expect((await refusal(repo.update(actor(lead), 'deal', theirs.id, { title: 'x' }, 1))).kind).toBe('forbidden');
  });

  it('shares: read shares widen reads, edit shares writes; only who may change a record shares it', async () => {
    const closer = await addUser(database, admin.workspaceId);
    const friend = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, closer, 'closer');
    await org.grantRole(admin.workspaceId, app, friend, 'rep');
    const won = await system().create(admin, 'deal', { title: 'won deal', stage: 'won' });
    const open = await system().create(admin, 'deal', { title: 'open deal', stage: 'open' });
    const closerPolicy = await loadAccessPolicy(database.db, app, { workspaceId: admin.workspaceId, userId: closer, isAdmin: false });
    const shares = new ShareRepository(database.db, app, closerPolicy);
    expect((await refusal(shares.share('deal', open.id, { userId: friend, level: 'read' }))).kind).toBe('not_found');
    const share = await shares.share('deal', won.id, { userId: friend, level: 'read' });
    const friendRepo = await as(friend);
    expect((await friendRepo.get(admin.workspaceId, 'deal', won.id)).title).toBe('won deal');
    expect((await refusal(friendRepo.update(actor(friend), 'deal', won.id, { title: 'x' }, won.version))).kind).toBe('forbidden');
    await shares.share('deal', won.id, { userId: friend, level: 'edit' });
    expect((await shares.list('deal', won.id)).map((s) => s.level)).toEqual(['edit']);
    expect((await (await as(friend)).update(actor(friend), 'deal', won.id, { title: 'renamed' }, won.version)).title).toBe('renamed');
    await refusal(shares.unshare('deal', won.id, share.id));
    const current = (await shares.list('deal', won.id))[0]!;
    await shares.unshare('deal', won.id, current.id);
    expect((await refusal((await as(friend)).get(admin.workspaceId, 'deal', won.id))).kind).toBe('not_found');
  });

  it('past a thousand shares the scope asks record_shares instead of listing ids, with the same answers', async () => {
    const reader = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, reader, 'viewer');
    const readable = await system().create(admin, 'deal', { title: 'shared for reading' });
    const editable = await system().create(admin, 'deal', { title: 'shared for editing' });
    const unshared = await system().create(admin, 'deal', { title: 'not shared' });
    const share = (recordId: string, level: 'read' | 'edit') => ({
      workspace_id: admin.workspaceId,
      id: randomUUID(),
      record_id: recordId,
      user_id: reader,
      team_id: null,
      level,
      granted_by: admin.userId,
    });
    // shares of records that no longer exist count towards the limit too
    const filler = Array.from({ length: 1001 }, () => share(randomUUID(), 'read'));
    await database.db.insertInto('record_shares').values([...filler, share(readable.id, 'read'), share(editable.id, 'edit')]).execute();
    const repo = await as(reader);
    const seen = (await repo.list(admin.workspaceId, 'deal', { limit: 200 }, env)).items.map((r) => r.id);
    expect(seen).toEqual(expect.arrayContaining([readable.id, editable.id]));
    expect(seen).not.toContain(unshared.id);
    // the viewer role cannot update, so even an edit share does not let them change it
    expect((await refusal(repo.update(actor(reader), 'deal', editable.id, { title: 'x' }, 1))).kind).toBe('forbidden');
    await database.db.deleteFrom('record_shares').where('user_id', '=', reader).execute();
  });

  it('a token scoped to roles acts with only those the user holds', async () => {
    const both = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, both, 'rep');
    await org.grantRole(admin.workspaceId, app, both, 'closer');
    const won = await system().create(admin, 'deal', { title: 'big win', stage: 'won' });
    expect((await (await as(both)).get(admin.workspaceId, 'deal', won.id)).id).toBe(won.id);
    expect((await refusal((await as(both, ['rep'])).get(admin.workspaceId, 'deal', won.id))).kind).toBe('not_found');
    // a role the user does not hold adds nothing
    expect((await refusal((await as(both, ['viewer'])).list(admin.workspaceId, 'deal', {}, env))).kind).toBe('forbidden');
  });

  it('merge and restore need the write scope on every record they touch', async () => {
    const closer = await addUser(database, admin.workspaceId);
    await org.grantRole(admin.workspaceId, app, closer, 'closer');
    const a = await system().create(admin, 'deal', { title: 'a', stage: 'won' });
    const b = await system().create(admin, 'deal', { title: 'b', stage: 'open' });
    const c = await system().create(admin, 'deal', { title: 'c', stage: 'won' });
    const repo = await as(closer);
    expect((await refusal(repo.merge(actor(closer), 'deal', a.id, b.id, {}))).kind).toBe('not_found');
    const merged = await repo.merge(actor(closer), 'deal', a.id, c.id, { title: 'merged' });
    expect(merged.title).toBe('c');
    await system().delete(admin, 'deal', b.id);
    expect((await refusal(repo.restore(actor(closer), 'deal', b.id))).kind).toBe('not_found');
    expect((await repo.restore(actor(closer), 'deal', c.id)).id).toBe(c.id);
  });
});

describe('computed fields follow their inputs', () => {
  it('a formula or rollup computed from a hidden field is hidden too, unless a role names it', async () => {
    const database = await openTestDatabase();
    try {
      const actor = await workspace(database);
      const read = { create: false, read: true, update: false, delete: false, import: false, export: false, scope: 'all' } as const;
      const doc: AppDocument = {
        objects: [
          {
            key: 'company',
            label: { en: 'Company' },
            titleField: 'name',
            fields: [
              { key: 'name', type: 'text', label: { en: 'Name' }, required: true },
              { key: 'region', type: 'text', label: { en: 'Region' } },
              { key: 'pipeline', type: 'rollup', label: { en: 'Pipeline' }, rollup: { object: 'deal', via: 'company', aggregate: 'sum', field: 'amount' } },
              { key: 'deals', type: 'rollup', label: { en: 'Deals' }, rollup: { object: 'deal', via: 'company', aggregate: 'count' } },
            ],
          },
          {
            key: 'deal',
            label: { en: 'Deal' },
            titleField: 'title',
            fields: [
              { key: 'title', type: 'text', label: { en: 'Title' }, required: true },
              { key: 'amount', type: 'number', label: { en: 'Amount' } },
              { key: 'company', type: 'relation', target: 'company', label: { en: 'Company' } },
              { key: 'big', type: 'formula', resultType: 'boolean', label: { en: 'Big' }, formula: { '>': [{ var: 'amount' }, 100] } },
              { key: 'very_big', type: 'formula', resultType: 'boolean', label: { en: 'Very big' }, formula: { and: [{ var: 'big' }, true] } },
              { key: 'region', type: 'formula', resultType: 'text', label: { en: 'Region' }, formula: { var: 'company.region' } },
            ],
          },
        ],
        roles: [
          { key: 'agent', name: { en: 'Agent' }, objects: { deal: { ...read, fields: { amount: 'none' } }, company: { ...read, fields: { region: 'none' } } } },
          { key: 'analyst', name: { en: 'Analyst' }, objects: { deal: { ...read, fields: { amount: 'none', big: 'read' } } } },
        ],
      };
      const meta = new MetadataRepository(database.db, { documentChecks: [checkRoles] });
      await meta.createApp(actor, { key: 'crm', draft: doc });
      await meta.publish(actor, 'crm');
      const app = await meta.getPublished(actor.workspaceId, 'crm');
      // formulas and rollups are computed by the rule engine, which the store does not run: ask the policy
      const org = new OrgRepository(database.db);
      const policyOf = async (role: string) => {
        const user = await addUser(database, actor.workspaceId);
        await org.grantRole(actor.workspaceId, app, user, role);
        return loadAccessPolicy(database.db, app, { workspaceId: actor.workspaceId, userId: user, isAdmin: false });
      };
      const object = (key: string) => app.document.objects.find((o) => o.key === key)!;
      const visible = (policy: AccessPolicy, objectKey: string) =>
        object(objectKey)
          .fields.filter((f) => policy.canReadField(object(objectKey), f))
          .map((f) => f.key);
      const agent = await policyOf('agent');
      // amount is hidden, so is what is computed from it (directly or through another formula);
      // the region formula reads a hidden company field
      expect(visible(agent, 'deal')).toEqual(['title', 'company']);
      // the sum of a hidden field is hidden, a count is not
      expect(visible(agent, 'company')).toEqual(['name', 'deals']);
      // a role that names the formula shows it; what it is computed from stays hidden
      const analyst = await policyOf('analyst');
      // very_big reads only big, which the role shows on purpose: shown; region reads a company the analyst cannot read: hidden
      expect(visible(analyst, 'deal')).toEqual(['title', 'company', 'big', 'very_big']);
    } finally {
      await database.close();
    }
  });
});
