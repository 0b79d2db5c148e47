import { KeyRing, migrate, rotateEncryptedValues } from '@tessera/store';
import type { StartConfig } from './config';
import { openConfiguredDatabase } from './commands';

/**
 * `tessera rotate-keys`: re-encrypts every encrypted value not under the first key of
 * TESSERA_ENCRYPTION_KEYS (see docs/security.md, "Encrypted fields"). Servers may keep
 * running: a concurrent write wins and seals with the first key itself.
 */
export async function rotateKeysCommand(config: StartConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const ring = KeyRing.fromEnv(env);
  if (!ring) throw new Error('TESSERA_ENCRYPTION_KEYS is not set: put the new key first, the old ones after it');
  const database = await openConfiguredDatabase(config);
  try {
    await migrate(database);
    const result = await rotateEncryptedValues(database.db, ring);
    console.log(`Re-encrypted under key "${ring.currentKeyId}": ${result.records} records, ${result.history} history entries.`);
    console.log(result.records + result.history === 0 ? `Nothing is left under older keys: keys other than "${ring.currentKeyId}" can be removed.` : 'Run it again to confirm nothing is left.');
  } finally {
    await database.close();
  }
}
