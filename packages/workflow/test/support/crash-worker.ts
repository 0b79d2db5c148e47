// A workflow worker process for the crash test: `node --import tsx crash-worker.ts <database url> <worker id>`.
// It runs until killed (the test kills it with SIGKILL at random moments).
import { MetadataRepository, openDatabase } from '@tessera/store';
import { WorkflowEngine } from '../../src/index';

const [url, workerId] = process.argv.slice(2);
if (!url || !workerId) throw new Error('usage: crash-worker.ts <database url> <worker id>');

const database = await openDatabase({ url, maxConnections: 8 });
const engine = new WorkflowEngine(database.db, {
  metadata: new MetadataRepository(database.db),
  workerId,
  leaseMs: Number(process.env.CRASH_LEASE_MS ?? 3000),
});
process.stdout.write(`ready ${workerId}\n`);
await engine.runWorker({ concurrency: 8, pollMs: 25 });
