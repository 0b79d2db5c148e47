import pg from 'pg';
import { RecordRepository, type Database, type MetadataRepository } from '@tessera/store';
import type { WorkflowEngine } from '@tessera/workflow';
import type { Tenant } from '../lib/deal-app';
import { BENCH_FLOW } from './diagram';

export interface InstanceProfile {
  statements: number;
  transactions: number;
  /** the sum of the statements' round trips, in ms (one instance alone, so no waiting on others) */
  roundTripMs: number;
}

/**
 * What one instance of the bench flow costs the database: every statement the engine
 * sends (start through the API path, then every job run by `drain`), counted by
 * intercepting pg's client for that one instance. Caches are warmed by one instance first.
 */
export async function profileOneInstance(database: Database, engine: WorkflowEngine, metadata: MetadataRepository, tenant: Tenant, appKey: string): Promise<InstanceProfile> {
  const app = await metadata.getPublished(tenant.workspaceId, appKey);
  const records = new RecordRepository(database.db, app);
  const log: Array<{ text: string; ms: number }> = [];
  const original = pg.Client.prototype.query;
  let recording = false;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text: string } | undefined;
    const text = typeof first === 'string' ? first : first?.text;
    const started = performance.now();
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (recording && text && result instanceof Promise) {
      result.then(() => log.push({ text: text.replace(/\s+/g, ' ').trim(), ms: performance.now() - started }), () => undefined);
    }
    return result;
  } as typeof original;
  try {
    for (const round of ['warm-up', 'measured']) {
      const deal = await records.create(tenant.actor, 'deal', { title: 'profiled', stage: 'new', amount: '1000' });
      recording = round === 'measured';
      await engine.startInstance(tenant.actor, appKey, BENCH_FLOW.key, { recordId: deal.id });
      while ((await engine.drain()) > 0);
      recording = false;
    }
  } finally {
    pg.Client.prototype.query = original;
  }
  const transactions = log.filter((e) => e.text.toLowerCase() === 'begin').length;
  return {
    statements: log.length,
    transactions,
    roundTripMs: log.reduce((s, e) => s + e.ms, 0),
  };
}
