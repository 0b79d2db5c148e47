import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { PublishedApp } from '@tessera/metadata';
import { AuditLog, LoginLockout, MetadataRepository, RecordRepository, UserRepository, openTestDatabase, readRecordHistory, refusal, type Actor, type Database } from '../src/index';
import { dealApp, newWorkspace } from './fixtures';

describe('audit trail', () => {
  let database: Database;
  let actor: Actor;
  let app: PublishedApp;
  let records: RecordRepository;
  let audit: AuditLog;

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = { ...(await newWorkspace(database)), ip: '203.0.113.7', userAgent: 'audit-test/1.0' };
    const meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: dealApp() });
    await meta.publish(actor, 'crm', 'first');
    app = await meta.getPublished(actor.workspaceId, 'crm');
    records = new RecordRepository(database.db, app);
    audit = new AuditLog(database.db);
  });
  afterAll(async () => database?.close());

  it('logs metadata writes with who, from where and the change plan', async () => {
    const page = await audit.query(actor.workspaceId, { action: 'app.' });
    expect(page.items.map((e) => e.action)).toEqual(['app.publish', 'app.create']);
    const publish = page.items[0]!;
    expect(publish).toMatchObject({ actorId: actor.userId, targetId: 'crm', ip: '203.0.113.7', userAgent: 'audit-test/1.0', source: 'api' });
    expect(publish.details).toMatchObject({ version: 1, note: 'first', plan: expect.any(Object) });
  });

  it('keeps each record write with its door and address, readable by field key, masked by field permission', async () => {
    const flow: Actor = { ...actor, source: 'flow', ip: null, userAgent: null };
    const deal = await records.create(actor, 'deal', { title: 'Audit me', amount: '10' });
    await records.update(flow, 'deal', deal.id, { amount: '20', notes: 'secret note' }, 1);
    await records.delete({ ...actor, source: 'ui' }, 'deal', deal.id);
    const object = records.object('deal');
    const all = await readRecordHistory(database.db, actor.workspaceId, object, deal.id);
    expect(all.items.map((e) => [e.action, e.source, e.ip])).toEqual([
      ['create', 'api', '203.0.113.7'],
      ['update', 'flow', null],
      ['delete', 'ui', '203.0.113.7'],
    ]);
    expect(all.items[1]!.changes).toEqual({ amount: { before: '10.00', after: '20.00' }, notes: { before: null, after: 'secret note' } });
    const masked = await readRecordHistory(database.db, actor.workspaceId, object, deal.id, { canReadField: (f) => f.key !== 'notes' });
    expect(masked.items[1]!.changes).toEqual({ amount: { before: '10.00', after: '20.00' } });
    expect(JSON.stringify(masked)).not.toContain('secret note');
  });

  it('hides the history of a record outside the reader scope as not found', async () => {
    const deal = await records.create(actor, 'deal', { title: 'Out of scope' });
    const object = records.object('deal');
    const scope = { strings: ['owner_id IS NULL'], values: [] };
    const e = await refusal(readRecordHistory(database.db, actor.workspaceId, object, deal.id, { scope }));
    expect(e.status).toBe(404);
    const other = await newWorkspace(database);
    expect((await refusal(readRecordHistory(database.db, other.workspaceId, object, deal.id))).status).toBe(404);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on both audit tables; only an erasure may rewrite values, never delete', async () => {
    for (const statement of [
      sql`UPDATE audit_log SET action = 'x'`,
      sql`DELETE FROM audit_log`,
      sql`TRUNCATE audit_log`,
      sql`UPDATE record_history SET source = 'x'`,
      sql`DELETE FROM record_history`,
      sql`TRUNCATE record_history`,
    ]) {
      await expect(statement.execute(database.db)).rejects.toThrow(/append-only/);
    }
    await database.db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('tessera.audit_rewrite', 'erasure', true)`.execute(trx);
      const updated = await sql`UPDATE record_history SET source = source WHERE workspace_id = ${actor.workspaceId}`.execute(trx);
      expect(Number(updated.numAffectedRows)).toBeGreaterThan(0);
    });
    const erasingDelete = database.db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('tessera.audit_rewrite', 'erasure', true)`.execute(trx);
      await sql`DELETE FROM record_history WHERE workspace_id = ${actor.workspaceId}`.execute(trx);
    });
    await expect(erasingDelete).rejects.toThrow(/append-only/);
    // the setting was transaction-local: outside, updates are refused again
    await expect(sql`UPDATE record_history SET source = source`.execute(database.db)).rejects.toThrow(/append-only/);
  });

  it('pages the audit log newest first by keyset, every entry exactly once, for any page size and filter', async () => {
    const ws = await newWorkspace(database);
    const other = (await new UserRepository(database.db).create(ws.workspaceId, { email: 'other@example.com', passwordHash: null })).id;
    const actions = ['auth.login', 'auth.logout', 'app.publish', 'auth.token_issue'];
    const written: Array<{ action: string; actorId: string }> = [];
    for (let i = 0; i < 40; i++) {
      const entry = { action: actions[i % 4]!, actorId: i % 3 === 0 ? other : ws.userId! };
      await audit.append({ ...ws, userId: entry.actorId }, { action: entry.action, details: { i } });
      written.push(entry);
    }
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 17 }),
        fc.constantFrom(undefined, 'auth.', 'app.publish', 'auth.logout'),
        fc.constantFrom(undefined, other),
        async (limit, action, user) => {
          const seen: number[] = [];
          let cursor: string | undefined;
          for (let pages = 0; pages < 100; pages++) {
            const page = await audit.query(ws.workspaceId, { limit, action, user, cursor });
            seen.push(...page.items.map((e) => (e.details as { i: number }).i));
            if (!page.nextCursor) break;
            cursor = page.nextCursor;
          }
          const expected = written
            .map((w, i) => ({ ...w, i }))
            .filter((w) => (action === undefined ? true : action.endsWith('.') ? w.action.startsWith(action) : w.action === action))
            .filter((w) => user === undefined || w.actorId === user)
            .map((w) => w.i)
            .reverse();
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('rejects bad audit query values naming them', async () => {
    expect((await refusal(audit.query(actor.workspaceId, { user: 'nope' }))).errors[0]?.field).toBe('user');
    expect((await refusal(audit.query(actor.workspaceId, { from: 'yesterday' }))).errors[0]?.field).toBe('from');
    expect((await refusal(audit.query(actor.workspaceId, { limit: 0 }))).errors[0]?.field).toBe('limit');
  });
});

describe('login lock-out', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => database?.close());

  it('locks after N failures within the window, unlocks after the lock period or when cleared, and forgets failures outside the window', async () => {
    const ws = await newWorkspace(database);
    let now = new Date('2026-12-01T10:00:00Z');
    const lockout = new LoginLockout(database.db, { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 }, () => now);
    const user = ws.userId!;
    expect((await lockout.recordFailure(ws.workspaceId, user)).failures).toBe(1);
    now = new Date(now.getTime() + 61_000); // outside the window: counting starts again
    expect((await lockout.recordFailure(ws.workspaceId, user)).failures).toBe(1);
    expect((await lockout.recordFailure(ws.workspaceId, user)).lockedUntil).toBeNull();
    const third = await lockout.recordFailure(ws.workspaceId, user);
    expect(third.lockedUntil?.toISOString()).toBe('2026-12-01T10:06:01.000Z');
    expect(await lockout.lockedUntil(ws.workspaceId, user)).toEqual(third.lockedUntil);
    // a second process (another LoginLockout over the same database) sees the lock
    expect(await new LoginLockout(database.db, lockout.policy, () => now).lockedUntil(ws.workspaceId, user)).not.toBeNull();
    now = new Date(now.getTime() + 300_001);
    expect(await lockout.lockedUntil(ws.workspaceId, user)).toBeNull();
    expect((await lockout.recordFailure(ws.workspaceId, user)).failures).toBe(1);
    await lockout.recordFailure(ws.workspaceId, user);
    await lockout.recordFailure(ws.workspaceId, user);
    expect(await lockout.lockedUntil(ws.workspaceId, user)).not.toBeNull();
    await lockout.clear(ws.workspaceId, user);
    expect(await lockout.lockedUntil(ws.workspaceId, user)).toBeNull();
  });

  it('counts concurrent failures exactly (one atomic statement each)', async () => {
    const ws = await newWorkspace(database);
    const lockout = new LoginLockout(database.db, { maxFailures: 100, windowMs: 60_000, lockMs: 60_000 });
    await Promise.all(Array.from({ length: 20 }, () => lockout.recordFailure(ws.workspaceId, ws.userId!)));
    const row = await database.db.selectFrom('users').select('failed_logins').where('id', '=', ws.userId!).executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(20);
  });
});
