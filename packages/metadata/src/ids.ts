import { ID_PATTERN } from './types';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 10 characters of [a-z0-9] give ~51 bits: collisions are checked anyway, but practically never happen. */
function randomSuffix(length = 10): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  // 256 is not a multiple of 36; the slight bias does not matter for ids that are also collision-checked.
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export function newObjectId(): string {
  return 'o_' + randomSuffix();
}

export function newFieldId(): string {
  return 'f_' + randomSuffix();
}

/** Draws until the id is not in `taken`, and reserves it there. */
export function freshId(make: () => string, taken: Set<string>): string {
  let id = make();
  while (taken.has(id) || !ID_PATTERN.test(id)) id = make();
  taken.add(id);
  return id;
}
