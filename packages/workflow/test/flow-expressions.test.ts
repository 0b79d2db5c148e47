/**
 * Flow expressions: record fields by key, instance variables as `$vars.x`, the current user.
 * JS closures for conditions and values; SQL for queryRecords filters, where the variables
 * are substituted as literals first. The SQL part runs on PGlite and, with DATABASE_URL,
 * on PostgreSQL, and must select exactly what the JS closures accept.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { isProblemError, type AppDocument, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import { MetadataRepository, RecordRepository, fragmentToSql, openTestDatabase, type ApiRecord, type Database, type Actor } from '@tessera/store';
import { compileFlowExpression, compileFlowFilterToSql, flowExpressionScope, type FlowDef, type FlowEvalInput } from '../src/index';
import { exampleApp, exampleFlow } from '../src/model/example';

const env = { now: new Date('2026-03-01T08:00:00Z'), timezone: 'Asia/Shanghai', userId: 'u1' };

function problemOf(f: () => unknown): { kind: string; message: string; errors: { field: string; code: string }[] } {
  try {
    f();
  } catch (e) {
    if (isProblemError(e)) return e;
    throw e;
  }
  throw new Error('expected a ProblemError');
}

describe('compileFlowExpression', () => {
  const app = exampleApp();
  const flow = exampleFlow();

  it('reads record fields by key and variables through $vars', () => {
    const compiled = compileFlowExpression(app, flow, { and: [{ '>': [{ var: 'amount' }, { var: '$vars.discount' }] }, { '==': [{ var: '$vars.level' }, 'high'] }] }, 'boolean');
    expect(compiled.type).toBe('boolean');
    expect(compiled.paths).toEqual([]);
    const input = (amount: unknown, vars: Record<string, unknown>): FlowEvalInput => ({ record: { amount }, vars, env });
    expect(compiled.run(input('150000.00', { discount: 10, level: 'high' }))).toBe(true);
    expect(compiled.run(input('5', { discount: 10, level: 'high' }))).toBe(false);
    expect(compiled.run(input('150000.00', { discount: 10, level: 'normal' }))).toBe(false);
    expect(compiled.run(input('150000.00', {}))).toBe(false);
  });

  it('reports relation paths to preload, without the $vars pseudo-relation', () => {
    const compiled = compileFlowExpression(app, flow, { concat: [{ var: 'company.industry' }, '/', { var: '$vars.level' }] });
    expect(compiled.type).toBe('text');
    expect(compiled.paths).toEqual([['company', 'industry']]);
    const record = { title: 'x', $related: { company: { industry: 'retail' } } };
    expect(compiled.run({ record, vars: { level: 'high' }, env })).toBe('retail/high');
    // the caller's record is not changed by adding the variables
    expect(record.$related).toEqual({ company: { industry: 'retail' } });
  });

  it('sees the current user, today and a null record', () => {
    expect(compileFlowExpression(app, flow, { currentUser: [] }).run({ record: null, vars: {}, env })).toBe('u1');
    expect(compileFlowExpression(app, flow, { addDays: [{ today: [] }, 1] }, 'date').run({ record: null, vars: {}, env })).toBe('2026-03-02');
    expect(compileFlowExpression(app, flow, { var: 'title' }).run({ record: null, vars: {}, env })).toBeNull();
  });

  it('every declared variable type reads as its type', () => {
    const types = Object.fromEntries((flow.variables ?? []).map((v) => [v.name, compileFlowExpression(app, flow, { var: `$vars.${v.name}` }).type]));
    expect(types).toMatchObject({ level: 'text', discount: 'number', urgent: 'boolean', deadline: 'date', decided_at: 'datetime', open_deals: 'list' });
  });

  it('compiles once per app document, flow and expression', () => {
    const expr = { '==': [{ var: '$vars.level' }, 'high'] };
    expect(compileFlowExpression(app, flow, expr, 'boolean')).toBe(compileFlowExpression(app, flow, expr, 'boolean'));
    expect(flowExpressionScope(app, flow)).toBe(flowExpressionScope(app, flow));
    // another version of the app is another scope
    expect(flowExpressionScope(exampleApp(), flow)).not.toBe(flowExpressionScope(app, flow));
  });

  it('refuses unknown variables and fields, wrong types and non-boolean conditions, naming the path', () => {
    const unknownVar = problemOf(() => compileFlowExpression(app, flow, { '==': [{ var: '$vars.nope' }, 1] }));
    expect(unknownVar.kind).toBe('unprocessable');
    expect(unknownVar.message).toContain('nope');
    expect(unknownVar.errors[0]).toMatchObject({ field: 'expression/==/0', code: 'unknown_field' });
    expect(problemOf(() => compileFlowExpression(app, flow, { var: 'missing' })).errors[0]!.code).toBe('unknown_field');
    expect(problemOf(() => compileFlowExpression(app, flow, { var: 'title' }, 'boolean')).errors[0]!.code).toBe('not_boolean');
    expect(problemOf(() => compileFlowExpression(app, flow, { var: '$vars.level' }, 'date')).errors[0]!.code).toBe('type_mismatch');
    expect(problemOf(() => compileFlowExpression(app, flow, { '+': [{ var: '$vars.level' }, 1] })).kind).toBe('unprocessable');
  });

  it('a flow without an object sees only variables and the current user', () => {
    const bare: FlowDef = { ...exampleFlow(), object: undefined };
    expect(compileFlowExpression(app, bare, { '>': [{ var: '$vars.discount' }, 2] }, 'boolean').run({ record: null, vars: { discount: 3 }, env })).toBe(true);
    expect(problemOf(() => compileFlowExpression(app, bare, { var: 'amount' })).errors[0]!.code).toBe('unknown_field');
  });
});

// ---- SQL ---------------------------------------------------------------------------------

let database: Database;
let published: PublishedApp;
let actor: Actor;
let deals: ApiRecord[];

const STAGES = ['new', 'review', 'approved', 'rejected'];

beforeAll(async () => {
  database = await openTestDatabase();
  const workspaceId = randomUUID();
  const userId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'flow expressions' }).execute();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
  actor = { workspaceId, userId, source: 'api' };
  const metadata = new MetadataRepository(database.db);
  const doc: AppDocument = { ...exampleApp(), flows: [] };
  await metadata.createApp(actor, { key: 'crm', draft: doc });
  await metadata.publish(actor, 'crm');
  published = await metadata.getPublished(workspaceId, 'crm');
  const records = new RecordRepository(database.db, published);
  deals = [];
  for (let i = 0; i < 24; i++) {
    const values: Record<string, unknown> = { title: `deal ${i}`, stage: STAGES[i % 4], amount: String(i * 1000) };
    if (i % 3 !== 0) values.close_date = `2026-03-${String(1 + i).padStart(2, '0')}`;
    deals.push(await records.create(actor, 'deal', values));
  }
}, 120_000);

afterAll(async () => {
  await database?.close();
});

function dealObject(): ObjectDef {
  return published.document.objects.find((o) => o.key === 'deal')!;
}

async function sqlIds(filter: unknown, input: FlowEvalInput): Promise<string[]> {
  const fragment = compileFlowFilterToSql(published.document, exampleFlow(), dealObject(), filter, input);
  const rows = await sql<{ id: string }>`SELECT id FROM records WHERE workspace_id = ${actor.workspaceId} AND object_id = ${dealObject().id} AND deleted_at IS NULL AND ${fragmentToSql(fragment)} ORDER BY id`.execute(database.db);
  return rows.rows.map((r) => r.id);
}

function jsIds(filter: unknown, input: FlowEvalInput): string[] {
  const compiled = compileFlowExpression(published.document, exampleFlow(), filter, 'boolean');
  return deals
    .filter((d) => compiled.run({ ...input, record: d }) === true)
    .map((d) => d.id)
    .sort();
}

describe('compileFlowFilterToSql', () => {
  it('substitutes variables and the current user, then filters in SQL', async () => {
    const filter = { and: [{ '==': [{ var: 'stage' }, { var: '$vars.level' }] }, { '>=': [{ var: 'amount' }, { var: '$vars.discount' }] }] };
    const input: FlowEvalInput = { record: null, vars: { level: 'review', discount: 5000 }, env: { ...env, userId: actor.userId ?? undefined } };
    const ids = await sqlIds(filter, input);
    expect(ids).toEqual(deals.filter((d) => d.stage === 'review' && Number(d.amount) >= 5000).map((d) => d.id).sort());
    expect(ids.length).toBeGreaterThan(2);
    // created_by is the starting user; another user sees none
    const mine = { '==': [{ var: 'created_by' }, { currentUser: [] }] };
    expect(await sqlIds(mine, input)).toHaveLength(deals.length);
    expect(await sqlIds(mine, { ...input, env: { ...env, userId: randomUUID() } })).toEqual([]);
  });

  it('a missing variable is null, and a list variable feeds "in"', async () => {
    const input: FlowEvalInput = { record: null, vars: { open_deals: ['new', 'approved'] }, env };
    expect(await sqlIds({ '==': [{ var: 'close_date' }, { var: '$vars.deadline' }] }, input)).toEqual([]);
    const inList = await sqlIds({ in: [{ var: 'stage' }, { var: '$vars.open_deals' }] }, input);
    expect(inList).toEqual(deals.filter((d) => d.stage === 'new' || d.stage === 'approved').map((d) => d.id).sort());
  });

  it('refuses undeclared variables and values that are not literals, naming the path', () => {
    const input: FlowEvalInput = { record: null, vars: { level: { nested: true } }, env };
    const undeclared = problemOf(() => compileFlowFilterToSql(published.document, exampleFlow(), dealObject(), { '==': [{ var: 'stage' }, { var: '$vars.ghost' }] }, input));
    expect(undeclared.errors[0]).toMatchObject({ field: 'filter/==/1', code: 'unknown_variable' });
    const notLiteral = problemOf(() => compileFlowFilterToSql(published.document, exampleFlow(), dealObject(), { '==': [{ var: 'stage' }, { var: '$vars.level' }] }, input));
    expect(notLiteral.errors[0]).toMatchObject({ field: 'filter/==/1', code: 'not_a_literal' });
  });

  it('SQL selects exactly what the JS closure accepts, for random variable values', async () => {
    const filters = [
      { '==': [{ var: 'stage' }, { var: '$vars.level' }] },
      { '>': [{ var: 'amount' }, { var: '$vars.discount' }] },
      { or: [{ '<=': [{ var: 'close_date' }, { var: '$vars.deadline' }] }, { '!': [{ var: '$vars.urgent' }] }] },
      { and: [{ '!=': [{ var: 'stage' }, { var: '$vars.level' }] }, { between: [{ var: 'amount' }, 0, { var: '$vars.discount' }] }] },
    ];
    const vars = fc.record(
      {
        level: fc.constantFrom(...STAGES, 'other', ''),
        discount: fc.oneof(fc.integer({ min: -1000, max: 30000 }), fc.constant(null)),
        deadline: fc.constantFrom('2026-03-01', '2026-03-10', '2026-03-31', null),
        urgent: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...filters), vars, async (filter, v) => {
        const input: FlowEvalInput = { record: null, vars: v, env };
        expect(await sqlIds(filter, input)).toEqual(jsIds(filter, input));
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
