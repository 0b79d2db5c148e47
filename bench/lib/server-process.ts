import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const SERVE = path.join(HERE, '../create/serve.ts');

/** The administrator every HTTP benchmark bootstraps and logs in as. */
export const BENCH_ADMIN = { email: 'bench@tessera.local', password: 'bench-password-0123456789' };

/**
 * One server under test in its own Node process (so the load generator does not share
 * its event loop): `ours` is the platform, `baseline` the bare fastify + pg route.
 */
export function startServer(side: 'ours' | 'baseline', url: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(SERVE, [side, url], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message) => resolve({ child, port: (message as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`the ${side} server exited early (code ${code})`)));
    child.once('error', reject);
  });
}

export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.disconnect();
  });
}

/** A Bearer token for BENCH_ADMIN on the platform server at `port`. */
export async function login(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
