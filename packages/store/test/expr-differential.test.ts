/**
 * The expression language's central promise: the JS evaluator and the SQL compiler agree.
 * Random records go straight into `records`; for thousands of random well-typed filters,
 * the ids the JS evaluator accepts must be exactly the ids the compiled SQL returns.
 * Runs on PGlite and, with DATABASE_URL, on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { isProblemError, type FieldDef, type FieldType, type ObjectDef } from '@tessera/metadata';
import { checkExpression, compileFilterToSql, evaluateExpression, type EvalEnv, type Expr, type SqlFragment } from '@tessera/expr';
import { openTestDatabase, type Database } from '../src/index';

const OBJECT_ID = 'o_item';

function field(key: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return { id: `f_${key}`, key, type, label: { en: key }, ...extra };
}

const TAGS = ['vip', 'renewal', '合作', 'a'];

const object: ObjectDef = {
  id: OBJECT_ID,
  key: 'item',
  label: { en: 'Item', zh: '条目' },
  fields: [
    field('title', 'text'),
    field('notes', 'longtext'),
    field('stage', 'select', { options: ['new', 'won', 'lost'].map((v) => ({ value: v, label: { en: v } })) }),
    field('email', 'email'),
    field('qty', 'number'),
    field('amount', 'currency', { currency: 'CNY', scale: 2 }),
    field('cost', 'currency', { currency: 'CNY', scale: 2 }),
    field('ratio', 'percent'),
    field('hot', 'boolean'),
    field('close_date', 'date'),
    field('start_date', 'date'),
    field('due_at', 'datetime'),
    field('tags', 'multiselect', { options: TAGS.map((v) => ({ value: v, label: { en: v } })) }),
    // realistic magnitudes for arithmetic: JS rounds each result to a double, SQL's numeric
    // does not, and the two only agree within ~15 significant digits
    field('price', 'number'),
    field('units', 'number'),
    // soft-deleted: its values stay in `data`, but expressions may not see it
    field('old', 'text', { deleted: true }),
  ],
};
const scope = { object };

type Kind = 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';
const KEYS: Record<Kind, string[]> = {
  text: ['title', 'notes', 'stage', 'email', 'owner_id', 'id'],
  number: ['qty', 'amount', 'cost', 'ratio', 'version', 'price', 'units'],
  boolean: ['hot'],
  date: ['close_date', 'start_date'],
  datetime: ['due_at', 'created_at', 'updated_at'],
  list: ['tags'],
};

// ---- values --------------------------------------------------------------------------

const DAY = 86_400_000;
const BASE = Date.UTC(2024, 2, 31, 16, 30); // 2024-04-01 00:30 in Shanghai: a month, quarter and day boundary

const wellFormed = (s: string) => !s.includes('\u0000') && s.isWellFormed();
const TEXTS = ['a@b.cn', 'x.y+z@mail.example.com', 'a@b', '13812345678', '+86 138-1234-5678', '12812345678', '', 'a', 'A', 'b', 'ab', 'abc', 'a%b', 'a_b', 'x\\y', '合同', '合同A', '北京', '😀', '\uff01', 'é', 'e\u0301', ' a', 'a ', '0', '10', '9', 'new', 'won'];
const textValue = fc.oneof(
  fc.constantFrom(...TEXTS),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 4 }).filter(wellFormed),
);
const NUMBERS = [0, -0, 1, -1, 0.1, 0.2, 0.30000000000000004, 0.3, 1.5, 10, 100, 1e21, -1e-7, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 5e-324, 1.7976931348623157e308];
const numberValue = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
// currency keeps at most 15 significant digits, as money does; exact in a double
const currencyValue = fc.oneof(
  fc.constantFrom('0.00', '1.00', '-0.50', '0.10', '0.30', '10.00', '100.00', '1.50'),
  fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }).map((c) => {
    const sign = c < 0n ? '-' : '';
    const abs = c < 0n ? -c : c;
    return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
  }),
);
const dateValue = fc.oneof(
  fc.integer({ min: -800, max: 800 }).map((d) => new Date(BASE + d * DAY).toISOString().slice(0, 10)),
  fc.constantFrom('2024-03-31', '2024-04-01', '2023-12-31', '2024-01-01', '2024-02-29', '2024-06-30', '2024-03-25', '2024-04-07'),
);
const datetimeValue = fc.oneof(
  fc.integer({ min: -800 * DAY, max: 800 * DAY }).map((ms) => new Date(BASE + ms).toISOString()),
  // instants on either side of local midnights
  fc.tuple(fc.integer({ min: -60, max: 60 }), fc.integer({ min: -2, max: 2 })).map(([d, ms]) => new Date(Date.UTC(2024, 2, 31, 16) + d * DAY + ms).toISOString()),
);
const listValue = fc.oneof(fc.subarray(TAGS), fc.constant([]));

function valueOf(type: FieldType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'currency':
      return currencyValue;
    case 'number':
    case 'percent':
      return numberValue;
    case 'boolean':
      return fc.boolean();
    case 'date':
      return dateValue;
    case 'datetime':
      return datetimeValue;
    case 'multiselect':
      return listValue;
    case 'select':
      return fc.constantFrom('new', 'won', 'lost');
    default:
      return textValue;
  }
}

const priceValue = fc.oneof(fc.integer({ min: -100_000, max: 100_000 }).map((c) => c / 100), fc.constantFrom(0, 0.1, 0.2, 0.3, 19.99, 1.005, 2.5, -2.5));
const unitsValue = fc.integer({ min: -20, max: 200 });
const SPECIAL_VALUES: Record<string, fc.Arbitrary<unknown>> = { price: priceValue, units: unitsValue };

/** Each field missing, null, or a value. */
const recordData = fc.record(
  Object.fromEntries(object.fields.map((f) => [f.id!, fc.option(SPECIAL_VALUES[f.key] ?? valueOf(f.type), { nil: null, freq: 4 })])),
  { requiredKeys: [] },
);

const OWNERS = [randomUUID(), randomUUID(), randomUUID()];
const recordRow = fc.record({
  data: recordData,
  version: fc.integer({ min: 1, max: 5 }),
  created_at: datetimeValue,
  updated_at: datetimeValue,
  owner_id: fc.option(fc.constantFrom(...OWNERS), { nil: null }),
});

// ---- well-typed expressions ------------------------------------------------------------

const literalOf: Record<Exclude<Kind, 'list' | 'boolean'>, fc.Arbitrary<unknown>> = {
  text: fc.oneof(textValue, fc.constantFrom(...TAGS, ...OWNERS)),
  number: fc.oneof(numberValue, currencyValue.map(Number)),
  date: dateValue,
  datetime: datetimeValue,
};

type Scalar = Exclude<Kind, 'list' | 'boolean'>;
const SCALARS: Scalar[] = ['text', 'number', 'date', 'datetime'];

function leafExpr(kind: Scalar): fc.Arbitrary<Expr> {
  const choices: fc.Arbitrary<Expr>[] = [fc.constantFrom(...KEYS[kind]).map((k) => ({ var: k })), literalOf[kind]];
  if (kind === 'date') choices.push(fc.constant({ today: [] }));
  if (kind === 'datetime') choices.push(fc.constant({ now: [] }));
  if (kind === 'text') choices.push(fc.constant({ currentUser: [] }));
  return fc.oneof(...choices);
}

const v = (key: string) => ({ var: key });
const realistic = fc.oneof(fc.constantFrom(v('price'), v('units')), priceValue, fc.integer({ min: -5, max: 5 }));
const arithmetic: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(fc.constantFrom('+', '-', '*', 'min', 'max'), realistic, realistic).map(([op, a, b]) => ({ [op]: [a, b] })),
  fc.tuple(realistic, realistic, realistic).map(([a, b, c]) => ({ '+': [a, { '*': [b, c] }] })),
  realistic.map((x) => ({ '-': [x] })),
  fc.tuple(realistic, fc.constantFrom(1.13, 0.5, 3), fc.integer({ min: -1, max: 3 })).map(([x, k, d]) => ({ round: [{ '*': [x, k] }, d] })),
  fc.tuple(realistic, realistic).map(([a, b]) => ({ abs: [{ '-': [a, b] }] })),
);
const simpleCondition = fc.oneof(
  fc.constant(v('hot')),
  fc.tuple(leafExpr('number'), leafExpr('number')).map(([a, b]) => ({ '>': [a, b] })),
  leafExpr('text').map((x) => ({ isEmpty: [x] })),
);
const count = fc.integer({ min: -400, max: 400 });

/** The computing operators that compile to SQL, over the plain leaves. */
const computed: Record<Scalar, fc.Arbitrary<Expr>> = {
  number: fc.oneof(
    arithmetic,
    fc.oneof(leafExpr('text'), fc.constant(v('tags'))).map((x) => ({ length: [x] })),
    fc.tuple(leafExpr('date'), leafExpr('date')).map(([a, b]) => ({ diffDays: [a, b] })),
    fc.tuple(leafExpr('datetime'), leafExpr('datetime')).map(([a, b]) => ({ diffDays: [a, b] })),
    fc.tuple(leafExpr('number'), leafExpr('number')).map(([a, b]) => ({ coalesce: [a, b] })),
  ),
  text: fc.oneof(
    fc.array(fc.oneof(leafExpr('text'), leafExpr('date'), fc.constant(null)), { minLength: 1, maxLength: 3 }).map((xs) => ({ concat: xs })),
    fc.tuple(leafExpr('text'), leafExpr('text')).map(([a, b]) => ({ cat: [a, b] })),
    fc.tuple(leafExpr('text'), leafExpr('text'), leafExpr('text')).map((xs) => ({ coalesce: xs })),
    fc.tuple(simpleCondition, leafExpr('text'), simpleCondition, leafExpr('text'), fc.option(leafExpr('text'), { nil: undefined })).map(([c, a, d, b, e]) => ({
      if: e === undefined ? [c, a, d, b] : [c, a, d, b, e],
    })),
    fc.tuple(fc.constantFrom('min', 'max'), leafExpr('text'), leafExpr('text')).map(([op, a, b]) => ({ [op]: [a, b] })),
  ),
  date: fc.oneof(
    fc.tuple(fc.constantFrom('addDays', 'addMonths'), leafExpr('date'), count).map(([op, d, n]) => ({ [op]: [d, n] })),
    fc.tuple(leafExpr('date'), fc.constantFrom('week', 'month', 'quarter', 'year')).map(([d, u]) => ({ startOf: [d, u] })),
    fc.tuple(fc.constantFrom('min', 'max'), leafExpr('date'), leafExpr('date')).map(([op, a, b]) => ({ [op]: [a, b] })),
    fc.tuple(leafExpr('date'), leafExpr('date')).map(([a, b]) => ({ coalesce: [a, b] })),
  ),
  datetime: fc.oneof(
    fc.tuple(fc.constantFrom('addDays', 'addMonths'), leafExpr('datetime'), count).map(([op, d, n]) => ({ [op]: [d, n] })),
    fc.tuple(simpleCondition, leafExpr('datetime'), leafExpr('datetime')).map(([c, a, b]) => ({ if: [c, a, b] })),
  ),
};

function valueExpr(kind: Scalar): fc.Arbitrary<Expr> {
  return fc.oneof({ weight: 3, arbitrary: leafExpr(kind) }, { weight: 1, arbitrary: computed[kind] });
}

const anyVar = fc.constantFrom(...Object.values(KEYS).flat()).map((k) => ({ var: k }));
const dateLike = fc.oneof(valueExpr('date'), valueExpr('datetime'));

const boolExpr: fc.Arbitrary<Expr> = fc.letrec<{ bool: Expr }>((tie) => {
  const scalarCompare = fc.constantFrom(...SCALARS).chain((kind) =>
    fc.oneof(
      fc.tuple(fc.constantFrom('==', '!=', '<', '<=', '>', '>='), valueExpr(kind), valueExpr(kind)).map(([op, a, b]) => ({ [op]: [a, b] })),
      fc.tuple(fc.constantFrom('<', '<='), valueExpr(kind), valueExpr(kind), valueExpr(kind)).map(([op, a, b, c]) => ({ [op]: [a, b, c] })),
      fc.tuple(valueExpr(kind), valueExpr(kind), valueExpr(kind)).map((args) => ({ between: args })),
      fc.tuple(valueExpr(kind), fc.array(literalOf[kind], { maxLength: 4 })).map(([x, list]) => ({ in: [x, list] })),
    ),
  );
  const booleanLeaf = fc.oneof(
    fc.constant({ var: 'hot' }),
    fc.boolean(),
    fc.tuple(fc.constantFrom('==', '!='), fc.oneof(fc.constant({ var: 'hot' }), fc.boolean()), fc.oneof(fc.constant({ var: 'hot' }), fc.boolean())).map(([op, a, b]) => ({ [op]: [a, b] })),
  );
  const nullTest = fc.tuple(fc.constantFrom('==', '!='), anyVar, fc.boolean()).map(([op, v, flip]) => ({ [op]: flip ? [null, v] : [v, null] }));
  const textOps = fc.oneof(
    fc.tuple(valueExpr('text'), valueExpr('text')).map(([a, b]) => ({ contains: [a, b] })),
    fc.tuple(valueExpr('text'), valueExpr('text')).map(([a, b]) => ({ startsWith: [a, b] })),
    fc.tuple(valueExpr('text'), valueExpr('text')).map(([a, b]) => ({ in: [a, b] })),
  );
  const listOps = fc.oneof(
    valueExpr('text').map((x) => ({ in: [x, { var: 'tags' }] })),
    valueExpr('text').map((x) => ({ contains: [{ var: 'tags' }, x] })),
  );
  const emptiness = fc.oneof(
    anyVar.map((v) => ({ isEmpty: [v] })),
    fc.oneof(anyVar, literalOf.text, literalOf.number).map((v) => ({ '!!': [v] })),
  );
  const relative = fc.oneof(
    fc.tuple(fc.constantFrom('inLast', 'inNext'), dateLike, fc.integer({ min: 0, max: 30 }), fc.constantFrom('day', 'week', 'month', 'quarter', 'year')).map(([op, x, n, unit]) => ({
      [op]: [x, n, unit],
    })),
    fc
      .tuple(dateLike, fc.constantFrom('today', 'yesterday', 'tomorrow', 'last_week', 'this_week', 'next_week', 'last_month', 'this_month', 'next_month', 'last_quarter', 'this_quarter', 'next_quarter', 'last_year', 'this_year', 'next_year'))
      .map(([x, p]) => ({ inPeriod: [x, p] })),
  );
  const validators = fc.tuple(fc.constantFrom('isEmail', 'isCnMobile'), valueExpr('text')).map(([op, x]) => ({ [op]: [x] }));
  const computedTruth = fc.oneof(
    fc.tuple(simpleCondition, fc.constant(v('hot')), fc.boolean()).map(([c, a, b]) => ({ if: [c, a, b] })),
    fc.tuple(fc.constant(v('hot')), fc.boolean()).map(([a, b]) => ({ coalesce: [a, b] })),
    computed.number.map((x) => ({ '!!': [x] })),
    fc.oneof(computed.text, computed.date, computed.number).map((x) => ({ isEmpty: [x] })),
  );
  const leaf = fc.oneof(scalarCompare, booleanLeaf, nullTest, textOps, listOps, emptiness, relative, validators, computedTruth);
  return {
    bool: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('bool'), { minLength: 1, maxLength: 3 }).map((xs) => ({ and: xs })),
      fc.array(tie('bool'), { minLength: 1, maxLength: 3 }).map((xs) => ({ or: xs })),
      fc.tuple(fc.constantFrom('!', 'not'), tie('bool')).map(([op, x]) => ({ [op]: [x] })),
      tie('bool').map((x) => ({ not: x })),
      tie('bool').map((x) => ({ '!!': [x] })),
    ),
  };
}).bool;

const envArb: fc.Arbitrary<EvalEnv> = fc.record({
  now: fc.constantFrom(
    new Date(BASE),
    new Date('2024-12-31T15:59:59.999Z'), // last ms of the year in Shanghai
    new Date('2024-06-30T16:00:00.000Z'), // first ms of Q3 in Shanghai
    new Date('2024-03-10T07:30:00.000Z'), // New York DST starts this day
    new Date('2024-02-29T12:00:00.000Z'),
  ),
  timezone: fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York', 'Pacific/Kiritimati'),
  userId: fc.constantFrom(...OWNERS),
});

// ---- harness -------------------------------------------------------------------------

let database: Database;
let workspaceId: string;
interface JsRecord {
  id: string;
  values: Record<string, unknown>;
}
let records: JsRecord[] = [];

function toKysely(fragment: SqlFragment) {
  const strings = Object.assign([...fragment.strings], { raw: [...fragment.strings] }) as unknown as TemplateStringsArray;
  return sql(strings, ...fragment.values);
}

/** The ids the compiled predicate selects; it must also never be NULL, so that NOT works as in JS. */
async function sqlIds(expr: Expr, env: EvalEnv): Promise<string[]> {
  const predicate = toKysely(compileFilterToSql(expr, scope, env));
  const result = await sql<{ id: string; hit: boolean | null }>`
    SELECT id, (${predicate}) AS hit FROM records
    WHERE workspace_id = ${workspaceId} AND object_id = ${OBJECT_ID} AND deleted_at IS NULL`.execute(database.db);
  expect(result.rows.filter((r) => r.hit === null)).toEqual([]);
  return result.rows
    .filter((r) => r.hit === true)
    .map((r) => r.id)
    .sort();
}

function jsIds(expr: Expr, env: EvalEnv): string[] {
  return records
    .filter((r) => Boolean(evaluateExpression(expr, r.values, env, scope)))
    .map((r) => r.id)
    .sort();
}

const RECORD_COUNT = 120;

beforeAll(async () => {
  database = await openTestDatabase();
  workspaceId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'expr differential' }).execute();
  const rows = fc.sample(recordRow, { numRuns: RECORD_COUNT, seed: 20240331 });
  // every value kind's edge cases at least once, and a record with nothing at all
  rows.push({ data: {}, version: 1, created_at: new Date(BASE).toISOString(), updated_at: new Date(BASE).toISOString(), owner_id: null });
  records = [];
  for (const row of rows) {
    const id = randomUUID();
    await database.db
      .insertInto('records')
      .values({
        workspace_id: workspaceId,
        object_id: OBJECT_ID,
        id,
        version: row.version,
        data: JSON.stringify(row.data),
        owner_id: row.owner_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
      })
      .execute();
    const values: Record<string, unknown> = { id, version: row.version, created_at: row.created_at, updated_at: row.updated_at, owner_id: row.owner_id };
    for (const f of object.fields) {
      if (f.id! in row.data) values[f.key] = (row.data as Record<string, unknown>)[f.id!];
    }
    records.push({ id, values });
  }
  // a record of another object and a deleted one must never show up
  await database.db.insertInto('records').values({ workspace_id: workspaceId, object_id: 'o_other', id: randomUUID(), data: '{}' }).execute();
  await database.db.insertInto('records').values({ workspace_id: workspaceId, object_id: OBJECT_ID, id: randomUUID(), data: '{}', deleted_at: new Date().toISOString() }).execute();
}, 120_000);

afterAll(async () => {
  await database?.close();
});

describe(`expression differential (JS evaluator vs SQL compiler)`, () => {
  it('the records really cover nulls, Chinese text, currency strings and lists', () => {
    const all = records.map((r) => r.values);
    expect(all.some((v) => v.title === null)).toBe(true);
    expect(all.some((v) => !('title' in v))).toBe(true);
    expect(all.some((v) => typeof v.amount === 'string')).toBe(true);
    expect(all.some((v) => Array.isArray(v.tags) && v.tags.length > 0)).toBe(true);
    expect(all.some((v) => typeof v.title === 'string' && /[\u4e00-\u9fff]/.test(v.title))).toBe(true);
  });

  it('every generated well-typed filter type-checks and selects the same records in JS and SQL', async () => {
    let nonTrivial = 0;
    await fc.assert(
      fc.asyncProperty(boolExpr, envArb, async (expr, env) => {
        const checked = checkExpression(expr, scope, 'boolean');
        expect(checked.errors).toEqual([]);
        const expected = jsIds(expr, env);
        if (expected.length > 0 && expected.length < records.length) nonTrivial++;
        expect(await sqlIds(expr, env)).toEqual(expected);
      }),
      { numRuns: 2500 },
    );
    // the generator must produce filters that actually split the records
    expect(nonTrivial).toBeGreaterThan(500);
  }, 120_000);

  it('garbage never crashes: the checker reports it, and whatever passes the checker runs in SQL and agrees with JS', async () => {
    const keys = [...Object.values(KEYS).flat(), 'old', 'nope', '__proto__', 'constructor'];
    const ops = ['==', '!=', '<', '<=', '>', '>=', 'between', 'in', 'contains', 'startsWith', 'isEmpty', 'and', 'or', '!', 'not', '!!', 'today', 'now', 'currentUser', 'inLast', 'inNext', 'inPeriod', 'var', 'if', '+', 'constructor', '__proto__',
      'addDays', 'addMonths', 'diffDays', 'startOf', 'concat', 'length', 'coalesce', 'min', 'max', 'abs', 'round', 'isEmail', 'isCnMobile', 'lower', 'matches', '/'];
    const garbage = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(...keys).map((k) => ({ var: k })),
        fc.jsonValue({ maxDepth: 1 }),
        fc.constantFrom(...TEXTS, ...TAGS, '2024-04-01', '2024-04-01T00:00:00.000Z', '2024-04-01T00:00:00Z', 'day', 'this_month', 7, -1, 1.5, null),
        fc.tuple(fc.constantFrom(...ops), fc.array(tie('node'), { maxLength: 4 })).map(([op, args]) => ({ [op]: args })),
        fc.tuple(fc.constantFrom(...ops), tie('node')).map(([op, arg]) => ({ [op]: arg })),
        fc.dictionary(fc.constantFrom(...ops), tie('node'), { maxKeys: 2 }),
      ),
    })).node;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(garbage, envArb, async (expr, env) => {
        const checked = checkExpression(expr, scope, 'boolean');
        for (const e of checked.errors) expect(typeof e.message).toBe('string');
        if (checked.errors.length > 0) {
          try {
            compileFilterToSql(expr, scope, env);
            expect.unreachable('compiled an expression the checker rejected');
          } catch (e) {
            expect(isProblemError(e)).toBe(true);
            if (isProblemError(e)) {
              expect(e.kind).toBe('bad_request');
              expect(e.errors[0]?.field).toBe('filter');
            }
          }
          return;
        }
        accepted++;
        expect(await sqlIds(expr, env)).toEqual(jsIds(expr, env));
      }),
      { numRuns: 1500 },
    );
    expect(accepted).toBeGreaterThan(20);
  }, 120_000);
});
