import { sql, type Kysely } from 'kysely';
import type { SystemDatabase } from '../db/schema';

export interface LockoutPolicy {
  /** failed logins within `windowMs` that lock the account */
  maxFailures: number;
  windowMs: number;
  /** how long a lock lasts; an administrator can lift it earlier */
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

export interface FailureOutcome {
  failures: number;
  /** set when the account is now locked */
  lockedUntil: Date | null;
}

/**
 * Account lock-out after repeated failed logins. The count lives in the users row and is
 * updated by one atomic statement, so it holds across server processes and concurrent
 * guesses cannot slip past it.
 */
export class LoginLockout {
  constructor(
    private readonly db: Kysely<SystemDatabase>,
    readonly policy: LockoutPolicy = DEFAULT_LOCKOUT,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** when the lock ends, or null when the account is not locked now */
  async lockedUntil(workspaceId: string, userId: string): Promise<Date | null> {
    const row = await this.db
      .selectFrom('users')
      .select('locked_until')
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', userId)
      .executeTakeFirst();
    const until = row?.locked_until ? new Date(row.locked_until) : null;
    return until && until > this.clock() ? until : null;
  }

  async recordFailure(workspaceId: string, userId: string): Promise<FailureOutcome> {
    const now = this.clock();
    const windowStart = new Date(now.getTime() - this.policy.windowMs);
    const lockEnd = new Date(now.getTime() + this.policy.lockMs);
    // A failure after the window, or after a lock ran out, starts a new count.
    const fresh = sql<boolean>`(failed_login_window_at IS NULL OR failed_login_window_at <= ${windowStart}
      OR (locked_until IS NOT NULL AND locked_until <= ${now}))`;
    const count = sql<number>`CASE WHEN ${fresh} THEN 1 ELSE failed_logins + 1 END`;
    const row = await this.db
      .updateTable('users')
      .set({
        failed_logins: count,
        failed_login_window_at: sql`CASE WHEN ${fresh} THEN ${now}::timestamptz ELSE failed_login_window_at END`,
        locked_until: sql`CASE WHEN ${count} >= ${this.policy.maxFailures} THEN ${lockEnd}::timestamptz
          WHEN ${fresh} THEN NULL ELSE locked_until END`,
      })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', userId)
      .returning(['failed_logins', 'locked_until'])
      .executeTakeFirst();
    const until = row?.locked_until ? new Date(row.locked_until) : null;
    return { failures: row?.failed_logins ?? 0, lockedUntil: until && until > now ? until : null };
  }

  /** After a successful login, and when an administrator unlocks the account; writes only when there is something to clear. */
  async clear(workspaceId: string, userId: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ failed_logins: 0, failed_login_window_at: null, locked_until: null })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('failed_logins', '>', 0), eb('locked_until', 'is not', null)]))
      .execute();
  }
}
