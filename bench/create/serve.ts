import { openDatabase } from '@tessera/store';
import { buildServer } from '@tessera/server';
import { buildBaselineServer } from './baseline-server';

/**
 * Child process running one server under test, so the load generator never shares its
 * event loop. `serve.ts <ours|baseline> <database url>`; reports its port over IPC and
 * exits when the parent disconnects.
 */
async function main(): Promise<void> {
  const [mode, url] = process.argv.slice(2);
  if (!url || (mode !== 'ours' && mode !== 'baseline')) throw new Error('usage: serve.ts <ours|baseline> <database url>');
  let close: () => Promise<void>;
  let port: number;
  if (mode === 'ours') {
    const database = await openDatabase({ url });
    const app = buildServer({ database });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = addressPort(app.server.address());
    close = async () => { await app.close(); await database.close(); };
  } else {
    const server = buildBaselineServer(url);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    port = addressPort(server.app.server.address());
    close = server.close;
  }
  process.on('disconnect', () => {
    close().finally(() => process.exit(0));
  });
  process.send?.({ port });
}

function addressPort(address: unknown): number {
  const port = (address as { port?: unknown } | null)?.port;
  if (typeof port !== 'number') throw new Error('server did not report a port');
  return port;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
