import { randomUUID } from 'node:crypto';
import type { AppDocument, Locale, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, openTestDatabase, type Actor, type Database } from '@tessera/store';
import { RuleEngine } from '../src/index';

export interface RulesHarness {
  database: Database;
  actor: Actor;
  app: PublishedApp;
  /** a repository running the rule engine, messages in `locale` */
  records(locale?: Locale): RecordRepository;
  as(source: Actor['source']): Actor;
  /** rows of a system table the engine writes, for this workspace */
  count(table: 'records' | 'record_history' | 'tasks' | 'notifications'): Promise<number>;
  close(): Promise<void>;
}

/** A fresh database (PGlite, or PostgreSQL with DATABASE_URL), a workspace and user, and `doc` published. */
export async function publishRules(doc: AppDocument): Promise<RulesHarness> {
  const database = await openTestDatabase();
  const workspaceId = randomUUID();
  const userId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'rules' }).execute();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
  const actor: Actor = { workspaceId, userId, source: 'api' };
  const metadata = new MetadataRepository(database.db);
  await metadata.createApp(actor, { key: 'app', draft: doc });
  await metadata.publish(actor, 'app');
  const app = await metadata.getPublished(workspaceId, 'app');
  const engine = new RuleEngine(app);
  return {
    database,
    actor,
    app,
    records: (locale = 'zh') => new RecordRepository(database.db, app, { hooks: engine, locale }),
    as: (source) => ({ ...actor, source }),
    count: async (table) => {
      const row = await database.db
        .selectFrom(table as 'records')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    close: () => database.close(),
  };
}

/** The problem a rejected promise carries, for assertions on status, codes and fields. */
export async function problemOf(promise: Promise<unknown>): Promise<{ status: number; message: string; errors: Array<{ field: string; code: string; message: string }>; extra: Record<string, unknown> }> {
  try {
    await promise;
  } catch (e) {
    const p = e as { status?: number; message: string; errors?: Array<{ field: string; code: string; message: string }>; extra?: Record<string, unknown> };
    if (typeof p.status !== 'number') throw e;
    return { status: p.status, message: p.message, errors: p.errors ?? [], extra: p.extra ?? {} };
  }
  throw new Error('expected the write to be refused, it succeeded');
}

export const label = (en: string) => ({ en, zh: en });
