import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import {
  KeyRing,
  MetadataRepository,
  RecordRepository,
  openTestDatabase,
  readRecordHistory,
  refusal,
  requireEncryptionKey,
  rotateEncryptedValues,
  type Actor,
  type Database,
} from '../src/index';
import { newWorkspace } from './fixtures';

const env = { now: new Date('2026-12-01T08:00:00Z') };
const entry = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

function contactApp(): AppDocument {
  return {
    objects: [
      {
        key: 'contact',
        label: { en: 'Contact' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name' } },
          { key: 'id_number', type: 'text', label: { en: 'ID number' }, encrypted: true },
          { key: 'email', type: 'email', label: { en: 'Email' }, encrypted: true },
          { key: 'notes', type: 'longtext', label: { en: 'Notes' } },
        ],
      },
    ],
  };
}

describe('key ring', () => {
  it('round-trips any text, and refuses a tampered value or one moved to another field', () => {
    const ring = KeyRing.parse(entry('k1'));
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const sealed = ring.encrypt(text, 'app/f_a');
        expect(sealed).toMatch(/^tse1:k1:/);
        expect(ring.decrypt(sealed, 'app/f_a')).toBe(text);
        if (text.length > 3) expect(sealed).not.toContain(text);
        expect(() => ring.decrypt(sealed, 'app/f_b')).toThrow();
        const at = sealed.length - 5;
        const tampered = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
        expect(() => ring.decrypt(tampered, 'app/f_a')).toThrow();
      }),
    );
  });

  it('names what is wrong with a badly configured ring', async () => {
    for (const [text, message] of [
      ['', /no keys/],
      ['k1:c2hvcnQ=', /32 bytes/],
      [`bad id!:${randomBytes(32).toString('base64')}`, /key id/],
      [`${entry('k1')},${entry('k1')}`, /twice/],
    ] as const) {
      expect(() => KeyRing.parse(text)).toThrow(message);
    }
  });

  it('gives equal values equal blind indexes per key, different ones across fields and keys', () => {
    const ring = KeyRing.parse(`${entry('k2')},${entry('k1')}`);
    expect(ring.blindIndex('x', 'a/f')).toBe(ring.blindIndex('x', 'a/f'));
    expect(ring.blindIndex('x', 'a/f')).not.toBe(ring.blindIndex('x', 'a/g'));
    expect(ring.blindIndexes('x', 'a/f')).toHaveLength(2);
    expect(ring.blindIndexes('x', 'a/f')[0]).toMatch(/^k2:/);
  });
});

describe('encrypted fields', () => {
  let database: Database;
  let actor: Actor;
  let app: PublishedApp;
  const k1 = entry('k1');
  const k2 = entry('k2');
  const ring1 = KeyRing.parse(k1);
  let records: RecordRepository;

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    const meta = new MetadataRepository(database.db, { publishChecks: [requireEncryptionKey(() => ring1)] });
    await meta.createApp(actor, { key: 'crm', draft: contactApp() });
    await meta.publish(actor, 'crm');
    app = await meta.getPublished(actor.workspaceId, 'crm');
    records = new RecordRepository(database.db, app, { encryption: ring1 });
  });
  afterAll(async () => database?.close());

  /** every text the database holds for this workspace's records and their history */
  async function storedText(): Promise<string> {
    const rows = await sql<{ t: string }>`
      SELECT data::text || search_text AS t FROM records WHERE workspace_id = ${actor.workspaceId}
      UNION ALL SELECT changes::text FROM record_history WHERE workspace_id = ${actor.workspaceId}`.execute(database.db);
    return rows.rows.map((r) => r.t).join('\n');
  }

  it('stores no plaintext anywhere (record, search text, history), and reads it back decrypted and audited', async () => {
    const created = await records.create(actor, 'contact', { name: 'Wang Fang', id_number: '110101199003077777', email: 'wang.fang@example.cn' });
    expect(created).toMatchObject({ id_number: '110101199003077777', email: 'wang.fang@example.cn' });
    await records.update(actor, 'contact', created.id, { id_number: '110101199003078888' }, 1);
    const text = await storedText();
    for (const secret of ['110101199003077777', '110101199003078888', 'wang.fang', '1101011990']) expect(text).not.toContain(secret);
    expect(text).toContain('Wang Fang');
    expect(text).toMatch(/tse1:k1:/);

    records.takeDecryptedReads();
    const read = await records.get(actor.workspaceId, 'contact', created.id);
    expect(read.id_number).toBe('110101199003078888');
    expect(records.takeDecryptedReads()).toEqual([{ objectKey: 'contact', recordIds: [created.id], fieldKeys: expect.arrayContaining(['id_number', 'email']) }]);
    const plain = await records.create(actor, 'contact', { name: 'No secrets' });
    await records.get(actor.workspaceId, 'contact', plain.id);
    expect(records.takeDecryptedReads()).toEqual([]);
  });

  it('keeps ciphertext in history and reveals it to a reader given the sealer', async () => {
    const c = await records.create(actor, 'contact', { name: 'History', id_number: 'H-1' });
    await records.update(actor, 'contact', c.id, { id_number: 'H-2' }, 1);
    const object = records.object('contact');
    const raw = await readRecordHistory(database.db, actor.workspaceId, object, c.id);
    expect(String((raw.items[1]!.changes.id_number as { after: string }).after)).toMatch(/^tse1:/);
  });

  it('finds records by exact match (==, !=, in) through the blind index, and refuses every other use of the field', async () => {
    const a = await records.create(actor, 'contact', { name: 'A', id_number: 'EXACT-1', email: 'a@example.com' });
    const b = await records.create(actor, 'contact', { name: 'B', id_number: 'EXACT-2' });
    const ids = async (filter: unknown) => (await records.list(actor.workspaceId, 'contact', { filter, limit: 200 }, env)).items.map((r) => r.id);
    expect(await ids({ '==': [{ var: 'id_number' }, 'EXACT-1'] })).toEqual([a.id]);
    expect(await ids({ '==': ['EXACT-2', { var: 'id_number' }] })).toEqual([b.id]);
    expect((await ids({ in: [{ var: 'id_number' }, ['EXACT-1', 'EXACT-2']] })).sort()).toEqual([a.id, b.id].sort());
    expect(await ids({ and: [{ '!=': [{ var: 'id_number' }, 'EXACT-1'] }, { '==': [{ var: 'name' }, 'B'] }] })).toEqual([b.id]);
    expect(await ids({ and: [{ '==': [{ var: 'email' }, null] }, { '==': [{ var: 'name' }, 'B'] }] })).toEqual([b.id]);
    expect(await ids({ '==': [{ var: 'id_number' }, 'EXACT'] })).toEqual([]);
    expect(await records.count(actor.workspaceId, 'contact', { filter: { '==': [{ var: 'email' }, 'a@example.com'] } }, env)).toBe(1);
    // text search never sees encrypted values
    expect((await records.list(actor.workspaceId, 'contact', { q: 'EXACT' }, env)).items).toEqual([]);

    for (const filter of [
      { startsWith: [{ var: 'id_number' }, 'EXACT'] },
      { contains: [{ var: 'id_number' }, 'X'] },
      { '>': [{ var: 'id_number' }, 'A'] },
      { '==': [{ var: 'id_number' }, { var: 'name' }] },
      { isEmpty: [{ var: 'email' }] },
    ]) {
      const e = await refusal(records.list(actor.workspaceId, 'contact', { filter }, env));
      expect(e.status).toBe(400);
      expect(e.errors[0]).toMatchObject({ field: 'filter', code: 'encrypted_field' });
    }
    const sort = await refusal(records.list(actor.workspaceId, 'contact', { sort: '-id_number' }, env));
    expect(sort.errors[0]).toMatchObject({ field: 'sort', code: 'encrypted_field' });
  });

  it('keeps old values readable and findable after a key rotation, and rotate-keys moves them all to the new key', async () => {
    const old = await records.create(actor, 'contact', { name: 'Before rotation', id_number: 'ROT-OLD' });
    // rotation: a new first key, the old one kept behind it
    const ring = KeyRing.parse(`${k2},${k1}`);
    const after = new RecordRepository(database.db, app, { encryption: ring });
    expect((await after.get(actor.workspaceId, 'contact', old.id)).id_number).toBe('ROT-OLD');
    const ids = async (repo: RecordRepository, v: string) =>
      (await repo.list(actor.workspaceId, 'contact', { filter: { '==': [{ var: 'id_number' }, v] } }, env)).items.map((r) => r.id);
    expect(await ids(after, 'ROT-OLD')).toEqual([old.id]);
    const fresh = await after.create(actor, 'contact', { name: 'After rotation', id_number: 'ROT-NEW' });
    const stored = await database.db.selectFrom('records').select('data').where('id', '=', fresh.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored.data)).toMatch(/tse1:k2:/);

    const result = await rotateEncryptedValues(database.db, ring);
    expect(result.records).toBeGreaterThan(0);
    expect(result.history).toBeGreaterThan(0);
    expect(await storedText()).not.toMatch(/tse1:k1:/);
    expect((await rotateEncryptedValues(database.db, ring)).records).toBe(0);
    // the old key can go now
    const onlyNew = new RecordRepository(database.db, app, { encryption: KeyRing.parse(k2) });
    expect((await onlyNew.get(actor.workspaceId, 'contact', old.id)).id_number).toBe('ROT-OLD');
    expect(await ids(onlyNew, 'ROT-OLD')).toEqual([old.id]);
    const history = await readRecordHistory(database.db, actor.workspaceId, onlyNew.object('contact'), old.id);
    expect(String((history.items[0]!.changes.id_number as { after: string }).after)).toMatch(/^tse1:k2:/);
  });

  it('merges a duplicate keeping its encrypted value, which stays sealed, readable and findable', async () => {
    const survivor = await records.create(actor, 'contact', { name: 'Dup', id_number: 'MERGE-S' });
    const merged = await records.create(actor, 'contact', { name: 'Dup', id_number: 'MERGE-M', email: 'dup@example.com' });
    const result = await records.merge(actor, 'contact', survivor.id, merged.id, { id_number: 'merged', email: 'merged' });
    expect(result).toMatchObject({ id_number: 'MERGE-M', email: 'dup@example.com' });
    const stored = await database.db.selectFrom('records').select('data').where('id', '=', survivor.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored.data)).not.toContain('MERGE-M');
    const found = await records.list(actor.workspaceId, 'contact', { filter: { '==': [{ var: 'id_number' }, 'MERGE-M'] } }, env);
    expect(found.items.map((r) => r.id)).toEqual([survivor.id]);
    expect(await storedText()).not.toContain('MERGE-');
  });

  it('refuses to write an encrypted field without a key, and to publish one', async () => {
    const noKey = new RecordRepository(database.db, app, { encryption: null });
    const e = await refusal(noKey.create(actor, 'contact', { name: 'x', id_number: 'nope' }));
    expect(e.errors[0]).toMatchObject({ field: 'TESSERA_ENCRYPTION_KEYS', code: 'missing' });
    const meta = new MetadataRepository(database.db, { publishChecks: [requireEncryptionKey(() => null)] });
    await meta.createApp(actor, { key: 'nokey', draft: contactApp() });
    const p = await refusal(meta.publish(actor, 'nokey'));
    expect(p.status).toBe(422);
    expect(p.errors).toContainEqual(expect.objectContaining({ field: 'objects/0/fields/1/encrypted', code: 'no_encryption_key' }));
  });

  it('refuses encrypted on fields that cannot be, and together with unique, indexed or searchable', async () => {
    const meta = new MetadataRepository(database.db);
    const draft = contactApp();
    draft.objects[0]!.fields.push(
      { key: 'age', type: 'number', label: { en: 'Age' }, encrypted: true },
      { key: 'code', type: 'text', label: { en: 'Code' }, encrypted: true, unique: true, indexed: true, searchable: true },
    );
    const e = await refusal(meta.createApp(actor, { key: 'badenc', draft }));
    expect(e.errors.map((x) => `${x.field} ${x.code}`)).toEqual(
      expect.arrayContaining([
        'objects/0/fields/4/encrypted not_applicable',
        'objects/0/fields/5/unique encrypted',
        'objects/0/fields/5/indexed encrypted',
        'objects/0/fields/5/searchable encrypted',
      ]),
    );
  });
});

describe('encrypted exact match agrees with plaintext', () => {
  let database: Database;
  let actor: Actor;
  let records: RecordRepository;
  const VALUES = ['A-1', 'a-1', 'B 2', '王芳', ''];

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    const meta = new MetadataRepository(database.db);
    const draft: AppDocument = {
      objects: [
        {
          key: 'twin',
          label: { en: 'Twin' },
          fields: [
            { key: 'plain', type: 'text', label: { en: 'Plain' } },
            { key: 'secret', type: 'text', label: { en: 'Secret' }, encrypted: true },
            { key: 'n', type: 'number', label: { en: 'N' } },
          ],
        },
      ],
    };
    await meta.createApp(actor, { key: 'twins', draft });
    await meta.publish(actor, 'twins');
    records = new RecordRepository(database.db, await meta.getPublished(actor.workspaceId, 'twins'), { encryption: KeyRing.parse(`k1:${randomBytes(32).toString('base64')}`) });
    let n = 0;
    for (const v of [...VALUES.filter((x) => x !== ''), null]) {
      for (let copy = 0; copy < 2; copy++) await records.create(actor, 'twin', v === null ? { n: n++ } : { plain: v, secret: v, n: n++ });
    }
  });
  afterAll(async () => database?.close());

  /** a random filter over `field` made of ==, != and in against literals, combined with and / or / ! */
  const filterOver = (field: string): fc.Arbitrary<unknown> => {
    const literal = fc.constantFrom(...VALUES.filter((v) => v !== ''), 'missing');
    const leaf = fc.oneof(
      fc.tuple(fc.constantFrom('==', '!='), literal, fc.boolean()).map(([op, v, flip]) => ({ [op]: flip ? [v, { var: field }] : [{ var: field }, v] })),
      fc.constantFrom('==', '!=').map((op) => ({ [op]: [{ var: field }, null] })),
      fc.uniqueArray(literal, { minLength: 1, maxLength: 3 }).map((vs) => ({ in: [{ var: field }, vs] })),
      fc.integer({ min: 0, max: 12 }).map((k) => ({ '<': [{ var: 'n' }, k] })),
    );
    return fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(fc.constantFrom('and', 'or'), fc.array(tie('node'), { minLength: 1, maxLength: 3 })).map(([op, xs]) => ({ [op]: xs })),
        tie('node').map((x) => ({ '!': x })),
      ),
    })).node;
  };

  it('any filter of ==, != and in over the encrypted field selects exactly what it selects over the same plaintext', async () => {
    const ids = async (filter: unknown) => (await records.list(actor.workspaceId, 'twin', { filter, limit: 200 }, env)).items.map((r) => r.id).sort();
    await fc.assert(
      fc.asyncProperty(filterOver('plain'), async (filter) => {
        const onSecret = JSON.parse(JSON.stringify(filter).replaceAll('"var":"plain"', '"var":"secret"'));
        expect(await ids(onSecret)).toEqual(await ids(filter));
      }),
      { numRuns: 60 },
    );
  });
});

