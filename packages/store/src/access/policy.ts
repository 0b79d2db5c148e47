import { findField, findObject, liveFields, type FieldDef, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import { compileFilterToSql, type SqlFragment } from '@tessera/expr';
import { sql, type Kysely } from 'kysely';
import type { SystemDatabase } from '../db/schema';
import type { FieldAccess, ObjectGrant, RoleDef } from './role-model';
import { Fragment, anyOf } from './scope-sql';

/** Who is reading or writing, as the permission layer sees them. */
export interface Viewer {
  workspaceId: string;
  /** null for the system itself (migrations, flows running as the system) */
  userId: string | null;
  /** workspace administrators are not restricted by roles */
  isAdmin: boolean;
  /**
   * set when the caller authenticated with an API token scoped to roles: the viewer then
   * acts with only these app roles (by key), never more than the user holds
   */
  tokenRoles?: string[] | null;
}

export const OBJECT_ACTIONS = ['create', 'read', 'update', 'delete', 'import', 'export'] as const;
export type ObjectAction = (typeof OBJECT_ACTIONS)[number];

/**
 * What one viewer may do in one published app: the single enforcement point every read
 * and write path asks (records, lists, related lists, reports, exports, flows run on a
 * user's behalf, the per-user OpenAPI). Record scopes are SQL predicates over the
 * unaliased `records` table, compiled by the expression language, so a list, a report
 * and an export filter by the same text.
 */
export interface AccessPolicy {
  readonly viewer: Viewer;
  can(object: ObjectDef, action: ObjectAction): boolean;
  /** predicate selecting the records the viewer may read ('read') or change ('write'); null when unrestricted */
  recordScope(object: ObjectDef, mode: 'read' | 'write'): SqlFragment | null;
  /** a field the viewer may not read is absent from everything they receive */
  canReadField(object: ObjectDef, field: FieldDef): boolean;
  /** a field the viewer may not write is refused on every write path */
  canWriteField(object: ObjectDef, field: FieldDef): boolean;
}

/** No restriction: administrators and the system. */
export function unrestrictedPolicy(viewer: Viewer): AccessPolicy {
  return {
    viewer,
    can: () => true,
    recordScope: () => null,
    canReadField: () => true,
    canWriteField: () => true,
  };
}

/** The people and teams a viewer's scopes resolve against, read in one statement. */
export interface ViewerReach {
  /** users.is_admin of the viewer */
  isAdmin: boolean;
  roles: string[];
  /** the viewer and everyone reporting to them, directly or not: the owners of 'own' */
  own: string[];
  /** `own` plus the members of the viewer's teams and of the teams they (or their reports) manage */
  team: string[];
  /** teams the viewer is a member of: what a team share reaches */
  teams: string[];
  /**
   * records shared with the viewer or their teams, by level; null when there are more
   * than MAX_LISTED_SHARES, and the scope asks record_shares instead
   */
  shared: { read: string[]; edit: string[] } | null;
}

/**
 * Up to this many shares, the scope lists the shared ids (`id = ANY($n)`), which lets the
 * planner combine the owner and primary-key indexes; beyond it, a subquery.
 */
const MAX_LISTED_SHARES = 1000;

/** The policy of `viewer` in `app`, from the app's roles and the viewer's teams, roles and shares. */
export async function loadAccessPolicy(db: Kysely<SystemDatabase>, app: PublishedApp, viewer: Viewer): Promise<AccessPolicy> {
  if (viewer.isAdmin || viewer.userId === null) return unrestrictedPolicy(viewer);
  const reach = await loadReach(db, app.appId, viewer.workspaceId, viewer.userId);
  return new RolePolicy(app, viewer, reach);
}

/**
 * The policy of a signed-in user, whether they are an administrator read in the same
 * statement as their reach: one round trip per request, which is most of what a scope
 * costs a short list. A token narrowed to roles is never an administrator's credential.
 */
export async function loadCallerPolicy(
  db: Kysely<SystemDatabase>,
  app: PublishedApp,
  caller: { workspaceId: string; userId: string; tokenRoles?: string[] | null },
): Promise<AccessPolicy> {
  const tokenRoles = caller.tokenRoles && caller.tokenRoles.length > 0 ? caller.tokenRoles : null;
  const reach = await loadReach(db, app.appId, caller.workspaceId, caller.userId);
  const viewer: Viewer = { workspaceId: caller.workspaceId, userId: caller.userId, isAdmin: reach.isAdmin && tokenRoles === null, tokenRoles };
  return viewer.isAdmin ? unrestrictedPolicy(viewer) : new RolePolicy(app, viewer, reach);
}

/**
 * One round trip: the viewer's role keys in the app, their reports (the manager_id
 * chain, recursively; UNION stops at a cycle), the teams they or their reports manage
 * (and those teams' sub-teams), their own teams, and the members of all those teams.
 */
async function loadReach(db: Kysely<SystemDatabase>, appId: string, workspaceId: string, userId: string): Promise<ViewerReach> {
  const rows = await sql<{ kind: 'admin' | 'role' | 'own' | 'team' | 'myteam' | 'read' | 'edit'; v: string }>`
    WITH RECURSIVE reports(id) AS (
      SELECT ${userId}::uuid
      UNION
      SELECT u.id FROM users u JOIN reports r ON u.manager_id = r.id WHERE u.workspace_id = ${workspaceId}
    ), managed(id) AS (
      SELECT t.id FROM teams t WHERE t.workspace_id = ${workspaceId} AND t.manager_id IN (SELECT id FROM reports)
      UNION
      SELECT t.id FROM teams t JOIN managed m ON t.parent_id = m.id WHERE t.workspace_id = ${workspaceId}
    ), mine AS (
      SELECT team_id AS id FROM team_members WHERE workspace_id = ${workspaceId} AND user_id = ${userId}
    )
    SELECT 'admin' AS kind, 'true' AS v FROM users WHERE workspace_id = ${workspaceId} AND id = ${userId} AND is_admin
    UNION ALL SELECT 'role', role_key FROM user_roles WHERE workspace_id = ${workspaceId} AND app_id = ${appId} AND user_id = ${userId}
    UNION ALL SELECT 'own', id::text FROM reports
    UNION ALL SELECT 'myteam', id::text FROM mine
    UNION ALL SELECT DISTINCT 'team', user_id::text FROM team_members
      WHERE workspace_id = ${workspaceId} AND team_id IN (SELECT id FROM mine UNION SELECT id FROM managed)
    UNION ALL (SELECT s.level, s.record_id::text FROM record_shares s
      WHERE s.workspace_id = ${workspaceId} AND (s.user_id = ${userId} OR s.team_id IN (SELECT id FROM mine))
      LIMIT ${MAX_LISTED_SHARES + 1})`.execute(db);
  const reach: ViewerReach = { isAdmin: false, roles: [], own: [], team: [], teams: [], shared: { read: [], edit: [] } };
  let shares = 0;
  for (const { kind, v } of rows.rows) {
    if (kind === 'admin') reach.isAdmin = true;
    else if (kind === 'role') reach.roles.push(v);
    else if (kind === 'own') reach.own.push(v);
    else if (kind === 'myteam') reach.teams.push(v);
    else if (kind === 'team') reach.team.push(v);
    else {
      shares++;
      reach.shared![kind].push(v);
    }
  }
  if (shares > MAX_LISTED_SHARES) reach.shared = null;
  reach.team = [...new Set([...reach.own, ...reach.team])];
  return reach;
}

/** The roles an app defines, as typed (checkRoles validated them on save). */
export function appRoles(app: PublishedApp): RoleDef[] {
  return (app.document.roles ?? []) as RoleDef[];
}

const RANK: Record<FieldAccess, number> = { none: 0, read: 1, write: 2 };

/** A role grant's access to one field: as named, else write when the grant changes records, else read. */
export function fieldAccess(grant: ObjectGrant, field: FieldDef): FieldAccess {
  if (!grant.read) return 'none';
  return grant.fields?.[field.key] ?? (grant.update || grant.create ? 'write' : 'read');
}

/**
 * The union of the viewer's roles: an action is allowed when any role allows it, a
 * field is as open as the most open role makes it, and the scope is the OR of the
 * roles' scopes plus what was shared with the viewer or their teams.
 */
class RolePolicy implements AccessPolicy {
  private readonly grants = new Map<string, ObjectGrant[]>();
  private readonly scopes = new Map<string, SqlFragment | null>();
  private readonly fields = new Map<string, Map<string, FieldAccess>>();
  private readonly now = new Date();

  constructor(
    private readonly app: PublishedApp,
    readonly viewer: Viewer,
    private readonly reach: ViewerReach,
  ) {
    const held = new Set(reach.roles);
    const allowed = viewer.tokenRoles ? new Set(viewer.tokenRoles) : null;
    for (const role of appRoles(app)) {
      // a version published before roles were checked may hold anything: such a role grants nothing
      if (typeof role !== 'object' || role === null || typeof role.objects !== 'object' || role.objects === null) continue;
      if (!held.has(role.key) || (allowed && !allowed.has(role.key))) continue;
      for (const [objectKey, grant] of Object.entries(role.objects)) {
        const list = this.grants.get(objectKey) ?? [];
        list.push(grant);
        this.grants.set(objectKey, list);
      }
    }
  }

  private grantsOf(object: ObjectDef): ObjectGrant[] {
    return this.grants.get(object.key) ?? [];
  }

  can(object: ObjectDef, action: ObjectAction): boolean {
    return this.grantsOf(object).some((g) => g[action]);
  }

  private access(object: ObjectDef, field: FieldDef): FieldAccess {
    let byField = this.fields.get(object.key);
    if (!byField) {
      byField = new Map();
      // set before the derived pass, which may ask about this object again (a self relation)
      this.fields.set(object.key, byField);
      const named = new Set<string>();
      for (const f of liveFields(object)) {
        let best: FieldAccess = 'none';
        for (const g of this.grantsOf(object)) {
          if (g.read && g.fields?.[f.key] !== undefined) named.add(f.key);
          const a = fieldAccess(g, f);
          if (RANK[a] > RANK[best]) best = a;
        }
        byField.set(f.key, best);
      }
      // A computed field no role names follows its inputs: it would show what they hold.
      for (const f of liveFields(object)) {
        if (!named.has(f.key) && byField.get(f.key) !== 'none' && this.readsHidden(object, f, new Set())) byField.set(f.key, 'none');
      }
    }
    return byField.get(field.key) ?? 'none';
  }

  /** Whether a formula or rollup is computed from a field this viewer may not read (through formulas, relations and rollups). */
  private readsHidden(object: ObjectDef, field: FieldDef, seen: Set<string>): boolean {
    const id = `${object.key}.${field.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    const hidden = (owner: ObjectDef | undefined, key: string | undefined): boolean => {
      if (!owner || !key) return false;
      const input = findField(owner, key);
      if (!input) return false;
      const grants = this.grantsOf(owner);
      if (grants.every((g) => fieldAccess(g, input) === 'none')) return true;
      // a field a role names as readable was shown on purpose: what is computed from it shows no more
      if (grants.some((g) => g.read && g.fields?.[key] !== undefined && g.fields[key] !== 'none')) return false;
      return this.readsHidden(owner, input, seen);
    };
    if (field.type === 'formula') {
      return varsOf(field.formula).some(([first, second]) => {
        const input = findField(object, first!);
        if (second === undefined || input?.type !== 'relation') return hidden(object, first);
        return hidden(object, first) || hidden(findObject(this.app.document, input.target ?? ''), second);
      });
    }
    if (field.type === 'rollup' && field.rollup) {
      const child = findObject(this.app.document, field.rollup.object);
      return hidden(child, field.rollup.field) || varsOf(field.rollup.filter).some(([first]) => hidden(child, first));
    }
    return false;
  }

  canReadField(object: ObjectDef, field: FieldDef): boolean {
    return this.access(object, field) !== 'none';
  }

  canWriteField(object: ObjectDef, field: FieldDef): boolean {
    return this.access(object, field) === 'write';
  }

  recordScope(object: ObjectDef, mode: 'read' | 'write'): SqlFragment | null {
    const key = `${mode}:${object.key}`;
    if (!this.scopes.has(key)) this.scopes.set(key, this.buildScope(object, mode));
    return this.scopes.get(key)!;
  }

  private buildScope(object: ObjectDef, mode: 'read' | 'write'): SqlFragment | null {
    const grants = this.grantsOf(object).filter((g) => (mode === 'read' ? g.read : g.read && (g.update || g.delete)));
    if (grants.some((g) => g.scope === 'all')) return null;
    const parts: SqlFragment[] = [];
    for (const g of grants) {
      if (g.scope === 'own') parts.push(ownedBy(this.reach.own));
      else if (g.scope === 'team') parts.push(ownedBy(this.reach.team));
      else if (typeof g.scope === 'object') {
        parts.push(compileFilterToSql(g.scope.expression, { object, app: this.app.document }, { now: this.now, userId: this.viewer.userId ?? undefined }));
      }
    }
    // Sharing widens what a role reaches, never what it may do: only objects the viewer can read.
    if (this.can(object, 'read')) {
      const listed = this.reach.shared;
      if (!listed) parts.push(sharedWith(this.viewer, this.reach.teams, mode));
      else {
        const ids = mode === 'read' ? [...listed.read, ...listed.edit] : listed.edit;
        if (ids.length > 0) parts.push(new Fragment().text('records.id = ANY(').value(ids).text('::uuid[])').build());
      }
    }
    return anyOf(parts);
  }
}

function ownedBy(owners: string[]): SqlFragment {
  return new Fragment().text('records.owner_id = ANY(').value(owners).text('::uuid[])').build();
}

function sharedWith(viewer: Viewer, teams: string[], mode: 'read' | 'write'): SqlFragment {
  const f = new Fragment()
    .text('records.id IN (SELECT s.record_id FROM record_shares s WHERE s.workspace_id = ')
    .value(viewer.workspaceId)
    .text(' AND (s.user_id = ')
    .value(viewer.userId)
    .text(' OR s.team_id = ANY(')
    .value(teams)
    .text('::uuid[]))');
  if (mode === 'write') f.text(" AND s.level = 'edit'");
  return f.text(')').build();
}

/** The `{"var": "a.b"}` paths an expression reads, split at the dots. */
function varsOf(expr: unknown): string[][] {
  const out: string[][] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [op, arg] of Object.entries(node)) {
        const name = op === 'var' ? (Array.isArray(arg) ? arg[0] : arg) : undefined;
        if (typeof name === 'string') out.push(name.split('.'));
        else walk(arg);
      }
    }
  };
  walk(expr);
  return out;
}
