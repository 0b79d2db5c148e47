import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { ProblemError } from '@tessera/metadata';

/** The environment variable holding the key ring: `id1:base64key,id2:base64key`, the first encrypts. */
export const ENCRYPTION_KEYS_ENV = 'TESSERA_ENCRYPTION_KEYS';

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** `tse1:<key id>:<base64url(iv | tag | ciphertext)>` */
const CIPHERTEXT = /^tse1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]+)$/;

interface RingKey {
  id: string;
  /** AES-256-GCM key */
  encryption: Buffer;
  /** HMAC-SHA256 key of the blind index, derived so the two uses never share a key */
  index: Buffer;
}

/**
 * Keys for encrypted fields. Values are sealed with AES-256-GCM under the first key; the
 * ciphertext names its key, so older keys keep decrypting after a rotation (a new key is
 * put first) until every value has been rewritten (`tessera rotate-keys`). The associated
 * data binds each ciphertext to its workspace and field, so a value copied into another
 * tenant or another field does not decrypt.
 */
export class KeyRing {
  private readonly keys: RingKey[];
  private readonly byId: Map<string, RingKey>;

  private constructor(keys: RingKey[]) {
    this.keys = keys;
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** Parses `id1:base64key,id2:base64key`; each key is 32 random bytes. Throws naming the bad entry. */
  static parse(text: string): KeyRing {
    const entries = text.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
    if (entries.length === 0) throw badRing('no keys given');
    const keys: RingKey[] = [];
    for (const [i, entry] of entries.entries()) {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      const material = Buffer.from(entry.slice(colon + 1), 'base64');
      if (!KEY_ID.test(id)) throw badRing(`entry ${i + 1}: the key id must be 1-32 of A-Z a-z 0-9 _ -`);
      if (material.length !== KEY_BYTES) throw badRing(`key "${id}": expected ${KEY_BYTES} bytes in base64 (got ${material.length})`);
      if (keys.some((k) => k.id === id)) throw badRing(`key id "${id}" appears twice`);
      keys.push({ id, encryption: material, index: Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'tessera blind index v1', KEY_BYTES)) });
    }
    return new KeyRing(keys);
  }

  /** The ring from the environment, or null when none is configured. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): KeyRing | null {
    const text = env[ENCRYPTION_KEYS_ENV];
    return text && text.trim() ? KeyRing.parse(text) : null;
  }

  /** A fresh key entry for the ring (`id:base64`), for operators generating keys. */
  static generateEntry(id: string): string {
    if (!KEY_ID.test(id)) throw badRing('the key id must be 1-32 of A-Z a-z 0-9 _ -');
    return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  get keyIds(): string[] {
    return this.keys.map((k) => k.id);
  }

  encrypt(plaintext: string, context: string): string {
    const key = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `tse1:${key.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The plaintext; throws when the key is not in the ring or the value was tampered with. */
  decrypt(ciphertext: string, context: string): string {
    const match = CIPHERTEXT.exec(ciphertext);
    if (!match) throw new Error('not a Tessera ciphertext');
    const key = this.byId.get(match[1]!);
    if (!key) {
      throw new ProblemError('conflict', `A value is encrypted with key "${match[1]}", which is not in ${ENCRYPTION_KEYS_ENV}`, [
        { field: ENCRYPTION_KEYS_ENV, code: 'missing_key', message: `add key "${match[1]}" back to the ring` },
      ]);
    }
    const raw = Buffer.from(match[2]!, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key.encryption, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** The blind index of a value under every key of the ring (the first is the one stored). */
  blindIndexes(value: string, context: string): string[] {
    return this.keys.map((k) => blindIndex(k, value, context));
  }

  blindIndex(value: string, context: string): string {
    return blindIndex(this.keys[0]!, value, context);
  }
}

export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && CIPHERTEXT.test(value);
}

/** The key id a ciphertext names, or null. */
export function ciphertextKeyId(value: unknown): string | null {
  return typeof value === 'string' ? (CIPHERTEXT.exec(value)?.[1] ?? null) : null;
}

function blindIndex(key: RingKey, value: string, context: string): string {
  return `${key.id}:${createHmac('sha256', key.index).update(context).update('\u0000').update(value, 'utf8').digest('base64url')}`;
}

function badRing(message: string): ProblemError {
  return new ProblemError('unprocessable', `${ENCRYPTION_KEYS_ENV} is invalid: ${message}`, [{ field: ENCRYPTION_KEYS_ENV, code: 'invalid', message }]);
}

/** The ring of the environment, parsed once per distinct value (repositories are built per request). */
let cached: { text: string | undefined; ring: KeyRing | null } | null = null;
export function environmentKeyRing(): KeyRing | null {
  const text = process.env[ENCRYPTION_KEYS_ENV];
  if (!cached || cached.text !== text) cached = { text, ring: KeyRing.fromEnv() };
  return cached.ring;
}
