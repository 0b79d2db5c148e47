import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openTestDatabase, type Database } from '@tessera/store';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'apps/cli/src/main.ts');
const ADMIN = { email: 'flows@example.com', password: 'a long enough password 123' };

interface Running {
  child: ChildProcess;
  output: () => string;
}

/** `tessera <command>`; resolves once its output matches `ready`. */
function run(command: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<Running> {
  const child = spawn(TSX, [MAIN, command], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) resolvePromise({ child, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tessera ${command} exited with ${code}:\n${out}`)));
  });
}

function exitCode(running: Running, signal?: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolvePromise) => {
    running.child.removeAllListeners('exit');
    if (running.child.exitCode !== null) return resolvePromise(running.child.exitCode);
    running.child.once('exit', (code) => resolvePromise(code));
    if (signal) running.child.kill(signal);
  });
}

/** A client of the started server: signs in, publishes an app with one automatic flow, starts instances. */
async function client(port: number) {
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  expect(login.status).toBe(200);
  const { token } = (await login.json()) as { token: string };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return {
    async publishFlowApp() {
      const draft = {
        objects: [{ key: 'note', label: { en: 'Note' }, fields: [{ key: 'text', type: 'text', label: { en: 'Text' } }] }],
        flows: [
          {
            key: 'tick',
            name: { en: 'Tick' },
            variables: [{ name: 'ticked', type: 'boolean' }],
            nodes: [
              { id: 'start', type: 'startEvent', trigger: { type: 'api' } },
              // a wait only a worker ends (the starting call may run automatic steps itself)
              { id: 'wait', type: 'timerEvent', timer: { duration: 'PT1S' } },
              { id: 'set', type: 'serviceTask', action: { type: 'setVariables', values: { ticked: true } } },
              { id: 'end', type: 'endEvent', result: 'ticked' },
            ],
            edges: [
              { id: 'e1', source: 'start', target: 'wait' },
              { id: 'e2', source: 'wait', target: 'set' },
              { id: 'e3', source: 'set', target: 'end' },
            ],
          },
        ],
      };
      expect((await call('POST', '/api/apps', { key: 'flows', draft })).status).toBe(201);
      expect((await call('POST', '/api/apps/flows/publish', {})).status).toBe(201);
    },
    async start(): Promise<string> {
      const started = await call('POST', '/api/apps/flows/flows/tick/instances', {});
      expect(started.status).toBe(201);
      return started.json.id as string;
    },
    async status(id: string): Promise<string> {
      return (await call('GET', `/api/flow-instances/${id}`)).json.status as string;
    },
    async waitFor(id: string, status: string, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while ((await this.status(id)) !== status) {
        if (Date.now() > deadline) throw new Error(`instance ${id} is still ${await this.status(id)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

const portOf = (out: string) => Number(/listening on http:\/\/localhost:(\d+)/.exec(out)![1]);

describe('flow workers', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-cli-flows-')), 'data');
  afterAll(() => rmSync(resolve(dataDir, '..'), { recursive: true, force: true }));

  it('tessera start runs flows with its in-process worker and stops cleanly on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { PORT: '0', TESSERA_DATA_DIR: dataDir, TESSERA_ADMIN_EMAIL: ADMIN.email, TESSERA_ADMIN_PASSWORD: ADMIN.password, DATABASE_URL: '' };
    const server = await run('start', env, /listening on http:\/\/localhost:\d+/);
    try {
      const api = await client(portOf(server.output()));
      await api.publishFlowApp();
      const id = await api.start();
      await api.waitFor(id, 'completed');
    } finally {
      expect(await exitCode(server, 'SIGTERM')).toBe(0);
    }
  }, 120_000);

  it('tessera worker refuses the embedded database, whose flows run inside tessera start', async () => {
    const worker = spawn(TSX, [MAIN, 'worker'], { env: { ...process.env, DATABASE_URL: '' }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    worker.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => worker.once('exit', r));
    expect(code).toBe(1);
    expect(out).toContain('needs PostgreSQL (DATABASE_URL)');
  }, 60_000);

  it.skipIf(!process.env.DATABASE_URL)('on PostgreSQL, with TESSERA_WORKERS=0 the server runs no flow steps; a tessera worker process does', async () => {
    let database: Database | undefined;
    let server: Running | undefined;
    try {
      database = await openTestDatabase();
      const { name } = await database.db.selectNoFrom((eb) => eb.fn<string>('current_database', []).as('name')).executeTakeFirstOrThrow();
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = `/${name}`;
      const env = { PORT: '0', DATABASE_URL: url.toString(), TESSERA_ADMIN_EMAIL: ADMIN.email, TESSERA_ADMIN_PASSWORD: ADMIN.password };
      server = await run('start', { ...env, TESSERA_WORKERS: '0' }, /listening on http:\/\/localhost:\d+/);
      const api = await client(portOf(server.output()));
      await api.publishFlowApp();
      const id = await api.start();
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await api.status(id)).toBe('running');
      const worker = await run('worker', env, /flow worker running/);
      try {
        await api.waitFor(id, 'completed');
      } finally {
        expect(await exitCode(worker, 'SIGTERM')).toBe(0);
      }
    } finally {
      if (server) expect(await exitCode(server, 'SIGTERM')).toBe(0);
      await database?.close();
    }
  }, 120_000);
});
