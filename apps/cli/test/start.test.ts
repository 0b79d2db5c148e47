import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'apps/cli/src/main.ts');

interface Running {
  child: ChildProcess;
  output: () => string;
  port: number;
}

/** `tessera start` on the embedded database in a fresh folder; resolves once it listens. */
function start(dataDir: string): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', TESSERA_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  // This test is about the embedded default; PostgreSQL start-up is the same code after openDatabase.
  delete env.DATABASE_URL;
  delete env.TESSERA_ADMIN_EMAIL;
  delete env.TESSERA_ADMIN_PASSWORD;
  const child = spawn(TSX, [MAIN, 'start'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (match) resolvePromise({ child, output: () => out, port: Number(match[1]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`start exited with ${code}:\n${out}`)));
  });
}

function stop(running: Running): Promise<number | null> {
  return new Promise((resolvePromise) => {
    running.child.removeAllListeners('exit');
    running.child.once('exit', (code) => resolvePromise(code));
    running.child.kill('SIGTERM');
  });
}

describe('tessera start', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-cli-')), 'data');
  afterAll(() => rmSync(resolve(dataDir, '..'), { recursive: true, force: true }));

  it('creates the data folder, prints a generated admin password once, serves the API, and stops on SIGTERM', async () => {
    const first = await start(dataDir);
    const password = /with the password: (\S+)/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    const base = `http://127.0.0.1:${first.port}`;
    expect(await (await fetch(`${base}/api/health`)).json()).toEqual({ status: 'ok', database: 'pglite' });
    expect(first.output()).toContain('embedded PGlite');
    expect(await stop(first)).toBe(0);

    // Second start on the same folder: the same admin, no new password.
    const second = await start(dataDir);
    try {
      expect(second.output()).not.toContain('password:');
      const login = await fetch(`http://127.0.0.1:${second.port}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@tessera.local', password }),
      });
      expect(login.status).toBe(200);
    } finally {
      expect(await stop(second)).toBe(0);
    }
  });
});
