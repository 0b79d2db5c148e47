import { resolve } from 'node:path';

export interface StartConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  adminEmail?: string;
  adminPassword?: string;
}

/** The start command is configured only by environment, as the README documents. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    port,
    host: env.HOST || '0.0.0.0',
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    dataDir: resolve(env.TESSERA_DATA_DIR || './data'),
    ...(env.TESSERA_ADMIN_EMAIL ? { adminEmail: env.TESSERA_ADMIN_EMAIL } : {}),
    ...(env.TESSERA_ADMIN_PASSWORD ? { adminPassword: env.TESSERA_ADMIN_PASSWORD } : {}),
  };
}
