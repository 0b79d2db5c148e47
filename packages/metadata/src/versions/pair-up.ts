interface Keyed {
  id?: string;
  key: string;
  deleted?: boolean;
}

export interface Pair<T> {
  item: T;
  prev: T | undefined;
}

/**
 * Matches draft items to the previous version's: by id when the draft carries one,
 * else a live draft item takes the previous item with its key (a live one first, else a
 * soft-deleted one: re-adding a removed key restores it). A soft-deleted draft item whose
 * id was taken that way is dropped, since the live item now carries that id.
 * `orphans` are previous items the draft no longer mentions.
 */
export function pairUp<T extends Keyed>(previous: T[], draft: T[]): { pairs: Pair<T>[]; orphans: T[] } {
  const prevById = new Map<string, T>();
  for (const p of previous) if (p.id) prevById.set(p.id, p);
  const used = new Set<string>();
  const slots: (Pair<T> | null | undefined)[] = draft.map(() => undefined);
  const take = (p: T | undefined): T | undefined => {
    if (p?.id) used.add(p.id);
    return p;
  };
  draft.forEach((item, i) => {
    if (!item.deleted && item.id) slots[i] = { item, prev: take(prevById.get(item.id)) };
  });
  draft.forEach((item, i) => {
    if (item.deleted || item.id) return;
    const candidates = previous.filter((p) => p.key === item.key && p.id && !used.has(p.id));
    slots[i] = { item, prev: take(candidates.find((p) => !p.deleted) ?? candidates[0]) };
  });
  draft.forEach((item, i) => {
    if (!item.deleted) return;
    if (item.id && used.has(item.id)) {
      slots[i] = null;
      return;
    }
    slots[i] = { item, prev: take(item.id ? prevById.get(item.id) : undefined) };
  });
  const pairs = slots.filter((s): s is Pair<T> => s !== null && s !== undefined);
  const orphans = previous.filter((p) => p.id && !used.has(p.id));
  return { pairs, orphans };
}
