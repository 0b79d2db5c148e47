import { resolve } from 'node:path';

export interface StartConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  adminEmail?: string;
  adminPassword?: string;
  /** flow workers run inside `start` unless TESSERA_WORKERS=0 (then only `tessera worker` processes run them) */
  workers: boolean;
  /** flow steps one worker process runs at once (TESSERA_WORKER_CONCURRENCY, default 4) */
  workerConcurrency: number;
  /** steps of one flow instance that may share a transaction (TESSERA_FLOW_STEPS_PER_TRANSACTION, default 1) */
  flowStepsPerTransaction?: number;
}

/** The start command is configured only by environment, as the README documents. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const workerConcurrency = env.TESSERA_WORKER_CONCURRENCY ? Number(env.TESSERA_WORKER_CONCURRENCY) : 4;
  if (!Number.isInteger(workerConcurrency) || workerConcurrency < 1 || workerConcurrency > 64) {
    throw new Error(`TESSERA_WORKER_CONCURRENCY must be an integer from 1 to 64, got "${env.TESSERA_WORKER_CONCURRENCY}"`);
  }
  const steps = env.TESSERA_FLOW_STEPS_PER_TRANSACTION ? Number(env.TESSERA_FLOW_STEPS_PER_TRANSACTION) : undefined;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1 || steps > 100)) {
    throw new Error(`TESSERA_FLOW_STEPS_PER_TRANSACTION must be an integer from 1 to 100, got "${env.TESSERA_FLOW_STEPS_PER_TRANSACTION}"`);
  }
  return {
    port,
    host: env.HOST || '0.0.0.0',
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    dataDir: resolve(env.TESSERA_DATA_DIR || './data'),
    ...(env.TESSERA_ADMIN_EMAIL ? { adminEmail: env.TESSERA_ADMIN_EMAIL } : {}),
    ...(env.TESSERA_ADMIN_PASSWORD ? { adminPassword: env.TESSERA_ADMIN_PASSWORD } : {}),
    workers: env.TESSERA_WORKERS !== '0',
    workerConcurrency,
    ...(steps !== undefined ? { flowStepsPerTransaction: steps } : {}),
  };
}
