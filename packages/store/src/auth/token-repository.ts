import type { Kysely } from 'kysely';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ProblemError } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import { isoString } from '../common/actor';
import { UUID } from './workspace-repository';

export type TokenKind = 'session' | 'api';

export interface IssuedToken {
  id: string;
  /** the secret; shown once, only its SHA-256 is stored */
  token: string;
  expiresAt: string | null;
  roles: string[] | null;
}

export interface TokenInfo {
  id: string;
  kind: TokenKind;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  /** app role keys the token is narrowed to; null = all of its user's roles */
  roles: string[] | null;
}

/** Who a valid token speaks for. */
export interface TokenIdentity {
  workspaceId: string;
  userId: string;
  tokenId: string;
  kind: TokenKind;
  /** set when the token is narrowed to some app roles (by key): it acts with no more than these */
  roles?: string[] | null;
}

/**
 * `tsk_<workspace uuid without dashes>_<43 chars base64url of 32 random bytes>`. The
 * workspace is readable so the lookup is by (workspace_id, token_hash), which keeps it
 * on one shard when the store is distributed by tenant.
 */
const TOKEN = /^tsk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** last_used_at is bookkeeping; writing it on every request would double the writes. */
const LAST_USED_GRANULARITY_MS = 5 * 60 * 1000;

export interface TokenRepositoryOptions {
  /**
   * How long a verified token is trusted without asking the database again (ms; 0 turns
   * the cache off). Every API request verifies its token, so this saves a round trip on
   * the hot path. A revocation in this process takes effect at once; one made by another
   * process, or disabling a user, within this time.
   */
  verifiedTtlMs?: number;
}

const DEFAULT_VERIFIED_TTL_MS = 5_000;
const MAX_CACHED_TOKENS = 10_000;

export class TokenRepository {
  private readonly verifiedTtlMs: number;
  /** token hash -> identity and the time (ms) until which it is trusted */
  private readonly verified = new Map<string, { identity: TokenIdentity; until: number }>();

  constructor(
    private readonly db: Kysely<SystemDatabase>,
    options: TokenRepositoryOptions = {},
  ) {
    this.verifiedTtlMs = options.verifiedTtlMs ?? DEFAULT_VERIFIED_TTL_MS;
  }

  async issue(
    workspaceId: string,
    userId: string,
    options: { kind: TokenKind; name?: string; expiresAt?: Date | null; roles?: string[] | null },
  ): Promise<IssuedToken> {
    const roles = options.roles == null ? null : [...new Set(options.roles)].sort();
    const token = `tsk_${workspaceId.replace(/-/g, '').toLowerCase()}_${randomBytes(32).toString('base64url')}`;
    const row = await this.db
      .insertInto('auth_tokens')
      .values({
        workspace_id: workspaceId,
        id: randomUUID(),
        user_id: userId,
        kind: options.kind,
        name: options.name ?? '',
        token_hash: hashToken(token),
        expires_at: options.expiresAt ?? null,
        roles,
      })
      .returning(['id', 'expires_at'])
      .executeTakeFirstOrThrow();
    return { id: row.id, token, expiresAt: isoString(row.expires_at), roles };
  }

  /** null for anything that is not a live token of an enabled user: malformed, unknown, expired, revoked. */
  async verify(token: string): Promise<TokenIdentity | null> {
    const match = typeof token === 'string' ? TOKEN.exec(token) : null;
    if (!match) return null;
    const hash = hashToken(token);
    const cached = this.verified.get(hash);
    if (cached && cached.until > Date.now()) return cached.identity;
    const identity = await this.lookUp(dashed(match[1]!), hash);
    if (identity && this.verifiedTtlMs > 0) this.remember(hash, identity.identity, identity.expiresAt);
    else this.verified.delete(hash);
    return identity?.identity ?? null;
  }

  private remember(hash: string, identity: TokenIdentity, expiresAt: number | null): void {
    if (this.verified.size >= MAX_CACHED_TOKENS) this.verified.clear();
    const until = Math.min(Date.now() + this.verifiedTtlMs, expiresAt ?? Infinity);
    this.verified.set(hash, { identity, until });
  }

  private async lookUp(workspaceId: string, hash: string): Promise<{ identity: TokenIdentity; expiresAt: number | null } | null> {
    const row = await this.db
      .selectFrom('auth_tokens as t')
      .innerJoin('users as u', (join) => join.onRef('u.workspace_id', '=', 't.workspace_id').onRef('u.id', '=', 't.user_id'))
      .select(['t.id', 't.user_id', 't.kind', 't.expires_at', 't.last_used_at', 't.roles'])
      .where('t.workspace_id', '=', workspaceId)
      .where('t.token_hash', '=', hash)
      .where('t.revoked_at', 'is', null)
      .where('u.disabled_at', 'is', null)
      .executeTakeFirst();
    if (!row) return null;
    const now = Date.now();
    if (row.expires_at != null && new Date(row.expires_at).getTime() <= now) return null;
    if (row.last_used_at == null || now - new Date(row.last_used_at).getTime() > LAST_USED_GRANULARITY_MS) {
      await this.db
        .updateTable('auth_tokens')
        .set({ last_used_at: new Date(now) })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', row.id)
        .execute();
    }
    return {
      identity: { workspaceId, userId: row.user_id, tokenId: row.id, kind: row.kind, ...(row.roles ? { roles: row.roles } : {}) },
      expiresAt: row.expires_at == null ? null : new Date(row.expires_at).getTime(),
    };
  }

  /** A user's live tokens of one kind, newest first; secrets are never listed. */
  async list(workspaceId: string, userId: string, kind: TokenKind = 'api'): Promise<TokenInfo[]> {
    const rows = await this.db
      .selectFrom('auth_tokens')
      .select(['id', 'kind', 'name', 'created_at', 'expires_at', 'last_used_at', 'roles'])
      .where('workspace_id', '=', workspaceId)
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      name: r.name,
      createdAt: isoString(r.created_at) ?? '',
      expiresAt: isoString(r.expires_at),
      lastUsedAt: isoString(r.last_used_at),
      roles: r.roles ?? null,
    }));
  }

  /** Revokes one of the user's own tokens; someone else's token is "not found", not "forbidden". */
  async revoke(workspaceId: string, userId: string, id: string): Promise<void> {
    const result = UUID.test(id)
      ? await this.db
          .updateTable('auth_tokens')
          .set({ revoked_at: new Date() })
          .where('workspace_id', '=', workspaceId)
          .where('user_id', '=', userId)
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst()
      : { numUpdatedRows: 0n };
    // Revocations are rare; forgetting every cached verification (after the write, so a
    // verify racing it cannot cache the token again) keeps this one exact.
    this.verified.clear();
    if (Number(result.numUpdatedRows) === 0) throw new ProblemError('not_found', `Token ${id} not found`);
  }

  /** After tokens were revoked outside this repository (an erasure), stop trusting what this process cached. */
  forgetVerified(): void {
    this.verified.clear();
  }

  /**
   * Ends every live session of a user except `keepTokenId` (after a password change, so a
   * stolen session does not outlive it); API tokens are left to their owner. Returns how many.
   */
  async revokeSessions(workspaceId: string, userId: string, keepTokenId: string | null): Promise<number> {
    let query = this.db
      .updateTable('auth_tokens')
      .set({ revoked_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('user_id', '=', userId)
      .where('kind', '=', 'session')
      .where('revoked_at', 'is', null);
    if (keepTokenId) query = query.where('id', '<>', keepTokenId);
    const result = await query.executeTakeFirst();
    this.verified.clear();
    return Number(result.numUpdatedRows);
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function dashed(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
