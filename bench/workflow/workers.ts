import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const CLI = path.join(REPO_ROOT, 'apps/cli/src/main.ts');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
}

/** `tessera worker` in a child process on the database at `url`; resolves once it runs. */
export function startWorkerProcess(url: string, concurrency: number, stepsPerTransaction = 1): Promise<WorkerProcess> {
  const child = spawn(TSX, [CLI, 'worker'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: url, TESSERA_WORKER_CONCURRENCY: String(concurrency), TESSERA_FLOW_STEPS_PER_TRANSACTION: String(stepsPerTransaction) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('flow worker running')) resolve({ child, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tessera worker exited early (code ${code}):\n${out}`)));
  });
}

/** SIGTERM, as an orchestrator stops a worker: the running steps commit, then it exits 0. */
export function stopWorkerProcess(worker: WorkerProcess): Promise<number | null> {
  return new Promise((resolve) => {
    worker.child.removeAllListeners('exit');
    if (worker.child.exitCode !== null) return resolve(worker.child.exitCode);
    worker.child.once('exit', (code) => resolve(code));
    worker.child.kill('SIGTERM');
  });
}
