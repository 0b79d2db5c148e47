import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isProblemError, type FieldDef } from '@tessera/metadata';
import { compileFilterToSql, fieldSqlExpression, systemFieldSqlExpression, type EvalEnv } from '../src/index';
import { deal, scope } from './fixture';

const env: EvalEnv = { now: new Date('2024-03-31T16:30:00.000Z'), userId: '00000000-0000-0000-0000-000000000001' };
const v = (key: string) => ({ var: key });
const text = (f: { strings: string[] }) => f.strings.join('?');

function problemOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isProblemError(e)) return e;
    throw e;
  }
  throw new Error('expected a ProblemError');
}

describe('fieldSqlExpression', () => {
  const byKey = (key: string) => deal.fields.find((f) => f.key === key)!;

  it('reads each value kind from data by field id', () => {
    expect(fieldSqlExpression(byKey('title'))).toBe(`((data->>'f_title') COLLATE "C")`);
    expect(fieldSqlExpression(byKey('amount'))).toBe(`((data->>'f_amount')::numeric)`);
    expect(fieldSqlExpression(byKey('hot'))).toBe(`((data->>'f_hot')::boolean)`);
    expect(fieldSqlExpression(byKey('close_date'))).toBe(`((data->>'f_close_date') COLLATE "C")`);
    expect(fieldSqlExpression(byKey('due_at'))).toBe(`((data->>'f_due_at') COLLATE "C")`);
    expect(fieldSqlExpression(byKey('tags'))).toBe(`(data->'f_tags')`);
  });

  it('stays immutable-safe for expression indexes: no timestamptz, no now()', () => {
    for (const f of deal.fields) expect(fieldSqlExpression(f)).not.toMatch(/timestamp|now\(|::date/i);
  });

  it('refuses an id that is missing or not an ID_PATTERN id, whatever it holds', () => {
    const base: FieldDef = { key: 'x', type: 'text', label: { en: 'x' } };
    expect(problemOf(() => fieldSqlExpression(base)).errors[0]?.code).toBe('invalid_id');
    fc.assert(
      fc.property(fc.string(), (id) => {
        fc.pre(!/^[a-z][a-z0-9_]{1,62}$/.test(id));
        expect(problemOf(() => fieldSqlExpression({ ...base, id })).errors[0]?.code).toBe('invalid_id');
      }),
    );
    expect(problemOf(() => fieldSqlExpression({ ...base, id: "f_x') OR true --" })).status).toBe(422);
  });

  it('reads system fields as columns, only known ones', () => {
    expect(systemFieldSqlExpression('version')).toBe('version');
    expect(systemFieldSqlExpression('owner_id')).toBe('((owner_id)::text COLLATE "C")');
    expect(systemFieldSqlExpression('created_at')).toContain("AT TIME ZONE 'UTC'");
    expect(problemOf(() => systemFieldSqlExpression('deleted_at; --')).errors[0]?.code).toBe('unknown_field');
  });
});

describe('compileFilterToSql', () => {
  it('binds every value as a parameter, never as SQL text', () => {
    const evil = "x'); DROP TABLE records; --";
    const f = compileFilterToSql({ or: [{ '==': [v('title'), evil] }, { startsWith: [v('title'), evil] }, { in: [v('stage'), [evil]] }, { contains: [v('tags'), evil] }] }, scope, env);
    expect(f.strings.length).toBe(f.values.length + 1);
    expect(text(f)).not.toContain('DROP');
    expect(f.values).toContain(evil);
  });

  it('resolves relative dates from env into parameters, never the database clock', () => {
    const f = compileFilterToSql({ and: [{ inPeriod: [v('close_date'), 'this_month'] }, { '<': [v('due_at'), { now: [] }] }, { '==': [v('owner_id'), { currentUser: [] }] }] }, scope, env);
    expect(text(f)).not.toMatch(/now\(|current_date|current_timestamp/i);
    expect(f.values).toEqual(expect.arrayContaining(['2024-04-01', '2024-04-30', '2024-03-31T16:30:00.000Z', env.userId]));
  });

  it('escapes LIKE wildcards in startsWith, so "50%" is a prefix and not a pattern', () => {
    const f = compileFilterToSql({ startsWith: [v('title'), '50%_\\'] }, scope, env);
    expect(f.values).toEqual(['50\\%\\_\\\\%']);
  });

  it('rejects an invalid filter with a bad_request naming the path and the field', () => {
    const e = problemOf(() => compileFilterToSql({ and: [true, { '==': [v('nope'), 1] }] }, scope, env));
    expect(e.kind).toBe('bad_request');
    expect(e.errors[0]).toMatchObject({ field: 'filter', code: 'unknown_field' });
    expect(e.errors[0]?.message).toContain('and/1/==/0');
    expect(e.errors[0]?.message).toContain('"nope"');
    expect(problemOf(() => compileFilterToSql(v('title'), scope, env)).errors[0]?.code).toBe('not_boolean');
  });
});
