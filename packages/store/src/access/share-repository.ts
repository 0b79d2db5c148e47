import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ProblemError, findObject, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { isoString } from '../common/actor';
import { UUID } from '../auth/workspace-repository';
import { RecordAccess } from '../records/record-access';
import type { AccessPolicy } from './policy';

export type ShareLevel = 'read' | 'edit';

export interface RecordShare {
  id: string;
  recordId: string;
  userId: string | null;
  teamId: string | null;
  level: ShareLevel;
  grantedBy: string | null;
  grantedAt: string;
}

export interface ShareInput {
  userId?: string;
  teamId?: string;
  level: ShareLevel;
}

/**
 * Sharing one record with a user or a team. Whoever may read the record sees its
 * shares; whoever may change it (its owner, a role whose scope reaches it, an edit share)
 * may share it or end a share. A share widens which records a role reaches, never what
 * the role may do with them nor which fields it sees.
 */
export class ShareRepository {
  private readonly access: RecordAccess;

  constructor(
    private readonly db: Kysely<SystemDatabase>,
    private readonly app: PublishedApp,
    policy: AccessPolicy,
  ) {
    this.access = new RecordAccess(policy);
  }

  async list(objectKey: string, recordId: string): Promise<RecordShare[]> {
    await this.reach(objectKey, recordId, 'read');
    const rows = await this.db
      .selectFrom('record_shares')
      .selectAll()
      .where('workspace_id', '=', this.workspaceId)
      .where('record_id', '=', recordId)
      .orderBy('granted_at')
      .orderBy('id')
      .execute();
    return rows.map(toShare);
  }

  /** Sharing again with the same user or team changes the level. */
  async share(objectKey: string, recordId: string, input: ShareInput): Promise<RecordShare> {
    await this.reach(objectKey, recordId, 'write');
    const target = await this.checkTarget(input);
    const values = {
      workspace_id: this.workspaceId,
      id: randomUUID(),
      record_id: recordId.toLowerCase(),
      user_id: target.userId,
      team_id: target.teamId,
      level: input.level,
      granted_by: this.access.policy.viewer.userId,
    };
    return this.db.transaction().execute(async (trx) => {
      let existing = trx.deleteFrom('record_shares').where('workspace_id', '=', this.workspaceId).where('record_id', '=', values.record_id);
      existing = target.userId ? existing.where('user_id', '=', target.userId) : existing.where('team_id', '=', target.teamId!);
      await existing.execute();
      const row = await trx.insertInto('record_shares').values(values).returningAll().executeTakeFirstOrThrow();
      return toShare(row);
    });
  }

  async unshare(objectKey: string, recordId: string, shareId: string): Promise<void> {
    await this.reach(objectKey, recordId, 'write');
    const gone = UUID.test(shareId)
      ? await this.db.deleteFrom('record_shares').where('workspace_id', '=', this.workspaceId).where('record_id', '=', recordId).where('id', '=', shareId).executeTakeFirst()
      : null;
    if (!gone || Number(gone.numDeletedRows) === 0) throw new ProblemError('not_found', `No share ${shareId} on record ${recordId}`);
  }

  private get workspaceId(): string {
    return this.access.policy.viewer.workspaceId;
  }

  /** The record must exist in this workspace and be within the caller's reach (404 otherwise, 403 when only readable). */
  private async reach(objectKey: string, recordId: string, mode: 'read' | 'write'): Promise<ObjectDef> {
    const object = findObject(this.app.document, objectKey);
    if (!object?.id) throw new ProblemError('not_found', `Object "${objectKey}" not found in app "${this.app.appKey}"`);
    const missing = () => new ProblemError('not_found', `No ${object.key} record with id ${recordId}`);
    if (!UUID.test(recordId)) throw missing();
    this.access.assertCan(object, 'read');
    const exists = await this.db
      .selectFrom('records')
      .select('id')
      .where('workspace_id', '=', this.workspaceId)
      .where('object_id', '=', object.id)
      .where('id', '=', recordId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!exists) throw missing();
    await this.access.assertInScope(this.db, this.workspaceId, object, recordId, mode, false);
    if (mode === 'write') this.access.assertCan(object, 'update');
    return object;
  }

  private async checkTarget(input: ShareInput): Promise<{ userId: string | null; teamId: string | null }> {
    const userId = input.userId?.toLowerCase() ?? null;
    const teamId = input.teamId?.toLowerCase() ?? null;
    if ((userId === null) === (teamId === null)) {
      throw new ProblemError('unprocessable', 'Share with one user or one team', [{ field: 'userId', code: 'one_of', message: 'give exactly one of userId and teamId' }]);
    }
    if (input.level !== 'read' && input.level !== 'edit') {
      throw new ProblemError('unprocessable', 'Invalid share', [{ field: 'level', code: 'enum', message: 'level is "read" or "edit"' }]);
    }
    const table = userId ? 'users' : 'teams';
    const id = (userId ?? teamId)!;
    const found = UUID.test(id) ? await this.db.selectFrom(table).select('id').where('workspace_id', '=', this.workspaceId).where('id', '=', id).executeTakeFirst() : undefined;
    if (!found) {
      const field = userId ? 'userId' : 'teamId';
      throw new ProblemError('unprocessable', 'Invalid share', [{ field, code: 'reference', message: `no ${userId ? 'user' : 'team'} with id ${id}` }]);
    }
    return { userId, teamId };
  }
}

function toShare(row: { id: string; record_id: string; user_id: string | null; team_id: string | null; level: ShareLevel; granted_by: string | null; granted_at: Date | string }): RecordShare {
  return {
    id: row.id,
    recordId: row.record_id,
    userId: row.user_id,
    teamId: row.team_id,
    level: row.level,
    grantedBy: row.granted_by,
    grantedAt: isoString(row.granted_at) ?? '',
  };
}
