import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
// Imported from the modules, not the index, so these tests do not depend on the record store.
import { TokenRepository, UserRepository, WorkspaceRepository, hashToken } from '../src/auth/index';
import { openTestDatabase, refusal } from '../src/db/testing';
import type { Database } from '../src/db/connection';

describe('auth repositories', () => {
  let database: Database;
  let workspaces: WorkspaceRepository;
  let users: UserRepository;
  let tokens: TokenRepository;

  beforeAll(async () => {
    database = await openTestDatabase();
    workspaces = new WorkspaceRepository(database.db);
    users = new UserRepository(database.db);
    tokens = new TokenRepository(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('keeps emails unique per workspace, case-insensitively, but not across workspaces', async () => {
    const a = await workspaces.create('A');
    const b = await workspaces.create('B');
    await users.create(a.id, { email: 'Ann@Example.com', passwordHash: 'h1' });
    const dup = await refusal(users.create(a.id, { email: 'ann@example.com', passwordHash: 'h2' }));
    expect(dup.status).toBe(409);
    expect(dup.errors[0]?.field).toBe('email');
    await users.create(b.id, { email: 'ann@example.com', passwordHash: 'h3' });
    const found = await users.findForLogin('  ANN@example.COM ');
    expect(found.map((u) => u.passwordHash).sort()).toEqual(['h1', 'h3']);
  });

  it('rejects a malformed email naming the field', async () => {
    const ws = await workspaces.create('C');
    const e = await refusal(users.create(ws.id, { email: 'not an email', passwordHash: null }));
    expect(e.status).toBe(422);
    expect(e.errors[0]).toMatchObject({ field: 'email', code: 'format' });
    expect(await users.findForLogin('not an email')).toEqual([]);
  });

  it('stores only the hash of a token, embeds the workspace, and verifies it', async () => {
    const ws = await workspaces.create('D');
    const user = await users.create(ws.id, { email: 'd@example.com', passwordHash: null });
    const issued = await tokens.issue(ws.id, user.id, { kind: 'api', name: 'ci' });
    expect(issued.token).toMatch(new RegExp(`^tsk_${ws.id.replace(/-/g, '')}_[A-Za-z0-9_-]{43}$`));
    const stored = await database.db.selectFrom('auth_tokens').select('token_hash').where('id', '=', issued.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(issued.token));
    expect(stored.token_hash).not.toContain(issued.token.slice(-43));
    expect(await tokens.verify(issued.token)).toEqual({ workspaceId: ws.id, userId: user.id, tokenId: issued.id, kind: 'api' });
    // one changed character, another workspace's prefix, or garbage: all rejected
    const last = issued.token.slice(-1) === 'A' ? 'B' : 'A';
    expect(await tokens.verify(issued.token.slice(0, -1) + last)).toBeNull();
    const other = await workspaces.create('E');
    expect(await tokens.verify(issued.token.replace(ws.id.replace(/-/g, ''), other.id.replace(/-/g, '')))).toBeNull();
    expect(await tokens.verify("tsk_'; drop table users; --")).toBeNull();
  });

  it('rejects expired and revoked tokens and tokens of disabled users', async () => {
    const ws = await workspaces.create('F');
    const user = await users.create(ws.id, { email: 'f@example.com', passwordHash: null });
    const expired = await tokens.issue(ws.id, user.id, { kind: 'session', expiresAt: new Date(Date.now() - 1000) });
    expect(await tokens.verify(expired.token)).toBeNull();

    const api = await tokens.issue(ws.id, user.id, { kind: 'api', name: 'laptop' });
    expect((await tokens.list(ws.id, user.id)).map((t) => t.name)).toEqual(['laptop']);
    await tokens.revoke(ws.id, user.id, api.id);
    expect(await tokens.verify(api.token)).toBeNull();
    expect(await tokens.list(ws.id, user.id)).toEqual([]);
    expect((await refusal(tokens.revoke(ws.id, user.id, api.id))).status).toBe(404);

    const live = await tokens.issue(ws.id, user.id, { kind: 'api' });
    await sql`UPDATE users SET disabled_at = now() WHERE workspace_id = ${ws.id} AND id = ${user.id}`.execute(database.db);
    expect(await tokens.verify(live.token)).toBeNull();
  });

  it("cannot revoke another user's token", async () => {
    const ws = await workspaces.create('G');
    const owner = await users.create(ws.id, { email: 'owner@example.com', passwordHash: null });
    const intruder = await users.create(ws.id, { email: 'intruder@example.com', passwordHash: null });
    const t = await tokens.issue(ws.id, owner.id, { kind: 'api' });
    expect((await refusal(tokens.revoke(ws.id, intruder.id, t.id))).status).toBe(404);
    expect((await refusal(tokens.revoke(ws.id, intruder.id, 'not-a-uuid'))).status).toBe(404);
    expect(await tokens.verify(t.token)).not.toBeNull();
  });

  it('records when a token was last used', async () => {
    const ws = await workspaces.create('H');
    const user = await users.create(ws.id, { email: 'h@example.com', passwordHash: null });
    const t = await tokens.issue(ws.id, user.id, { kind: 'api' });
    expect((await tokens.list(ws.id, user.id))[0]?.lastUsedAt).toBeNull();
    await tokens.verify(t.token);
    expect((await tokens.list(ws.id, user.id))[0]?.lastUsedAt).toEqual(expect.any(String));
  });

  it('trusts a verified token briefly: a revocation here is immediate, one from another process lands within the TTL', async () => {
    const ws = await workspaces.create('cache');
    const user = await users.create(ws.id, { email: 'cache@example.com', passwordHash: 'h' });
    const here = new TokenRepository(database.db, { verifiedTtlMs: 60_000 });
    const elsewhere = new TokenRepository(database.db);
    const uncached = new TokenRepository(database.db, { verifiedTtlMs: 0 });

    const a = await here.issue(ws.id, user.id, { kind: 'api' });
    expect(await here.verify(a.token)).toMatchObject({ userId: user.id });
    await elsewhere.revoke(ws.id, user.id, a.id);
    expect(await uncached.verify(a.token)).toBeNull();
    expect(await here.verify(a.token)).toMatchObject({ userId: user.id }); // another process's revocation: not yet seen

    const b = await here.issue(ws.id, user.id, { kind: 'api' });
    expect(await here.verify(b.token)).not.toBeNull();
    await here.revoke(ws.id, user.id, b.id);
    expect(await here.verify(b.token)).toBeNull(); // this process's revocation: at once
  });
});
