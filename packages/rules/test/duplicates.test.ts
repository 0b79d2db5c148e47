import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { AppDocument, DuplicateRule, MatchMethod, ObjectDef, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, openTestDatabase, type Actor, type Database } from '@tessera/store';
import { findDuplicates, normalizeForMatch, normalizeSqlText } from '../src/duplicates/index';

function customerApp(): AppDocument {
  return {
    objects: [
      {
        key: 'customer',
        label: { en: 'Customer', zh: '客户' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '名称' } },
          { key: 'city', type: 'text', label: { en: 'City', zh: '城市' } },
          { key: 'mobile', type: 'phone', label: { en: 'Mobile', zh: '手机' } },
          { key: 'email', type: 'email', label: { en: 'Email', zh: '邮箱' } },
          { key: 'code', type: 'text', label: { en: 'Code', zh: '编码' } },
          { key: 'size', type: 'number', label: { en: 'Size', zh: '规模' } },
        ],
      },
    ],
  };
}

async function newWorkspace(database: Database): Promise<Actor> {
  const workspaceId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'dup' }).execute();
  const userId = randomUUID();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
  return { workspaceId, userId, source: 'api' };
}

const rule = (key: string, action: DuplicateRule['action'], ...match: Array<[string, MatchMethod]>): DuplicateRule => ({
  key,
  action,
  match: match.map(([field, method]) => ({ field, method })),
});

describe('duplicate normalisation (pure)', () => {
  it.each<[MatchMethod, string, string]>([
    ['company', '华为技术有限公司', '华为技术'],
    ['company', '西门子（中国）有限公司', '西门子'],
    ['company', 'Huawei Technologies Co., Ltd.', 'huaweitechnologies'],
    ['company', 'ACME Inc.', 'acme'],
    ['company', 'Zinc', 'zinc'],
    ['company', 'Ｂｅｔａ　GmbH', 'beta'],
    ['phone', '138 0013 8000', '13800138000'],
    ['phone', '+86 13800138000', '13800138000'],
    ['phone', '0086-138-0013-8000', '13800138000'],
    ['phone', '+86 10 1234 5678', '01012345678'],
    ['phone', '010-12345678', '01012345678'],
    ['email', ' Foo@Example.COM ', 'foo@example.com'],
    ['normalized', '  Ｈello\u3000  WORLD ', 'hello world'],
  ])('%s(%j) = %j', (method, input, expected) => {
    expect(normalizeForMatch(method, input)).toBe(expected);
  });
});

describe('findDuplicates', () => {
  let database: Database;
  let actor: Actor;
  let app: PublishedApp;
  let records: RecordRepository;
  let customer: ObjectDef;

  beforeAll(async () => {
    database = await openTestDatabase();
    actor = await newWorkspace(database);
    const meta = new MetadataRepository(database.db);
    await meta.createApp(actor, { key: 'crm', draft: customerApp() });
    await meta.publish(actor, 'crm');
    app = await meta.getPublished(actor.workspaceId, 'crm');
    records = new RecordRepository(database.db, app);
    customer = app.document.objects[0]!;
  });
  afterAll(async () => database?.close());

  /** The published object with the given rules: the rules are what is under test, not publishing. */
  function withRules(...rules: DuplicateRule[]): ObjectDef {
    return { ...customer, duplicateRules: rules };
  }

  function byId(values: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) out[customer.fields.find((f) => f.key === key)!.id!] = value;
    return out;
  }

  async function find(object: ObjectDef, values: Record<string, unknown>, excludeId: string | null = null) {
    return findDuplicates(database.db, actor.workspaceId, object, byId(values), excludeId);
  }

  it('company: legal forms, brackets, width and case do not make a different company', async () => {
    const huawei = await records.create(actor, 'customer', { name: '华为技术有限公司' });
    const acme = await records.create(actor, 'customer', { name: 'ACME Co., Ltd.' });
    const object = withRules(rule('same_company', 'block', ['name', 'company']));
    expect(await find(object, { name: '华为技术' })).toEqual([{ rule: 'same_company', action: 'block', recordIds: [huawei.id] }]);
    expect((await find(object, { name: ' 华为技术股份有限公司 ' }))[0]?.recordIds).toEqual([huawei.id]);
    expect((await find(object, { name: 'Ａｃｍｅ Inc' }))[0]?.recordIds).toEqual([acme.id]);
    expect(await find(object, { name: '华为终端有限公司' })).toEqual([]);
    // a name that is nothing but a legal form has nothing to match on
    expect(await find(object, { name: '有限公司' })).toEqual([]);
  });

  it('phone: separators and the +86 country code are ignored', async () => {
    const rec = await records.create(actor, 'customer', { name: 'p1', mobile: '138 0013 8000' });
    const object = withRules(rule('same_mobile', 'warn', ['mobile', 'phone']));
    expect(await find(object, { mobile: '+86 13800138000' })).toEqual([{ rule: 'same_mobile', action: 'warn', recordIds: [rec.id] }]);
    expect(await find(object, { mobile: '13800138001' })).toEqual([]);
  });

  it('email: trimmed and case-insensitive; exact: stored value as is', async () => {
    const rec = await records.create(actor, 'customer', { name: 'e1', email: 'foo@example.com', code: 'AB-1' });
    const email = withRules(rule('same_email', 'warn', ['email', 'email']));
    expect((await find(email, { email: ' Foo@Example.COM ' }))[0]?.recordIds).toEqual([rec.id]);
    const exact = withRules(rule('same_code', 'block', ['code', 'exact']));
    expect((await find(exact, { code: 'AB-1' }))[0]?.recordIds).toEqual([rec.id]);
    expect(await find(exact, { code: 'ab-1' })).toEqual([]);
    const normalized = withRules(rule('same_code', 'block', ['code', 'normalized']));
    expect((await find(normalized, { code: ' ab-1' }))[0]?.recordIds).toEqual([rec.id]);
  });

  it('a two-field rule needs both fields to match, and skips when either is blank', async () => {
    const a = await records.create(actor, 'customer', { name: '腾讯科技有限公司', city: '深圳' });
    await records.create(actor, 'customer', { name: '腾讯科技有限公司', city: '北京' });
    const object = withRules(rule('name_city', 'block', ['name', 'company'], ['city', 'normalized']));
    expect((await find(object, { name: '腾讯科技', city: ' 深圳 ' }))[0]?.recordIds).toEqual([a.id]);
    expect(await find(object, { name: '腾讯科技', city: '上海' })).toEqual([]);
    expect(await find(object, { name: '腾讯科技' })).toEqual([]);
    expect(await find(object, { name: '腾讯科技', city: '   ' })).toEqual([]);
  });

  it('excludes the record itself, deleted records and other workspaces; reports every rule that matched', async () => {
    const self = await records.create(actor, 'customer', { name: 'Self Ltd', mobile: '13900000000' });
    const twin = await records.create(actor, 'customer', { name: 'self', mobile: '13900000001' });
    const object = withRules(rule('by_name', 'warn', ['name', 'company']), rule('by_mobile', 'block', ['mobile', 'phone']));
    const all = await find(object, { name: 'SELF', mobile: '+8613900000000' }, self.id);
    expect(all).toEqual([{ rule: 'by_name', action: 'warn', recordIds: [twin.id] }]);
    await records.delete(actor, 'customer', twin.id);
    expect(await find(object, { name: 'SELF' }, self.id)).toEqual([]);
    const other = await newWorkspace(database);
    expect(await findDuplicates(database.db, other.workspaceId, object, byId({ name: 'self' }), null)).toEqual([]);
  });

  it('non-text fields match on their stored value whatever the method', async () => {
    const rec = await records.create(actor, 'customer', { name: 'n1', size: 1500 });
    const object = withRules(rule('by_size', 'warn', ['size', 'normalized']));
    expect((await find(object, { size: 1500 }))[0]?.recordIds).toEqual([rec.id]);
    expect(await find(object, { size: 1501 })).toEqual([]);
  });

  it('runs inside a caller transaction and sees its uncommitted rows', async () => {
    const object = withRules(rule('by_name', 'warn', ['name', 'normalized']));
    const nameId = customer.fields[0]!.id!;
    await database.db
      .transaction()
      .execute(async (trx) => {
        const id = randomUUID();
        await trx
          .insertInto('records')
          .values({ workspace_id: actor.workspaceId, object_id: customer.id!, id, data: JSON.stringify({ [nameId]: 'Uncommitted' }) })
          .execute();
        expect((await findDuplicates(trx, actor.workspaceId, object, { [nameId]: 'uncommitted' }, null))[0]?.recordIds).toEqual([id]);
        throw new Error('rollback');
      })
      .catch((e: unknown) => expect((e as Error).message).toBe('rollback'));
    expect(await find(object, { name: 'uncommitted' })).toEqual([]);
  });

  it('refuses a malformed excludeId before it reaches SQL', async () => {
    await expect(find(withRules(rule('r', 'warn', ['name', 'exact'])), { name: 'x' }, "x' OR 1=1")).rejects.toMatchObject({ status: 404 });
  });

  // The JS normaliser (live forms, blank checks) and the SQL one (the query) must agree on every string.
  const pieces = [
    '华为', '技术', '有限公司', '有限责任公司', '股份有限公司', '集团', '公司', '(中国)', '（中国）', '中国', ' Co.', ', Ltd.', ' Co. Ltd', ' Inc.',
    ' LLC', ' Corp.', ' Corporation', ' GmbH', 'co', 'Zinc', 'ＡＢＣ', 'ａｂｃ', '１２３', '＋８６', '+86', '0086', '86', '138', '0013', '8000', '010',
    ' ', '  ', '\u3000', '\t', '\u00a0', '-', '.', '@', 'Foo@Example.COM', 'ÉCOLE', 'é', '、', '。', '“', '’', "'", '\\', '$1', 'ß', 'İ', '𠀀', '😀', 'x',
  ];
  const tricky = fc.array(fc.constantFrom(...pieces), { maxLength: 8 }).map((a) => a.join(''));
  const anyText = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));
  const methods: MatchMethod[] = ['exact', 'normalized', 'phone', 'email', 'company'];

  it('JS and SQL normalisation agree on random strings (Chinese, full-width, spaces, legal forms)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(tricky, anyText), { minLength: 1, maxLength: 40 }), async (inputs) => {
        const columns = methods.map((m, i) => sql.raw(`${normalizeSqlText(m, 'x')} AS m${i}`));
        const result = await sql<Record<string, string>>`SELECT ${sql.join(columns)} FROM unnest(${inputs}::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n`.execute(
          database.db,
        );
        inputs.forEach((input, row) => {
          methods.forEach((method, i) => {
            expect({ input, method, value: result.rows[row]![`m${i}`] }).toEqual({ input, method, value: normalizeForMatch(method, input) });
          });
        });
      }),
      { numRuns: 60 },
    );
  });
});
