import { sql, type Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ProblemError, type PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { UUID } from '../auth/workspace-repository';
import { appRoles } from './policy';

export interface Team {
  id: string;
  name: string;
  managerId: string | null;
  parentId: string | null;
  members: string[];
}

export interface TeamInput {
  name?: string;
  managerId?: string | null;
  parentId?: string | null;
}

/**
 * The organisation record scopes resolve against: teams and their members, who manages
 * whom, and the app roles each user holds. Every statement is scoped by workspace, and
 * every id given is checked to belong to it, so no call can link into another tenant.
 */
export class OrgRepository {
  constructor(private readonly db: Kysely<SystemDatabase>) {}

  async listTeams(workspaceId: string): Promise<Team[]> {
    const teams = await this.db.selectFrom('teams').select(['id', 'name', 'manager_id', 'parent_id']).where('workspace_id', '=', workspaceId).orderBy('name').orderBy('id').execute();
    const members = await this.db.selectFrom('team_members').select(['team_id', 'user_id']).where('workspace_id', '=', workspaceId).orderBy('user_id').execute();
    return teams.map((t) => ({
      id: t.id,
      name: t.name,
      managerId: t.manager_id,
      parentId: t.parent_id,
      members: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
    }));
  }

  async getTeam(workspaceId: string, id: string): Promise<Team> {
    const team = (await this.listTeams(workspaceId)).find((t) => t.id === id.toLowerCase());
    if (!team) throw notFound('team', id);
    return team;
  }

  async createTeam(workspaceId: string, input: TeamInput & { name: string }): Promise<Team> {
    const id = randomUUID();
    await this.checkTeamInput(workspaceId, id, input);
    await this.db
      .insertInto('teams')
      .values({ workspace_id: workspaceId, id, name: input.name, manager_id: input.managerId ?? null, parent_id: input.parentId ?? null })
      .execute();
    return this.getTeam(workspaceId, id);
  }

  async updateTeam(workspaceId: string, id: string, input: TeamInput): Promise<Team> {
    await this.getTeam(workspaceId, checked('id', id));
    await this.checkTeamInput(workspaceId, id, input);
    const set: Record<string, unknown> = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.managerId !== undefined) set.manager_id = input.managerId;
    if (input.parentId !== undefined) set.parent_id = input.parentId;
    if (Object.keys(set).length > 0) await this.db.updateTable('teams').set(set).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
    return this.getTeam(workspaceId, id);
  }

  /** Sub-teams move up to the deleted team's parent; shares with the team end with it. */
  async deleteTeam(workspaceId: string, id: string): Promise<void> {
    const team = await this.getTeam(workspaceId, checked('id', id));
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('teams').set({ parent_id: team.parentId }).where('workspace_id', '=', workspaceId).where('parent_id', '=', team.id).execute();
      await trx.deleteFrom('teams').where('workspace_id', '=', workspaceId).where('id', '=', team.id).execute();
    });
  }

  async addMember(workspaceId: string, teamId: string, userId: string): Promise<Team> {
    await this.getTeam(workspaceId, checked('teamId', teamId));
    await this.assertUser(workspaceId, userId, 'userId');
    await this.db
      .insertInto('team_members')
      .values({ workspace_id: workspaceId, team_id: teamId.toLowerCase(), user_id: userId.toLowerCase() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return this.getTeam(workspaceId, teamId);
  }

  async removeMember(workspaceId: string, teamId: string, userId: string): Promise<Team> {
    await this.getTeam(workspaceId, checked('teamId', teamId));
    checked('userId', userId);
    await this.db.deleteFrom('team_members').where('workspace_id', '=', workspaceId).where('team_id', '=', teamId).where('user_id', '=', userId).execute();
    return this.getTeam(workspaceId, teamId);
  }

  /** A user's manager; refused when it would make someone their own manager, directly or not. */
  async setManager(workspaceId: string, userId: string, managerId: string | null): Promise<void> {
    await this.assertUser(workspaceId, userId, 'id');
    if (managerId !== null) {
      await this.assertUser(workspaceId, managerId, 'managerId');
      const chain = await sql<{ id: string }>`
        WITH RECURSIVE up(id) AS (
          SELECT ${managerId}::uuid
          UNION
          SELECT u.manager_id FROM users u JOIN up ON u.id = up.id WHERE u.workspace_id = ${workspaceId} AND u.manager_id IS NOT NULL
        ) SELECT id FROM up WHERE id = ${userId}::uuid`.execute(this.db);
      if (chain.rows.length > 0) {
        throw new ProblemError('unprocessable', 'A user cannot manage themselves, directly or through others', [
          { field: 'managerId', code: 'cycle', message: `${managerId} reports to ${userId}` },
        ]);
      }
    }
    await this.db.updateTable('users').set({ manager_id: managerId }).where('workspace_id', '=', workspaceId).where('id', '=', userId).execute();
  }

  async rolesOf(workspaceId: string, app: PublishedApp, userId: string): Promise<string[]> {
    await this.assertUser(workspaceId, userId, 'userId');
    const rows = await this.db
      .selectFrom('user_roles')
      .select('role_key')
      .where('workspace_id', '=', workspaceId)
      .where('app_id', '=', app.appId)
      .where('user_id', '=', userId)
      .orderBy('role_key')
      .execute();
    return rows.map((r) => r.role_key);
  }

  /** Who holds which role in the app. */
  async assignments(workspaceId: string, app: PublishedApp): Promise<Array<{ userId: string; role: string }>> {
    const rows = await this.db
      .selectFrom('user_roles')
      .select(['user_id', 'role_key'])
      .where('workspace_id', '=', workspaceId)
      .where('app_id', '=', app.appId)
      .orderBy('role_key')
      .orderBy('user_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, role: r.role_key }));
  }

  async grantRole(workspaceId: string, app: PublishedApp, userId: string, role: string): Promise<string[]> {
    await this.assertUser(workspaceId, userId, 'userId');
    if (!appRoles(app).some((r) => r.key === role)) {
      throw new ProblemError('unprocessable', `App "${app.appKey}" has no role "${role}"`, [{ field: 'role', code: 'unknown_role', message: `no role "${role}" in the published app` }]);
    }
    await this.db
      .insertInto('user_roles')
      .values({ workspace_id: workspaceId, app_id: app.appId, user_id: userId.toLowerCase(), role_key: role })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return this.rolesOf(workspaceId, app, userId);
  }

  async revokeRole(workspaceId: string, app: PublishedApp, userId: string, role: string): Promise<string[]> {
    await this.assertUser(workspaceId, userId, 'userId');
    await this.db.deleteFrom('user_roles').where('workspace_id', '=', workspaceId).where('app_id', '=', app.appId).where('user_id', '=', userId).where('role_key', '=', role).execute();
    return this.rolesOf(workspaceId, app, userId);
  }

  private async checkTeamInput(workspaceId: string, id: string, input: TeamInput): Promise<void> {
    if (input.managerId != null) await this.assertUser(workspaceId, input.managerId, 'managerId');
    if (input.parentId != null) {
      const parent = UUID.test(input.parentId)
        ? await this.db.selectFrom('teams').select('id').where('workspace_id', '=', workspaceId).where('id', '=', input.parentId).executeTakeFirst()
        : undefined;
      if (!parent) throw new ProblemError('unprocessable', 'Invalid team', [{ field: 'parentId', code: 'reference', message: `no team with id ${input.parentId}` }]);
      const chain = await sql<{ id: string }>`
        WITH RECURSIVE up(id) AS (
          SELECT ${input.parentId}::uuid
          UNION
          SELECT t.parent_id FROM teams t JOIN up ON t.id = up.id WHERE t.workspace_id = ${workspaceId} AND t.parent_id IS NOT NULL
        ) SELECT id FROM up WHERE id = ${id}::uuid`.execute(this.db);
      if (chain.rows.length > 0) throw new ProblemError('unprocessable', 'Invalid team', [{ field: 'parentId', code: 'cycle', message: 'a team cannot be inside itself' }]);
    }
  }

  private async assertUser(workspaceId: string, userId: string, field: string): Promise<void> {
    const found = UUID.test(userId)
      ? await this.db.selectFrom('users').select('id').where('workspace_id', '=', workspaceId).where('id', '=', userId).executeTakeFirst()
      : undefined;
    if (!found) throw new ProblemError(field === 'id' ? 'not_found' : 'unprocessable', `No user with id ${userId}`, [{ field, code: 'reference', message: `no user with id ${userId}` }]);
  }
}

function checked(field: string, id: string): string {
  if (!UUID.test(id)) throw new ProblemError('not_found', `No team with id ${JSON.stringify(id)}`, [{ field, code: 'invalid', message: 'ids are UUIDs' }]);
  return id;
}

function notFound(what: string, id: string): ProblemError {
  return new ProblemError('not_found', `No ${what} with id ${id}`);
}
