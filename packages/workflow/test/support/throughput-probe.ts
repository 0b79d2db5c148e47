// Manual probe (not a test): instances/s of the crash flow with N in-process workers, no kills.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { MetadataRepository, migrate, openDatabase } from '@tessera/store';
import { WorkflowEngine } from '../../src/index';
import { dealApp, end, flow, start } from './engine-harness';

const url = process.argv[2]!;
const n = Number(process.argv[3] ?? 300);
const admin = await openDatabase({ url, maxConnections: 1 });
const name = `probe_${process.pid}`;
await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
const target = new URL(url); target.pathname = `/${name}`;
const database = await openDatabase({ url: target.toString(), maxConnections: 20 });
await migrate(database);
const ws = randomUUID(); const uid = randomUUID();
await database.db.insertInto('workspaces').values({ workspace_id: ws, name: 'p' }).execute();
await database.db.insertInto('users').values({ workspace_id: ws, id: uid, email: 'p@x.com' }).execute();
const actor = { workspaceId: ws, userId: uid, source: 'api' as const };
const metadata = new MetadataRepository(database.db);
const f = flow('p', [start(), { id: 'gw', type: 'exclusiveGateway', default: 'e2' }, { id: 'a', type: 'serviceTask', action: { type: 'setVariables', values: { x: 1 } } }, { id: 'fork', type: 'parallelGateway' }, { id: 'l', type: 'serviceTask', action: { type: 'setVariables', values: { y: 1 } } }, { id: 'r', type: 'serviceTask', action: { type: 'setVariables', values: { z: 1 } } }, { id: 'join', type: 'parallelGateway' }, end()],
  [['start', 'gw'], ['gw', 'a', { id: 'e2' }], ['a', 'fork'], ['fork', 'l'], ['fork', 'r'], ['l', 'join'], ['r', 'join'], ['join', 'end']], { object: undefined, variables: [{ name: 'x', type: 'number' }, { name: 'y', type: 'number' }, { name: 'z', type: 'number' }] });
await metadata.createApp(actor, { key: 'app', draft: dealApp([f]) });
await metadata.publish(actor, 'app');
const engine = new WorkflowEngine(database.db, { metadata, stepsPerTransaction: Number(process.argv[5] ?? 1) });
const t0 = Date.now();
for (let i = 0; i < n; i += 25) await Promise.all(Array.from({ length: 25 }, () => engine.startInstance(actor, 'app', 'p', {})));
console.log('started in', Date.now() - t0);
const ac = new AbortController();
const w = engine.runWorker({ concurrency: Number(process.argv[4] ?? 8), pollMs: 20, signal: ac.signal });
for (;;) {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM flow_instances WHERE status='completed'`.execute(database.db);
  if (r.rows[0]!.n >= n) break;
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`${n} instances in ${Date.now() - t0} ms`);
ac.abort(); await w; await database.close(); await new Promise((r) => setTimeout(r, 300));
await sql.raw(`DROP DATABASE ${name} WITH (FORCE)`).execute(admin.db); await admin.close();
