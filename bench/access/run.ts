import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import type { PublishedApp } from '@tessera/metadata';
import { RecordRepository, loadCallerPolicy, type AccessPolicy, type ListQuery, type RoleDef, type SystemDatabase } from '@tessera/store';
import { runReport, type ReportDef } from '@tessera/reports';
import { createBenchDatabase, serverFacts, type BenchDatabase } from '../lib/database';
import { createTenant, dealIds, publishDealApp, type Tenant } from '../lib/deal-app';
import { loadAverage, machine, table, writeSection } from '../lib/report';
import { median, ms, percentile, ratio, timed } from '../lib/stats';
import { seedRecords } from '../list/seed';

export interface AccessBenchOptions {
  serverUrl: string;
  records: number;
  iterations: number;
  warmup: number;
  command: string;
}

/** A sales rep sees their team's deals: four of the twenty owners the seed spreads deals over. */
const TEAM_SIZE = 4;
const SHAPE_BUDGET_MS = 60_000;
const MIN_ROUNDS = 5;

const REP_ROLE: RoleDef = {
  key: 'sales_rep',
  name: { en: 'Sales rep' },
  objects: { deal: { create: true, read: true, update: true, delete: false, import: false, export: false, scope: 'team', fields: { probability: 'none' } } },
};

type Db = BenchDatabase['database']['db'];

interface Shape {
  name: string;
  run(db: Db, app: PublishedApp, policy: AccessPolicy, tenant: Tenant): Promise<unknown>;
}

const list = (query: ListQuery): Shape['run'] => (db, app, policy, tenant) =>
  new RecordRepository(db, app, { access: policy }).list(tenant.workspaceId, 'deal', query, { now: new Date(), userId: policy.viewer.userId ?? undefined });

const BY_STAGE: ReportDef = {
  key: 'by_stage',
  name: { en: 'By stage' },
  kind: 'summary',
  object: 'deal',
  dimensions: [{ field: 'stage' }],
  measures: [
    { key: 'n', aggregate: 'count' },
    { key: 'total', aggregate: 'sum', field: 'amount' },
  ],
};

const SHAPES: Shape[] = [
  { name: 'list: first page, newest first', run: list({ limit: 50 }) },
  { name: "list: stage == 'won' and amount > 50000, sort -amount", run: list({ filter: { and: [{ '==': [{ var: 'stage' }, 'won'] }, { '>': [{ var: 'amount' }, 50000] }] }, sort: '-amount', limit: 50 }) },
  { name: 'list: count of all deals', run: (db, app, policy, tenant) => new RecordRepository(db, app, { access: policy }).count(tenant.workspaceId, 'deal', {}, { now: new Date() }) },
  { name: 'report: count and sum by stage', run: (db, app, policy) => runReport(db, app, BY_STAGE, { policy, env: { now: new Date() } }) },
];

interface Result {
  shape: Shape;
  admin: number[];
  rep: number[];
  /** the rep with a policy loaded once, against the admin's: the cost of the scope in the statement alone */
  repStatement: number[];
  adminStatement: number[];
  plan: string;
}

/**
 * The cost of a record scope: the same lists and report on the same million deals, as an
 * administrator (no scope) and as a sales rep whose role reaches their team's deals (a
 * fifth of them) and hides one field. The rep's side loads their policy on every
 * request, as the server does (one statement: roles, reports, teams).
 */
export async function runAccess(options: AccessBenchOptions): Promise<void> {
  const loadAtStart = loadAverage();
  const current = await createBenchDatabase(options.serverUrl, 'access');
  const db = current.database.db;
  console.log(`access: database ${current.name}`);
  try {
    const tenant = await createTenant(current.database);
    const published = await publishDealApp(current.database, tenant, 'crm');
    const app: PublishedApp = { ...published, document: { ...published.document, roles: [REP_ROLE] } };
    const seeded = await timed(() => seedRecords(current.pool, tenant.workspaceId, dealIds(app), options.records, (n) => console.log(`access: seeded ${n}`)));
    await current.pool.query('VACUUM (ANALYZE) records');
    const rep = await organise(current, tenant, app);
    // both sides load their policy as the server does per request: one statement each
    const adminPolicy = () => loadCallerPolicy(db, app, { workspaceId: tenant.workspaceId, userId: tenant.userId });
    const repPolicy = () => loadCallerPolicy(db, app, { workspaceId: tenant.workspaceId, userId: rep });
    const share = await scopeShare(current, tenant);
    const loaded = await repPolicy();
    const adminLoaded = await adminPolicy();
    const results: Result[] = [];
    for (const shape of SHAPES) {
      const runs = {
        admin: async () => shape.run(db, app, await adminPolicy(), tenant),
        rep: async () => shape.run(db, app, await repPolicy(), tenant),
        repStatement: async () => shape.run(db, app, loaded, tenant),
        adminStatement: async () => shape.run(db, app, adminLoaded, tenant),
      };
      const names = ['admin', 'rep', 'adminStatement', 'repStatement'] as const;
      for (let i = 0; i < options.warmup; i++) for (const n of names) await runs[n]();
      const samples = { admin: [] as number[], rep: [] as number[], adminStatement: [] as number[], repStatement: [] as number[] };
      const deadline = Date.now() + SHAPE_BUDGET_MS;
      for (let i = 0; i < options.iterations && (i < MIN_ROUNDS || Date.now() < deadline); i++) {
        for (let k = 0; k < names.length; k++) {
          const n = names[(i + k) % names.length]!;
          samples[n].push((await timed(runs[n])).ms);
        }
      }
      const plan = await planOf(current, app, tenant, await repPolicy(), shape);
      console.log(`access: ${shape.name}: admin p50 ${ms(median(samples.admin))} ms, rep p50 ${ms(median(samples.rep))} ms, ratio ${ratio(median(samples.rep), median(samples.admin))}; policies preloaded: admin ${ms(median(samples.adminStatement))} ms, rep ${ms(median(samples.repStatement))} ms, ratio ${ratio(median(samples.repStatement), median(samples.adminStatement))}`);
      results.push({ shape, ...samples, plan });
    }
    const facts = await serverFacts(current.pool);
    await writeSection('access', render(options, seeded.ms, share, results, facts, `${loadAtStart} at start, ${loadAverage()} at end`));
    console.log('access: wrote docs/benchmarks.md');
  } finally {
    await current.drop();
  }
}

/** Makes four of the seed's owners real users in one team, one of them the rep holding the role. */
async function organise(b: BenchDatabase, tenant: Tenant, app: PublishedApp): Promise<string> {
  const owners = (await b.pool.query<{ owner_id: string }>('SELECT DISTINCT owner_id FROM records WHERE workspace_id = $1 ORDER BY owner_id LIMIT $2', [tenant.workspaceId, TEAM_SIZE])).rows.map((r) => r.owner_id);
  const team = randomUUID();
  await b.pool.query('INSERT INTO teams (workspace_id, id, name) VALUES ($1, $2, $3)', [tenant.workspaceId, team, 'East']);
  for (const id of owners) {
    await b.pool.query('INSERT INTO users (workspace_id, id, email) VALUES ($1, $2, $3)', [tenant.workspaceId, id, `${id}@bench.local`]);
    await b.pool.query('INSERT INTO team_members (workspace_id, team_id, user_id) VALUES ($1, $2, $3)', [tenant.workspaceId, team, id]);
  }
  const rep = owners[0]!;
  await b.pool.query('INSERT INTO user_roles (workspace_id, app_id, user_id, role_key) VALUES ($1, $2, $3, $4)', [tenant.workspaceId, app.appId, rep, REP_ROLE.key]);
  return rep;
}

/** How much of the data the rep's scope reaches, for the reader of the figures. */
async function scopeShare(b: BenchDatabase, tenant: Tenant): Promise<string> {
  const total = (await b.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM records WHERE workspace_id = $1', [tenant.workspaceId])).rows[0]!.n;
  const teamOwners = (await b.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM team_members WHERE workspace_id = $1', [tenant.workspaceId])).rows[0]!.n;
  const visible = (await b.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM records r WHERE r.workspace_id = $1 AND r.owner_id IN (SELECT user_id FROM team_members WHERE workspace_id = $1)',
    [tenant.workspaceId],
  )).rows[0]!.n;
  return `${visible} of ${total} deals (${((100 * visible) / total).toFixed(1)}%, ${teamOwners} owners)`;
}

/** The rep's list statement, explained: captured from the repository through a logging kysely. */
async function planOf(b: BenchDatabase, app: PublishedApp, tenant: Tenant, policy: AccessPolicy, shape: Shape): Promise<string> {
  let captured: CompiledQuery | undefined;
  const db = new Kysely<SystemDatabase>({
    dialect: new PostgresDialect({ pool: b.pool }),
    log: (e) => {
      if (e.level === 'query') captured = e.query;
    },
  });
  await shape.run(db, app, policy, tenant);
  if (!captured) return '(no statement)';
  const plan = await b.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${captured.sql}`, [...captured.parameters]);
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

function render(options: AccessBenchOptions, seedMs: number, share: string, results: Result[], facts: string, load: string): string {
  const rows = results.map((r) => [
    r.shape.name,
    ms(median(r.admin)),
    ms(percentile(r.admin, 95)),
    ms(median(r.rep)),
    ms(percentile(r.rep, 95)),
    ratio(median(r.rep), median(r.admin)),
    ms(median(r.adminStatement)),
    ms(median(r.repStatement)),
    ratio(median(r.repStatement), median(r.adminStatement)),
  ]);
  return `## Access: a sales rep's team scope vs an administrator

Command: \`${options.command}\` (${options.records.toLocaleString('en')} deals seeded in ${ms(seedMs / 1000, 1)} s).
Machine: ${machine()}. ${facts}. Load average: ${load}.

The same requests on the same deals, through \`RecordRepository\` and \`runReport\`: as an
administrator (no scope) and as a sales rep whose role has a \`team\` scope and hides one
field. The rep reaches ${share}. Each request first loads the caller's policy, as the
server does per request (\`loadCallerPolicy\`: one statement reading whether they are an
administrator, their roles, reports chain, teams and shares); the last three columns
reuse one loaded policy each, which isolates what the scope costs inside the statement. Times in
ms; ratio = rep p50 / admin p50.

${table(['request', 'admin p50', 'admin p95', 'rep p50', 'rep p95', 'ratio', 'admin, policy loaded p50', 'rep, policy loaded p50', 'ratio'], rows)}

What the figures say: the scope is one more predicate in the same statement
(\`owner_id = ANY($n)\` for a team, plus the ids shared with the rep), so the planner keeps
the plan it uses for the administrator. A page of a selective filter reads more index
entries before it has 51 rows the rep may see (a fifth of the deals are theirs), which
is the physical price of the scope; a count or a grouped report reads fewer rows (the
owner index from migration 0006), so it is faster for the rep. The policy itself is
one round trip per request for both. The machine was shared and busy (load average
above), so single figures move by 2x between runs; compare within a row.

<details><summary>Plans of the rep's statements</summary>

${results.map((r) => `${r.shape.name}\n\n\`\`\`\n${r.plan}\n\`\`\``).join('\n\n')}

</details>`;
}
