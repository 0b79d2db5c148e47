import type { FastifyInstance } from 'fastify';
import type { PublishedApp } from '@tessera/metadata';
import { ruleEngineFor } from '@tessera/rules';
import { composeWriteHooks, type Database, type MetadataRepository } from '@tessera/store';
import type { WriteOptions } from '../records/write-options';
import { WorkflowEngine, type WorkerOptions, type WorkflowEngineOptions } from '@tessera/workflow';

declare module 'fastify' {
  interface FastifyInstance {
    /** the server's flow engine: the CLI runs its workers, tests drain its jobs */
    workflow: WorkflowEngine;
  }
}

/** The one flow engine of a process (server or worker), over the process's metadata repository. */
export function createWorkflowEngine(database: Database, metadata: MetadataRepository, options: Pick<WorkflowEngineOptions, 'stepsPerTransaction'> = {}): WorkflowEngine {
  return new WorkflowEngine(database.db, { metadata, ...options });
}

/**
 * What every record write of the API runs in its transaction: the app's rules first
 * (defaults, formulas, validation, automations), then the flow engine's record triggers,
 * so a flow started by a write sees the values the rules computed; and the engine's flow
 * starter, through which an automation's startFlow action starts a flow in the same
 * transaction. Cached per published version, as the parts are.
 */
export function recordWriteOptions(engine: WorkflowEngine): (app: PublishedApp) => WriteOptions {
  const cache = new WeakMap<PublishedApp, WriteOptions>();
  return (app) => {
    let options = cache.get(app);
    if (!options) {
      const hooks = composeWriteHooks(ruleEngineFor(app), engine.writeHooksFor(app));
      options = { ...(hooks ? { hooks } : {}), startFlow: engine.flowStarterFor(app) };
      cache.set(app, options);
    }
    return options;
  };
}

export interface WorkerSettings extends Omit<WorkerOptions, 'signal'> {
  /** wait this long before the first claim (lets a process finish starting before its workers query) */
  startAfterMs?: number;
}

export interface RunningWorkers {
  /** aborts claiming; resolves when the steps already running have committed (or failed) */
  stop(): Promise<void>;
}

/**
 * Starts the engine's worker loop. Stopping aborts the loop: no new job is claimed, the
 * running steps finish (each is one transaction), and jobs claimed but not started are
 * released so another worker takes them at once.
 */
export function startWorkers(engine: WorkflowEngine, options: WorkerSettings = {}): RunningWorkers {
  const controller = new AbortController();
  const { startAfterMs = 0, ...workerOptions } = options;
  const running = delay(startAfterMs, controller.signal)
    .then(() => (controller.signal.aborted ? undefined : engine.runWorker({ ...workerOptions, signal: controller.signal })))
    .catch((e: unknown) => {
      process.emitWarning(`workflow worker stopped: ${e instanceof Error ? e.message : String(e)}`);
    });
  let stopped: Promise<void> | null = null;
  return {
    stop: () => {
      stopped ??= (controller.abort(), running);
      return stopped;
    },
  };
}

/** Workers that live as long as the HTTP server: stopped (running steps finished) before the database closes. */
export function runWorkersWithServer(app: FastifyInstance, options: WorkerSettings = {}): void {
  let workers: RunningWorkers | null = null;
  app.addHook('onReady', async () => {
    workers = startWorkers(app.workflow, options);
  });
  app.addHook('onClose', async () => {
    await workers?.stop();
  });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      resolve();
    }
  });
}
