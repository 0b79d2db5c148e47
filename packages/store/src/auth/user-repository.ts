import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ProblemError } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { isoString, sqlState } from '../common/actor';
import { UUID } from './workspace-repository';

export interface User {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
  isAdmin: boolean;
  locale: string;
  createdAt: string;
  disabled: boolean;
}

/** A user with the stored password hash; only the login path should ever see one. */
export interface UserCredentials extends User {
  passwordHash: string | null;
}

export interface NewUser {
  email: string;
  name?: string;
  /** already hashed by the caller: the store does not know the hashing scheme */
  passwordHash: string | null;
  isAdmin?: boolean;
  locale?: string;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/**
 * People in a workspace. Emails are unique per workspace, case-insensitively.
 * Password hashes are opaque here: the server hashes and verifies.
 */
export class UserRepository {
  constructor(private readonly db: Kysely<SystemDatabase>) {}

  async create(workspaceId: string, input: NewUser): Promise<User> {
    const email = normaliseEmail(input.email);
    try {
      const row = await this.db
        .insertInto('users')
        .values({
          workspace_id: workspaceId,
          id: randomUUID(),
          email,
          name: input.name ?? '',
          password_hash: input.passwordHash,
          is_admin: input.isAdmin ?? false,
          ...(input.locale ? { locale: input.locale } : {}),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (e) {
      if (sqlState(e) === '23505') {
        throw new ProblemError('conflict', `A user with email ${email} already exists`, [
          { field: 'email', code: 'duplicate', message: `${email} is taken in this workspace` },
        ]);
      }
      throw e;
    }
  }

  async get(workspaceId: string, id: string): Promise<User> {
    const row = UUID.test(id)
      ? await this.db.selectFrom('users').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst()
      : undefined;
    if (!row) throw new ProblemError('not_found', `User ${id} not found`);
    return toUser(row);
  }

  async list(workspaceId: string): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').execute();
    return rows.map(toUser);
  }

  /**
   * Login knows an email but not the workspace, so this is the one lookup across
   * tenants (served by the lower(email) index). Disabled users are left out.
   */
  async findForLogin(email: string): Promise<UserCredentials[]> {
    if (typeof email !== 'string' || !EMAIL.test(email.trim())) return [];
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
      .where('disabled_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({ ...toUser(r), passwordHash: r.password_hash }));
  }

  async setPassword(workspaceId: string, id: string, passwordHash: string): Promise<void> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new ProblemError('not_found', `User ${id} not found`);
  }

  async countAdmins(workspaceId?: string): Promise<number> {
    let query = this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_admin', '=', true);
    if (workspaceId) query = query.where('workspace_id', '=', workspaceId);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

export function normaliseEmail(email: unknown): string {
  const trimmed = typeof email === 'string' ? email.trim() : '';
  if (!EMAIL.test(trimmed)) {
    throw new ProblemError('unprocessable', 'Invalid email address', [{ field: 'email', code: 'format', message: 'expected an address like name@example.com' }]);
  }
  return trimmed;
}

function toUser(row: {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  is_admin: boolean;
  locale: string;
  created_at: Date | string;
  disabled_at: Date | string | null;
}): User {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    isAdmin: row.is_admin,
    locale: row.locale,
    createdAt: isoString(row.created_at) ?? '',
    disabled: row.disabled_at != null,
  };
}
