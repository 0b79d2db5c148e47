import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import {
  MetadataRepository,
  RecordRepository,
  loadAccessPolicy,
  openTestDatabase,
  refusal,
  type Actor,
  type ApiRecord,
  type Database,
  type FieldAccess,
  type ObjectGrant,
  type RoleDef,
} from '../src/index';

/**
 * Random roles x random people (managers, teams, shares) x random records: every read
 * path returns exactly the records a JS oracle of the scope admits and never a hidden
 * field; every write outside the scope or to a field the caller may not write is refused
 * and leaves the stored record as it was.
 */

const FIELDS = ['title', 'stage', 'amount', 'hot', 'notes'] as const;
type FieldKey = (typeof FIELDS)[number];
const SEARCHABLE: FieldKey[] = ['title', 'notes'];
const USERS = 6;
const TEAMS = 3;
const RECORDS = 24;

function app(): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: { en: 'Deal', zh: '交易' },
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title' }, required: true },
          {
            key: 'stage',
            type: 'select',
            label: { en: 'Stage' },
            options: ['new', 'won', 'lost'].map((v) => ({ value: v, label: { en: v } })),
          },
          { key: 'amount', type: 'number', label: { en: 'Amount' } },
          { key: 'hot', type: 'boolean', label: { en: 'Hot' } },
          { key: 'notes', type: 'longtext', label: { en: 'Notes' } },
        ],
      },
    ],
  };
}

type Row = { id: string; owner: string; values: Partial<Record<FieldKey, unknown>> };

/** Scope expressions with their JS meaning. */
const EXPRESSIONS: Array<{ expr: unknown; test: (r: Row, me: string) => boolean }> = [
  { expr: { '==': [{ var: 'stage' }, 'won'] }, test: (r) => r.values.stage === 'won' },
  { expr: { '>': [{ var: 'amount' }, 50] }, test: (r) => typeof r.values.amount === 'number' && r.values.amount > 50 },
  { expr: { '==': [{ var: 'hot' }, true] }, test: (r) => r.values.hot === true },
  { expr: { '==': [{ var: 'owner_id' }, { currentUser: [] }] }, test: (r, me) => r.owner === me },
];

const FILTERS: Array<{ field: FieldKey; expr: unknown; test: (r: Row) => boolean }> = [
  { field: 'stage', expr: { '==': [{ var: 'stage' }, 'new'] }, test: (r) => r.values.stage === 'new' },
  { field: 'amount', expr: { '<': [{ var: 'amount' }, 40] }, test: (r) => typeof r.values.amount === 'number' && r.values.amount < 40 },
  { field: 'hot', expr: { '!': [{ var: 'hot' }] }, test: (r) => !r.values.hot },
];

const scopeArb = fc.oneof(
  fc.constantFrom<ObjectGrant['scope']>('all', 'team', 'own'),
  fc.integer({ min: 0, max: EXPRESSIONS.length - 1 }).map((i) => ({ expression: EXPRESSIONS[i]!.expr, index: i })),
);

const grantArb = fc.record({
  create: fc.boolean(),
  read: fc.boolean(),
  update: fc.boolean(),
  delete: fc.boolean(),
  import: fc.boolean(),
  export: fc.boolean(),
  scope: scopeArb,
  fields: fc.dictionary(fc.constantFrom(...FIELDS), fc.constantFrom<FieldAccess>('read', 'write', 'none'), { maxKeys: 3 }),
});

const worldArb = fc.record({
  roles: fc.array(grantArb, { minLength: 1, maxLength: 3 }),
  /** which of the roles the viewer holds */
  held: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  /** manager of user i is one of users 0..i-1 (or none): a forest, as an org chart is */
  managers: fc.array(fc.option(fc.nat(), { nil: null }), { minLength: USERS, maxLength: USERS }),
  teamManagers: fc.array(fc.option(fc.nat({ max: USERS - 1 }), { nil: null }), { minLength: TEAMS, maxLength: TEAMS }),
  teamParents: fc.array(fc.option(fc.nat(), { nil: null }), { minLength: TEAMS, maxLength: TEAMS }),
  members: fc.array(fc.array(fc.boolean(), { minLength: USERS, maxLength: USERS }), { minLength: TEAMS, maxLength: TEAMS }),
  shares: fc.array(
    fc.record({ record: fc.nat({ max: RECORDS - 1 }), toTeam: fc.boolean(), target: fc.nat(), level: fc.constantFrom<'read' | 'edit'>('read', 'edit') }),
    { maxLength: 6 },
  ),
  viewer: fc.nat({ max: USERS - 1 }),
  filter: fc.nat({ max: FILTERS.length - 1 }),
  search: fc.constantFrom('alpha', 'beta', 'gamma', 'secret'),
  write: fc.record({
    record: fc.nat({ max: RECORDS - 1 }),
    patch: fc.dictionary(
      fc.constantFrom<FieldKey>('stage', 'amount', 'hot', 'notes'),
      fc.oneof(fc.constantFrom('new', 'won'), fc.integer({ min: 0, max: 100 }), fc.boolean(), fc.constant('beta note')),
      { minKeys: 1, maxKeys: 2 },
    ),
    delete: fc.boolean(),
  }),
});
type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

describe('record scopes and field masks (property, against a JS oracle)', () => {
  let database: Database;
  let admin: Actor;
  let published: PublishedApp;
  let users: string[];
  let teams: string[];

  beforeAll(async () => {
    database = await openTestDatabase();
    const workspaceId = randomUUID();
    await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'acme' }).execute();
    users = Array.from({ length: USERS }, () => randomUUID());
    for (const id of users) await database.db.insertInto('users').values({ workspace_id: workspaceId, id, email: `${id}@example.com` }).execute();
    teams = Array.from({ length: TEAMS }, () => randomUUID());
    admin = { workspaceId, userId: users[0]!, source: 'api' };
    const meta = new MetadataRepository(database.db);
    await meta.createApp(admin, { key: 'crm', draft: app() });
    await meta.publish(admin, 'crm');
    published = await meta.getPublished(workspaceId, 'crm');
    const system = new RecordRepository(database.db, published);
    const words = ['alpha', 'beta', 'gamma'];
    const samples = fc.sample(
      fc.record({
        owner: fc.nat({ max: USERS - 1 }),
        stage: fc.option(fc.constantFrom('new', 'won', 'lost'), { nil: undefined }),
        amount: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        hot: fc.option(fc.boolean(), { nil: undefined }),
        word: fc.nat({ max: 2 }),
        secret: fc.boolean(),
      }),
      { numRuns: RECORDS, seed: 11 },
    );
    for (const [i, s] of samples.entries()) {
      const input: Record<string, unknown> = { title: `${words[s.word]} deal ${i}` };
      if (s.stage !== undefined) input.stage = s.stage;
      if (s.amount !== undefined) input.amount = s.amount;
      if (s.hot !== undefined) input.hot = s.hot;
      // a word only the notes hold: a search for it must not find a record whose notes are hidden
      if (s.secret) input.notes = `the secret ${words[(s.word + 1) % 3]}`;
      await system.create({ ...admin, userId: users[s.owner]! }, 'deal', input);
    }
  }, 120_000);

  afterAll(async () => {
    await database?.close();
  });

  /** Writes the random organisation: managers, teams, members, shares and the viewer's roles. */
  async function arrange(w: World, roles: RoleDef[], recordIds: string[]): Promise<void> {
    const ws = admin.workspaceId;
    const db = database.db;
    await db.deleteFrom('record_shares').where('workspace_id', '=', ws).execute();
    await db.deleteFrom('team_members').where('workspace_id', '=', ws).execute();
    await db.deleteFrom('teams').where('workspace_id', '=', ws).execute();
    await db.deleteFrom('user_roles').where('workspace_id', '=', ws).execute();
    for (const [i, id] of users.entries()) {
      const m = w.managers[i];
      await db.updateTable('users').set({ manager_id: i > 0 && m !== null && m !== undefined ? users[m % i]! : null }).where('workspace_id', '=', ws).where('id', '=', id).execute();
    }
    for (const [t, id] of teams.entries()) {
      const manager = w.teamManagers[t];
      const parent = w.teamParents[t];
      await db
        .insertInto('teams')
        .values({ workspace_id: ws, id, name: `team ${t}`, manager_id: manager == null ? null : users[manager]!, parent_id: t > 0 && parent != null ? teams[parent % t]! : null })
        .execute();
      for (const [u, member] of w.members[t]!.entries()) {
        if (member) await db.insertInto('team_members').values({ workspace_id: ws, team_id: id, user_id: users[u]! }).execute();
      }
    }
    for (const s of distinctShares(w)) {
      const target = s.targetId;
      await db
        .insertInto('record_shares')
        .values({
          workspace_id: ws,
          id: randomUUID(),
          record_id: recordIds[s.record]!,
          user_id: s.toTeam ? null : target,
          team_id: s.toTeam ? target : null,
          level: s.level,
          granted_by: users[0]!,
        })
        .execute();
    }
    for (const role of roles) {
      await db.insertInto('user_roles').values({ workspace_id: ws, app_id: published.appId, user_id: users[w.viewer]!, role_key: role.key }).execute();
    }
  }

  /** The drawn shares, one per record and user or team (the first wins), as stored. */
  function distinctShares(w: World): Array<World['shares'][number] & { targetId: string }> {
    const seen = new Set<string>();
    const out: Array<World['shares'][number] & { targetId: string }> = [];
    for (const s of w.shares) {
      const targetId = s.toTeam ? teams[s.target % TEAMS]! : users[s.target % USERS]!;
      if (seen.has(`${s.record}/${targetId}`)) continue;
      seen.add(`${s.record}/${targetId}`);
      out.push({ ...s, targetId });
    }
    return out;
  }

  /** What the viewer may see and change, computed from the world without SQL. */
  function oracle(w: World, held: World['roles'], rows: Row[]) {
    const me = users[w.viewer]!;
    const managerOf = new Map(users.map((u, i) => [u, i > 0 && w.managers[i] != null ? users[w.managers[i]! % i]! : null]));
    const reports = new Set([me]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [u, m] of managerOf) if (m && reports.has(m) && !reports.has(u)) (reports.add(u), (grew = true));
    }
    const parentOf = teams.map((_, t) => (t > 0 && w.teamParents[t] != null ? w.teamParents[t]! % t : null));
    const managed = new Set(teams.map((_, t) => t).filter((t) => w.teamManagers[t] != null && reports.has(users[w.teamManagers[t]!]!)));
    for (let grew = true; grew; ) {
      grew = false;
      for (let t = 0; t < TEAMS; t++) if (!managed.has(t) && parentOf[t] !== null && managed.has(parentOf[t]!)) (managed.add(t), (grew = true));
    }
    const mine = new Set(teams.map((_, t) => t).filter((t) => w.members[t]![w.viewer]));
    const teamOwners = new Set(reports);
    for (let t = 0; t < TEAMS; t++) if (mine.has(t) || managed.has(t)) w.members[t]!.forEach((m, u) => m && teamOwners.add(users[u]!));
    const sharedLevel = (row: Row): 'read' | 'edit' | null => {
      let level: 'read' | 'edit' | null = null;
      for (const s of distinctShares(w)) {
        if (rows[s.record]?.id !== row.id) continue;
        const reaches = s.toTeam ? mine.has(s.target % TEAMS) : s.targetId === me;
        if (reaches) level = level === 'edit' || s.level === 'edit' ? 'edit' : 'read';
      }
      return level;
    };
    const inScope = (g: World['roles'][number], row: Row) => {
      const scope = g.scope;
      if (scope === 'all') return true;
      if (scope === 'own') return reports.has(row.owner);
      if (scope === 'team') return teamOwners.has(row.owner);
      return EXPRESSIONS[(scope as { index: number }).index]!.test(row, me);
    };
    const can = (action: 'create' | 'read' | 'update' | 'delete') => held.some((g) => g[action]);
    const readable = (row: Row) => can('read') && (held.some((g) => g.read && inScope(g, row)) || sharedLevel(row) !== null);
    const writable = (row: Row) => can('read') && (held.some((g) => g.read && (g.update || g.delete) && inScope(g, row)) || sharedLevel(row) === 'edit');
    const rank = { none: 0, read: 1, write: 2 } as const;
    const access = (field: FieldKey): FieldAccess => {
      let best: FieldAccess = 'none';
      for (const g of held) {
        if (!g.read) continue;
        const a = g.fields[field] ?? (g.update || g.create ? 'write' : 'read');
        if (rank[a] > rank[best]) best = a;
      }
      return best;
    };
    return { me, can, readable, writable, access };
  }

  async function storedRows(): Promise<Row[]> {
    const system = new RecordRepository(database.db, published);
    const items: ApiRecord[] = (await system.list(admin.workspaceId, 'deal', { limit: 200, sort: 'created_at' }, { now: new Date() })).items;
    return items.map((r) => ({ id: r.id, owner: r.owner_id!, values: Object.fromEntries(FIELDS.filter((f) => f in r).map((f) => [f, r[f]])) }));
  }

  it('every read path returns exactly the scope, without hidden fields; refused writes change nothing', async () => {
    const runs = Number(process.env.ACCESS_RUNS ?? 30);
    await fc.assert(
      fc.asyncProperty(worldArb, async (w) => {
        const roles: RoleDef[] = w.roles.map((g, i) => {
          const { scope, fields, ...actions } = g;
          const grant: ObjectGrant = { ...actions, scope: typeof scope === 'object' ? { expression: scope.expression } : scope, fields };
          return { key: `role_${i}`, name: { en: `Role ${i}` }, objects: { deal: grant } };
        });
        const heldRoles = roles.filter((_, i) => w.held[i]);
        const held = w.roles.filter((_, i) => w.held[i]);
        const rows = await storedRows();
        await arrange(w, heldRoles, rows.map((r) => r.id));
        const appWithRoles: PublishedApp = { ...published, document: { ...published.document, roles } };
        const o = oracle(w, held, rows);
        const policy = await loadAccessPolicy(database.db, appWithRoles, { workspaceId: admin.workspaceId, userId: o.me, isAdmin: false });
        const repo = new RecordRepository(database.db, appWithRoles, { access: policy });
        const env = { now: new Date(), userId: o.me };
        const actor: Actor = { workspaceId: admin.workspaceId, userId: o.me, source: 'api' };
        const hidden = FIELDS.filter((f) => o.access(f) === 'none');
        const noHidden = (r: ApiRecord) => hidden.every((f) => !(f in r));
        const ids = (items: ApiRecord[]) => items.map((r) => r.id).sort();
        const expected = (keep: (r: Row) => boolean) => rows.filter((r) => o.readable(r) && keep(r)).map((r) => r.id).sort();

        if (!o.can('read')) {
          expect((await refusal(repo.list(admin.workspaceId, 'deal', {}, env))).kind).toBe('forbidden');
          expect((await refusal(repo.count(admin.workspaceId, 'deal', {}, env))).kind).toBe('forbidden');
        } else {
          // list and count, unfiltered
          const all = await repo.list(admin.workspaceId, 'deal', { limit: 200 }, env);
          expect(ids(all.items)).toEqual(expected(() => true));
          expect(all.items.every(noHidden)).toBe(true);
          expect(await repo.count(admin.workspaceId, 'deal', {}, env)).toBe(all.items.length);
          // filtered: a hidden field is an unknown one
          const filter = FILTERS[w.filter]!;
          if (hidden.includes(filter.field)) {
            expect((await refusal(repo.list(admin.workspaceId, 'deal', { filter: filter.expr }, env))).kind).toBe('bad_request');
            expect((await refusal(repo.list(admin.workspaceId, 'deal', { sort: filter.field }, env))).kind).toBe('bad_request');
          } else {
            const some = await repo.list(admin.workspaceId, 'deal', { filter: filter.expr, limit: 200 }, env);
            expect(ids(some.items)).toEqual(expected(filter.test));
            expect(await repo.count(admin.workspaceId, 'deal', { filter: filter.expr }, env)).toBe(some.items.length);
          }
          // text search only matches what the viewer can read
          const found = await repo.list(admin.workspaceId, 'deal', { q: w.search, limit: 200 }, env);
          const visibleText = (r: Row) => SEARCHABLE.filter((f) => o.access(f) !== 'none').some((f) => String(r.values[f] ?? '').toLowerCase().includes(w.search));
          expect(ids(found.items)).toEqual(expected(visibleText));
          // get, record by record: outside the scope is absent, as if it did not exist
          for (const row of rows) {
            if (o.readable(row)) {
              const record = await repo.get(admin.workspaceId, 'deal', row.id);
              expect(noHidden(record)).toBe(true);
              for (const f of FIELDS) if (o.access(f) !== 'none' && row.values[f] !== undefined) expect(record[f]).toEqual(row.values[f]);
            } else {
              expect((await refusal(repo.get(admin.workspaceId, 'deal', row.id))).kind).toBe('not_found');
            }
          }
        }

        // random writes — to the record drawn and to every shared one, where read and edit shares differ —
        // then compare with what is stored
        const patch: Record<string, unknown> = { ...w.write.patch };
        if (typeof patch.stage !== 'string' || !['new', 'won'].includes(patch.stage)) delete patch.stage;
        if ('amount' in patch && typeof patch.amount !== 'number') delete patch.amount;
        if ('hot' in patch && typeof patch.hot !== 'boolean') delete patch.hot;
        if ('notes' in patch && typeof patch.notes !== 'string') delete patch.notes;
        if (Object.keys(patch).length === 0) patch.notes = 'beta note';
        const keys = Object.keys(patch) as FieldKey[];
        const targets = [...new Set([w.write.record, ...w.shares.map((sh) => sh.record)])].map((i) => rows[i]!);
        for (const [n, target] of targets.entries()) {
          const before = (await storedRows()).find((r) => r.id === target.id)!;
          const action = w.write.delete && n === 0 ? 'delete' : 'update';
          const allowed = o.can(action) && (action === 'delete' || keys.every((k) => o.access(k) === 'write')) && o.writable(target);
          const attempt = action === 'delete' ? repo.delete(actor, 'deal', target.id) : repo.update(actor, 'deal', target.id, patch, (await currentVersion(target.id))!);
          if (allowed) {
            await attempt;
            if (action === 'delete') await new RecordRepository(database.db, published).restore(admin, 'deal', target.id);
          } else {
            const refused = await refusal(attempt);
            // a record the viewer cannot read is never confirmed: 404, unless the action or a field was refused first
            const refusedUpFront = !o.can(action) || (action === 'update' && keys.some((k) => o.access(k) !== 'write'));
            expect(refused.kind).toBe(refusedUpFront || o.readable(target) ? 'forbidden' : 'not_found');
            const after = (await storedRows()).find((r) => r.id === target.id)!;
            expect(after.values).toEqual(before.values);
          }
        }
      }),
      { numRuns: runs, seed: Number(process.env.ACCESS_SEED ?? 20261201) },
    );
  }, 300_000);

  async function currentVersion(id: string): Promise<number | undefined> {
    const row = await database.db.selectFrom('records').select('version').where('workspace_id', '=', admin.workspaceId).where('id', '=', id).executeTakeFirst();
    return row?.version;
  }
});
