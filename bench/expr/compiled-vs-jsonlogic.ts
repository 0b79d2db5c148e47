/**
 * Compiled expression closures vs json-logic-js `apply`, on the same 20 realistic formula
 * and validation expressions over the same records. Pure CPU, no database:
 *   npx tsx bench/expr/compiled-vs-jsonlogic.ts      (BENCH_ITERATIONS, default 200000 per expression)
 * Every expression uses only json-logic base operators, so both sides compute the same
 * thing; the script checks they agree before timing.
 */
import { createRequire } from 'node:module';
import type { FieldDef, FieldType, ObjectDef } from '@tessera/metadata';
import { compileExpression, type EvalEnv } from '@tessera/expr';

// json-logic-js is a dependency of @tessera/expr, not of the bench package: resolve it from there
const jsonLogic = createRequire(new URL('../../packages/expr/package.json', import.meta.url))('json-logic-js') as {
  apply(logic: unknown, data: unknown): unknown;
};

function field(key: string, type: FieldType): FieldDef {
  return { id: `f_${key}`, key, type, label: { en: key } };
}

const deal: ObjectDef = {
  id: 'o_deal',
  key: 'deal',
  label: { en: 'Deal' },
  fields: [
    field('title', 'text'),
    field('stage', 'select'),
    field('amount', 'number'),
    field('cost', 'number'),
    field('qty', 'number'),
    field('discount', 'percent'),
    field('probability', 'percent'),
    field('hot', 'boolean'),
    field('industry', 'text'),
    field('region', 'text'),
    field('first_name', 'text'),
    field('last_name', 'text'),
    field('email', 'text'),
    field('tags', 'multiselect'),
  ],
};

const v = (key: string) => ({ var: key });
const EXPRESSIONS: Array<[string, unknown]> = [
  ['key account', { and: [{ '>': [v('amount'), 500000] }, { '==': [v('industry'), 'manufacturing'] }] }],
  ['margin', { '-': [v('amount'), v('cost')] }],
  ['margin %', { '*': [{ '/': [{ '-': [v('amount'), v('cost')] }, v('amount')] }, 100] }],
  ['net amount', { '*': [v('amount'), { '-': [1, { '/': [v('discount'), 100] }] }] }],
  ['weighted', { '/': [{ '*': [v('amount'), v('probability')] }, 100] }],
  ['line total', { '*': [v('qty'), { '/': [v('amount'), 10] }] }],
  ['full name', { cat: [v('last_name'), ' ', v('first_name')] }],
  ['initials', { cat: [{ substr: [v('first_name'), 0, 1] }, { substr: [v('last_name'), 0, 1] }] }],
  ['tier', { if: [{ '>=': [v('amount'), 1000000] }, 'A', { '>=': [v('amount'), 100000] }, 'B', 'C'] }],
  ['stage open', { in: [v('stage'), ['new', 'qualified', 'proposal', 'negotiation']] }],
  ['amount positive', { '>=': [v('amount'), 0] }],
  ['cost below amount', { '<=': [v('cost'), v('amount')] }],
  ['discount range', { '<=': [0, v('discount'), 30] }],
  ['title required', { '!!': [v('title')] }],
  ['vip tagged', { in: ['vip', v('tags')] }],
  ['big or hot', { or: [v('hot'), { '>': [v('amount'), 200000] }] }],
  ['won needs amount', { or: [{ '!=': [v('stage'), 'won'] }, { '>': [v('amount'), 0] }] }],
  ['region check', { if: [{ '==': [v('region'), 'east'] }, { '<=': [v('discount'), 20] }, { '<=': [v('discount'), 10] }] }],
  ['max of two', { max: [v('amount'), v('cost'), 0] }],
  ['complex approval', { and: [{ '>': [v('amount'), 100000] }, { '<': [v('discount'), 15] }, { '!': [v('hot')] }, { in: [v('region'), ['east', 'north']] }] }],
];

const STAGES = ['new', 'qualified', 'proposal', 'negotiation', 'won', 'lost'];
const RECORDS = Array.from({ length: 256 }, (_, i) => ({
  title: i % 7 === 0 ? '' : `Deal ${i}`,
  stage: STAGES[i % STAGES.length],
  amount: ((i * 7919) % 2_000_000) + 0.5,
  cost: ((i * 104729) % 1_500_000) + 0.25,
  qty: (i % 50) + 1,
  discount: i % 40,
  probability: (i * 13) % 100,
  hot: i % 3 === 0,
  industry: i % 4 === 0 ? 'manufacturing' : 'services',
  region: ['east', 'north', 'south', 'west'][i % 4],
  first_name: ['伟', 'Anna', '芳', 'Li'][i % 4],
  last_name: ['王', 'Smith', '张', 'Chen'][i % 4],
  email: `user${i}@example.com`,
  tags: i % 5 === 0 ? ['vip'] : [],
}));

function iterationsFromEnv(): number {
  const raw = process.env.BENCH_ITERATIONS;
  const n = raw ? Number(raw) : 200_000;
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_ITERATIONS must be a positive integer, got ${raw}`);
  return n;
}

let sink = 0;
function time(n: number, run: (record: Record<string, unknown>) => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (run(RECORDS[i & 255]!)) sink++;
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function main(): void {
  const n = iterationsFromEnv();
  const env: EvalEnv = { now: new Date() };
  const scope = { object: deal };
  console.log(`compiled closures vs json-logic-js apply: ${EXPRESSIONS.length} expressions x ${n} evaluations, node ${process.version}`);
  console.log(`${'expression'.padEnd(20)} ${'compiled ops/s'.padStart(15)} ${'json-logic ops/s'.padStart(17)} ${'speed-up'.padStart(9)}`);
  let totalCompiled = 0;
  let totalJsonLogic = 0;
  for (const [name, expr] of EXPRESSIONS) {
    const compiled = compileExpression(expr, scope);
    for (const record of RECORDS) {
      const ours = compiled.run(record, env);
      const theirs = jsonLogic.apply(expr, record);
      const same = typeof ours === 'number' && typeof theirs === 'number' ? Math.abs(ours - theirs) <= 1e-9 * Math.max(1, Math.abs(theirs)) : ours === theirs;
      if (!same) throw new Error(`"${name}" disagrees on ${JSON.stringify(record)}: ${String(ours)} vs ${String(theirs)}`);
    }
    // warm both paths before timing
    time(Math.min(n, 20_000), (r) => compiled.run(r, env));
    time(Math.min(n, 20_000), (r) => jsonLogic.apply(expr, r));
    const tc = time(n, (r) => compiled.run(r, env));
    const tj = time(n, (r) => jsonLogic.apply(expr, r));
    totalCompiled += tc;
    totalJsonLogic += tj;
    console.log(`${name.padEnd(20)} ${Math.round(n / tc).toLocaleString('en').padStart(15)} ${Math.round(n / tj).toLocaleString('en').padStart(17)} ${(tj / tc).toFixed(1).padStart(8)}x`);
  }
  const total = n * EXPRESSIONS.length;
  console.log(
    `${'all 20'.padEnd(20)} ${Math.round(total / totalCompiled).toLocaleString('en').padStart(15)} ${Math.round(total / totalJsonLogic).toLocaleString('en').padStart(17)} ${(totalJsonLogic / totalCompiled).toFixed(1).padStart(8)}x`,
  );
  if (sink < 0) console.log(sink);
}

main();
