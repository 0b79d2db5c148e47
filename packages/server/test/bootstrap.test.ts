import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type Database } from '@tessera/store';
import { DEFAULT_ADMIN_EMAIL, bootstrap, buildServer } from '../src/index';

describe('first-start bootstrap', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('creates one workspace and an admin, prints a generated password once, and the password works', async () => {
    const printed: string[] = [];
    const first = await bootstrap(database, { print: (line) => printed.push(line) });
    expect(first.created).toBe(true);
    expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(printed.join('\n')).toContain(first.generatedPassword);
    expect(printed.filter((l) => l.includes(first.generatedPassword!))).toHaveLength(1);

    const again: string[] = [];
    const second = await bootstrap(database, { print: (line) => again.push(line) });
    expect(second).toMatchObject({ created: false, workspaceId: first.workspaceId });
    expect(second.generatedPassword).toBeUndefined();
    expect(again).toEqual([]);
    const admins = await database.db.selectFrom('users').select('email').where('is_admin', '=', true).execute();
    expect(admins).toEqual([{ email: DEFAULT_ADMIN_EMAIL }]);
    expect(await database.db.selectFrom('workspaces').select('workspace_id').execute()).toHaveLength(1);

    const app = buildServer({ database });
    try {
      const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: DEFAULT_ADMIN_EMAIL, password: first.generatedPassword } });
      expect(login.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('a later start with a different admin password does not reset the admin', async () => {
    const later = await bootstrap(database, { adminEmail: 'someone@example.com', adminPassword: 'a brand new password', print: () => {} });
    expect(later.created).toBe(false);
    expect(await database.db.selectFrom('users').select('email').execute()).toEqual([{ email: DEFAULT_ADMIN_EMAIL }]);
  });

  it('concurrent first starts create exactly one workspace and admin', async () => {
    const fresh = await openTestDatabase();
    try {
      const results = await Promise.all([1, 2, 3].map(() => bootstrap(fresh, { adminPassword: 'given password', print: () => {} })));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(results.every((r) => r.generatedPassword === undefined)).toBe(true);
      expect(await fresh.db.selectFrom('users').select('id').execute()).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a too-short admin password naming the variable', async () => {
    const fresh = await openTestDatabase();
    try {
      await expect(bootstrap(fresh, { adminPassword: 'short', print: () => {} })).rejects.toMatchObject({
        status: 422,
        errors: [expect.objectContaining({ field: 'TESSERA_ADMIN_PASSWORD' })],
      });
      expect(await fresh.db.selectFrom('users').select('id').execute()).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});
