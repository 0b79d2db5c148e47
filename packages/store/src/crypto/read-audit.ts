import { AsyncLocalStorage } from 'node:async_hooks';
import type { DecryptedRead } from './field-sealer';

/**
 * Collects, for one unit of work (the server uses one per request), which records and
 * fields had encrypted values decrypted — by any record repository that unit builds, so
 * no read path can forget to report one. The server writes them as one audit entry.
 */
export class DecryptionCollector {
  private readonly reads = new Map<string, { ids: Set<string>; fields: Set<string> }>();

  note(objectKey: string, recordId: string, fieldKey: string): void {
    let entry = this.reads.get(objectKey);
    if (!entry) this.reads.set(objectKey, (entry = { ids: new Set(), fields: new Set() }));
    entry.ids.add(recordId);
    entry.fields.add(fieldKey);
  }

  get empty(): boolean {
    return this.reads.size === 0;
  }

  take(): DecryptedRead[] {
    const out = [...this.reads.entries()].map(([objectKey, r]) => ({ objectKey, recordIds: [...r.ids], fieldKeys: [...r.fields] }));
    this.reads.clear();
    return out;
  }
}

const active = new AsyncLocalStorage<DecryptionCollector>();

/** Runs `work` with `collector` receiving every decryption made inside it (across awaits). */
export function collectDecryptions<T>(collector: DecryptionCollector, work: () => T): T {
  return active.run(collector, work);
}

export function activeDecryptionCollector(): DecryptionCollector | undefined {
  return active.getStore();
}
