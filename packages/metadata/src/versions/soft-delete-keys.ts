const MAX_KEY = 63;

/**
 * Soft-deleted items keep their key so re-adding it restores them, unless a live item
 * (or an earlier deleted one) now uses that key: then the deleted one moves aside to
 * `<key>__v<version>` so keys stay unique and the old values stay findable by name.
 */
export function renameCollidingDeleted<T extends { key: string; deleted?: boolean }>(items: T[], version: number): T[] {
  const taken = new Set(items.filter((i) => !i.deleted).map((i) => i.key));
  return items.map((item) => {
    if (!item.deleted) return item;
    if (!taken.has(item.key)) {
      taken.add(item.key);
      return item;
    }
    const key = asideKey(item.key, version, taken);
    taken.add(key);
    return { ...item, key };
  });
}

function asideKey(key: string, version: number, taken: Set<string>): string {
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? `__v${version}` : `__v${version}_${n}`;
    const candidate = key.slice(0, MAX_KEY - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}
