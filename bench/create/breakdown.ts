import { randomUUID } from 'node:crypto';
import { MetadataRepository, RecordRepository, TokenRepository, type Actor } from '@tessera/store';
import type { BenchDatabase } from '../lib/database';
import { dealIds } from '../lib/deal-app';

export interface Step {
  name: string;
  perSecond: number;
}

const SECONDS = 5;
const CONCURRENCY = 16;

/**
 * Where a create's time goes, without HTTP: each step the platform performs per request,
 * driven in-process at the same concurrency, next to the raw INSERTs. Also one candidate
 * fix measured for real: record + history in a single statement (a data-modifying CTE),
 * which needs one round trip instead of BEGIN / INSERT / INSERT / COMMIT.
 */
export async function breakdown(bench: BenchDatabase, actor: Actor & { userId: string }): Promise<Step[]> {
  const metadata = new MetadataRepository(bench.database.db);
  const tokens = new TokenRepository(bench.database.db);
  const app = await metadata.getPublished(actor.workspaceId, 'crm');
  const ids = dealIds(app);
  const repository = new RecordRepository(bench.database.db, app);
  const session = await tokens.issue(actor.workspaceId, actor.userId, { kind: 'session' });
  const body = (i: number) => ({ title: `华东 Acme 采购 #${i}`, stage: 'won', amount: '1234.50', close_date: '2025-01-02', probability: 10 });
  const data = (i: number) => JSON.stringify({ [ids.title]: `华东 Acme 采购 #${i}`, [ids.stage]: 'won', [ids.amount]: '1234.50', [ids.close_date]: '2025-01-02', [ids.probability]: 10 });
  const steps: [string, (i: number) => Promise<unknown>][] = [
    ['baseline: INSERT into the typed table', (i) =>
      bench.pool.query('INSERT INTO deal_typed (title, stage, amount, close_date, probability) VALUES ($1, $2, $3, $4, $5) RETURNING *', [`华东 Acme 采购 #${i}`, 'won', '1234.50', '2025-01-02', 10])],
    ['INSERT into records alone (same indexes the platform keeps)', (i) =>
      bench.pool.query(
        'INSERT INTO records (workspace_id, object_id, id, data, search_text, owner_id, created_by, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING *',
        [actor.workspaceId, ids.objectId, randomUUID(), data(i), `华东 acme 采购 #${i}`, actor.userId],
      )],
    ['candidate: record + history in one statement (CTE)', (i) =>
      bench.pool.query(
        `WITH r AS (
           INSERT INTO records (workspace_id, object_id, id, data, search_text, owner_id, created_by, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $6, $6)
           RETURNING id, version, data, owner_id, created_at, created_by, updated_at, updated_by),
         h AS (
           INSERT INTO record_history (workspace_id, id, record_id, object_id, version, action, changes, actor_id, source)
           SELECT $1, $7, r.id, $2, r.version, 'create', $8, $6, 'api' FROM r)
         SELECT * FROM r`,
        [actor.workspaceId, ids.objectId, randomUUID(), data(i), `华东 acme 采购 #${i}`, actor.userId, randomUUID(), data(i)],
      )],
    ['TokenRepository.verify (every request)', () => tokens.verify(session.token)],
    ['MetadataRepository.getPublished (every request)', () => metadata.getPublished(actor.workspaceId, 'crm')],
    ['RecordRepository.create (transaction: record + history)', (i) => repository.create(actor, 'deal', body(i))],
    ['verify + getPublished + create (what a request does, minus HTTP)', async (i) => {
      await tokens.verify(session.token);
      const published = await metadata.getPublished(actor.workspaceId, 'crm');
      await new RecordRepository(bench.database.db, published).create(actor, 'deal', body(i));
    }],
  ];
  const result: Step[] = [];
  for (const [name, step] of steps) {
    let n = 0;
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) await step(n++);
    }));
    result.push({ name, perSecond: n / SECONDS });
    console.log(`create: breakdown: ${name}: ${Math.round(n / SECONDS)}/s`);
  }
  return result;
}
