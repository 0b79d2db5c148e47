import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ProblemError } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { isoString } from '../common/actor';

export interface Workspace {
  id: string;
  name: string;
  createdAt: string;
}

/** Tenants. Everything else hangs off a workspace id, so this is the only unscoped table. */
export class WorkspaceRepository {
  constructor(private readonly db: Kysely<SystemDatabase>) {}

  async create(name: string): Promise<Workspace> {
    const row = await this.db
      .insertInto('workspaces')
      .values({ workspace_id: randomUUID(), name })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWorkspace(row);
  }

  async get(id: string): Promise<Workspace> {
    const row = UUID.test(id)
      ? await this.db.selectFrom('workspaces').selectAll().where('workspace_id', '=', id).executeTakeFirst()
      : undefined;
    if (!row) throw new ProblemError('not_found', `Workspace ${id} not found`);
    return toWorkspace(row);
  }

  /** Oldest first, so "the first workspace" is stable for single-tenant installs. */
  async list(): Promise<Workspace[]> {
    const rows = await this.db.selectFrom('workspaces').selectAll().orderBy('created_at').orderBy('workspace_id').execute();
    return rows.map(toWorkspace);
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toWorkspace(row: { workspace_id: string; name: string; created_at: Date | string }): Workspace {
  return { id: row.workspace_id, name: row.name, createdAt: isoString(row.created_at) ?? '' };
}
