import { ProblemError, liveFields, validateRecordInput, type FieldDef, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import { ENCRYPTION_KEYS_ENV, isCiphertext, type KeyRing } from './key-ring';
import { activeDecryptionCollector } from './read-audit';

/** Which records and fields had encrypted values decrypted for a reader (one audit row per request names them). */
export interface DecryptedRead {
  objectKey: string;
  recordIds: string[];
  fieldKeys: string[];
}

/** The data key beside an encrypted field's value that holds its blind index (field ids never contain `__`). */
export function blindIndexKey(field: FieldDef): string {
  return `${field.id}__bi`;
}

const EQUALITY = new Set(['==', '!=', 'in']);
const HAS_ENCRYPTED = new WeakMap<PublishedApp, boolean>();

/**
 * Encrypted fields of one published app: seals values on their way into `records.data`
 * and `record_history`, opens them on the way out, and rewrites filters so an exact match
 * compares blind indexes. Everything else about the record store stays unaware of it.
 */
export class FieldSealer {
  private readonly encrypted = new Map<string, FieldDef[]>();
  private readonly reads = new Map<string, { ids: Set<string>; fields: Set<string> }>();

  private readonly appId: string;

  private constructor(
    private readonly ring: KeyRing | null,
    app: PublishedApp,
  ) {
    this.appId = app.appId;
    for (const object of app.document.objects) {
      const fields = liveFields(object).filter((f) => f.encrypted);
      if (fields.length > 0 && object.id) this.encrypted.set(object.id, fields);
    }
  }

  /** null when the app has no encrypted field: then nothing in the write or read path changes. */
  static for(app: PublishedApp, ring: KeyRing | null): FieldSealer | null {
    // repositories are built per request; published versions are immutable, so the answer is kept
    let has = HAS_ENCRYPTED.get(app);
    if (has === undefined) {
      has = app.document.objects.some((o) => liveFields(o).some((f) => f.encrypted));
      HAS_ENCRYPTED.set(app, has);
    }
    return has ? new FieldSealer(ring, app) : null;
  }

  fieldsOf(object: ObjectDef): FieldDef[] {
    return this.encrypted.get(object.id!) ?? [];
  }

  /** The stored form of a record's values: encrypted fields as ciphertext with their blind index beside them. */
  seal(object: ObjectDef, data: Record<string, unknown>): Record<string, unknown> {
    const fields = this.fieldsOf(object);
    if (fields.length === 0) return data;
    const ring = this.requireRing();
    const out: Record<string, unknown> = Object.assign({}, data);
    for (const field of fields) {
      const plain = this.plaintextOf(field, data[field.id!]);
      if (plain === null) {
        delete out[field.id!];
        delete out[blindIndexKey(field)];
        continue;
      }
      out[field.id!] = ring.encrypt(plain, this.context(field));
      out[blindIndexKey(field)] = ring.blindIndex(plain, this.context(field));
    }
    return out;
  }

  /** History before/after pairs by field id: encrypted values are stored as ciphertext there too. */
  sealChanges<T extends Record<string, unknown>>(object: ObjectDef, changes: T): T {
    const fields = this.fieldsOf(object);
    if (fields.length === 0) return changes;
    const ring = this.requireRing();
    const out: Record<string, unknown> = Object.assign({}, changes);
    for (const field of fields) {
      const change = changes[field.id!] as { before?: unknown; after?: unknown } | undefined;
      if (!change) continue;
      const seal = (v: unknown) => {
        const plain = this.plaintextOf(field, v);
        return plain === null ? null : ring.encrypt(plain, this.context(field));
      };
      out[field.id!] = { before: seal(change.before), after: seal(change.after) };
    }
    return out as T;
  }

  /** The readable form of a stored record's values; remembers what it decrypted for the audit trail. */
  open(object: ObjectDef, data: Record<string, unknown>, recordId: string): Record<string, unknown> {
    const fields = this.fieldsOf(object);
    if (fields.length === 0) return data;
    let out: Record<string, unknown> | null = null;
    for (const field of fields) {
      const value = data[field.id!];
      if (!isCiphertext(value)) continue;
      out ??= Object.assign({}, data);
      out[field.id!] = this.requireRing().decrypt(value, this.context(field));
      this.noteRead(object, recordId, field);
    }
    return out ?? data;
  }

  /** One stored value (from history) in readable form. */
  reveal(object: ObjectDef, field: FieldDef, value: unknown, recordId: string): unknown {
    if (!field.encrypted || !isCiphertext(value)) return value;
    this.noteRead(object, recordId, field);
    return this.requireRing().decrypt(value, this.context(field));
  }

  /** What was decrypted since the last call, per object. */
  takeReads(): DecryptedRead[] {
    const out = [...this.reads.entries()].map(([objectKey, r]) => ({ objectKey, recordIds: [...r.ids], fieldKeys: [...r.fields] }));
    this.reads.clear();
    return out;
  }

  /**
   * A filter over encrypted fields, made answerable: `==`, `!=` and `in` against literals
   * compare the stored blind index with the literal's (under every key of the ring, so
   * values not yet rewritten after a rotation are found); any other use of an encrypted
   * field is refused, since ciphertext cannot be ordered, searched or computed with.
   */
  rewriteFilter(object: ObjectDef, filter: unknown): { object: ObjectDef; filter: unknown } {
    const fields = this.fieldsOf(object);
    if (fields.length === 0) return { object, filter };
    const byKey = new Map(fields.map((f) => [f.key, f]));
    const rewritten = this.rewrite(object, byKey, filter);
    const indexed: ObjectDef = {
      ...object,
      fields: object.fields.map((f) => (byKey.get(f.key) === f ? { ...f, id: blindIndexKey(f), type: 'text' as const, encrypted: false } : f)),
    };
    return { object: indexed, filter: rewritten };
  }

  /** Ciphertext has no useful order. */
  checkSort(object: ObjectDef, sort: string | undefined): void {
    if (!sort) return;
    for (const part of sort.split(',')) {
      const key = part.trim().replace(/^-/, '');
      const field = this.fieldsOf(object).find((f) => f.key === key);
      if (field) throw encryptedMisuse(field, 'sort', 'an encrypted field cannot be sorted by');
    }
  }

  private rewrite(object: ObjectDef, byKey: Map<string, FieldDef>, node: unknown): unknown {
    if (Array.isArray(node)) return node.map((n) => this.rewrite(object, byKey, n));
    if (typeof node !== 'object' || node === null) return node;
    const entries = Object.entries(node);
    if (entries.length !== 1) return node;
    const [op, raw] = entries[0]!;
    const args = Array.isArray(raw) ? raw : [raw];
    if (op === 'var') {
      const field = byKey.get(String(args[0]));
      if (field) throw encryptedMisuse(field, 'filter', 'an encrypted field can only be compared for exact equality (==, != or in with literal values)');
      return node;
    }
    const field = EQUALITY.has(op) ? encryptedOperand(byKey, args) : null;
    if (!field) return { [op]: Array.isArray(raw) ? args.map((a) => this.rewrite(object, byKey, a)) : this.rewrite(object, byKey, raw) };
    const literal = isVar(args[0], field) ? args[1] : args[0];
    const variable = { var: field.key };
    if (literal === null) return { [op]: [variable, null] };
    const values = op === 'in' ? literal : [literal];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string') || (op === 'in' && !isVar(args[0], field))) {
      throw encryptedMisuse(field, 'filter', 'compare an encrypted field with string literals only');
    }
    const ring = this.requireRing();
    const hashes = values.flatMap((v) => ring.blindIndexes(normalised(object, field, v as string), this.context(field)));
    const match = { in: [variable, hashes] };
    // `!=` never holds for an empty value (as over plaintext), where `!in` would
    return op === '!=' ? { and: [{ '!=': [variable, null] }, { '!': match }] } : match;
  }

  private plaintextOf(field: FieldDef, value: unknown): string | null {
    if (value === undefined || value === null) return null;
    if (isCiphertext(value)) {
      // a value carried over as stored (a merge copies the other record's value): re-seal its plaintext
      try {
        return this.requireRing().decrypt(value, this.context(field));
      } catch (e) {
        if (e instanceof ProblemError) throw e;
      }
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  private noteRead(object: ObjectDef, recordId: string, field: FieldDef): void {
    activeDecryptionCollector()?.note(object.key, recordId, field.key);
    let entry = this.reads.get(object.key);
    if (!entry) this.reads.set(object.key, (entry = { ids: new Set(), fields: new Set() }));
    entry.ids.add(recordId);
    entry.fields.add(field.key);
  }

  /** associated data of a field's ciphertext: it decrypts only in this app (so this tenant) and this field */
  private context(field: FieldDef): string {
    return `${this.appId}/${field.id}`;
  }

  private requireRing(): KeyRing {
    if (!this.ring) {
      throw new ProblemError('conflict', `This app has encrypted fields but no encryption key is configured: set ${ENCRYPTION_KEYS_ENV}`, [
        { field: ENCRYPTION_KEYS_ENV, code: 'missing', message: 'no encryption key configured' },
      ]);
    }
    return this.ring;
  }
}

function isVar(node: unknown, field: FieldDef): boolean {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const v = (node as { var?: unknown }).var;
  return (Array.isArray(v) ? v[0] : v) === field.key;
}

function encryptedOperand(byKey: Map<string, FieldDef>, args: unknown[]): FieldDef | null {
  for (const field of byKey.values()) if (args.length === 2 && (isVar(args[0], field) || isVar(args[1], field))) return field;
  return null;
}

/** The literal in the stored normal form (an email lower-cased, a phone in its canonical form), so equal values hash equally. */
function normalised(object: ObjectDef, field: FieldDef, value: string): string {
  try {
    const out = validateRecordInput(object, { [field.key]: value }, 'update');
    const stored = out[field.id!];
    return typeof stored === 'string' ? stored : value;
  } catch {
    return value;
  }
}

function encryptedMisuse(field: FieldDef, where: string, message: string): ProblemError {
  return new ProblemError('bad_request', `Field "${field.key}" is encrypted: ${message}`, [{ field: where, code: 'encrypted_field', message: `${field.key}: ${message}` }]);
}
