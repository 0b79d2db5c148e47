import { readConfig } from './config';
import { migrateCommand, startCommand, workerCommand } from './commands';
import { rotateKeysCommand } from './rotate-keys';

const USAGE = `Usage: tessera <command>

Commands:
  start     migrate, create the first workspace and admin if needed, and serve the API
  migrate   apply pending database migrations and exit
  worker    run flow workers only (no HTTP), to scale flows out on PostgreSQL
  rotate-keys  re-encrypt encrypted field values under the first key of TESSERA_ENCRYPTION_KEYS

Environment: PORT (3000), DATABASE_URL (PostgreSQL; embedded PGlite when unset),
TESSERA_DATA_DIR (./data), TESSERA_ADMIN_EMAIL, TESSERA_ADMIN_PASSWORD,
TESSERA_WORKERS (0: start runs no flow workers), TESSERA_WORKER_CONCURRENCY (4),
TESSERA_FLOW_STEPS_PER_TRANSACTION (1: each flow step commits on its own),
TESSERA_ENCRYPTION_KEYS (id:base64key,… — the first encrypts; see docs/security.md)`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  switch (command) {
    case 'start':
      await runUntilSignal(() => startCommand(readConfig()));
      return -1;
    case 'worker':
      await runUntilSignal(() => workerCommand(readConfig()));
      return -1;
    case 'migrate':
      await migrateCommand(readConfig());
      return 0;
    case 'rotate-keys':
      await rotateKeysCommand(readConfig());
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`Unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

/**
 * SIGINT/SIGTERM stop the process cleanly: requests and flow steps in flight finish first.
 * The handlers are in place before anything starts, so a signal that arrives while the
 * server is still starting (its workers' first queries can hold the embedded database for
 * a moment) stops it once it has started, instead of killing it half way.
 */
async function runUntilSignal(start: () => Promise<() => Promise<void>>): Promise<void> {
  const started = start();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`Received ${signal}, shutting down`);
      started.then((stop) => stop()).then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(e);
          process.exit(1);
        },
      );
    });
  }
  await started;
}

main(process.argv.slice(2)).then(
  (code) => {
    // -1: a server is running and exits on a signal
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
