import { sql, type RawBuilder, type Transaction } from 'kysely';
import { compileFilterToSql, fieldSqlExpression, type EvalEnv } from '@tessera/expr';
import {
  ID_PATTERN,
  ProblemError,
  findField,
  findObject,
  liveFields,
  liveObjects,
  valueKindOfField,
  type AppDocument,
  type FieldDef,
  type ObjectDef,
  type RollupDef,
} from '@tessera/metadata';
import { fragmentToSql, type RecordChange, type SystemDatabase, type WriteContext } from '@tessera/store';
import { varKeys } from '../expressions/compile';

/** One rollup field, seen from the child object whose writes change it. */
export interface RollupLink {
  parent: ObjectDef;
  field: FieldDef;
  child: ObjectDef;
  via: FieldDef;
  aggregate: RollupDef['aggregate'];
  of: FieldDef | null;
  filter: unknown;
  /** child field ids whose change can change the aggregate */
  watched: string[];
}

/** Every rollup of the app, grouped by the child object's id. */
export function rollupLinks(app: AppDocument): Map<string, RollupLink[]> {
  const out = new Map<string, RollupLink[]>();
  for (const parent of liveObjects(app)) {
    for (const field of liveFields(parent)) {
      const def = field.type === 'rollup' ? field.rollup : undefined;
      const child = def ? findObject(app, def.object) : undefined;
      const via = def && child ? findField(child, def.via) : undefined;
      if (!def || !child?.id || !via?.id) continue; // the publish check reports these
      const of = def.field ? (findField(child, def.field) ?? null) : null;
      const filterKeys = def.filter === undefined ? [] : varKeys(def.filter);
      const watched = [via, of, ...filterKeys.map((k) => findField(child, k))]
        .filter((f): f is FieldDef => !!f?.id)
        .map((f) => f.id!);
      const link: RollupLink = { parent, field, child, via, aggregate: def.aggregate, of, filter: def.filter, watched };
      out.set(child.id, [...(out.get(child.id) ?? []), link]);
    }
  }
  return out;
}

/** Parents whose aggregates this child write can change: the old and the new one on a re-parenting. */
function affectedParents(link: RollupLink, change: RecordChange): string[] {
  const viaId = link.via.id!;
  const now = change.after[viaId];
  if (change.action !== 'update') return typeof now === 'string' ? [now] : [];
  const before = change.before ?? {};
  const moved = link.watched.some((id) => JSON.stringify(before[id]) !== JSON.stringify(change.after[id]));
  if (!moved) return [];
  return [...new Set([before[viaId], now].filter((v): v is string => typeof v === 'string'))];
}

/**
 * Keeps rollups exact under concurrent child writes: lock every affected parent (in id
 * order, so two writers never wait on each other in a circle), then recompute each
 * aggregate with one query. Under READ COMMITTED that query sees every child committed
 * by writers that held the lock before us, so the last writer always stores the truth.
 */
export async function refreshRollups(ctx: WriteContext, links: readonly RollupLink[], change: RecordChange, env: EvalEnv): Promise<void> {
  const targets = new Map<string, { parent: ObjectDef; id: string; links: RollupLink[] }>();
  for (const link of links) {
    for (const id of affectedParents(link, change)) {
      const key = `${link.parent.id}/${id}`;
      const target = targets.get(key) ?? { parent: link.parent, id, links: [] };
      target.links.push(link);
      targets.set(key, target);
    }
  }
  if (targets.size === 0) return;
  const ordered = [...targets.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const live: typeof ordered = [];
  for (const t of ordered) {
    if (await lockParent(ctx.trx, ctx.actor.workspaceId, t.parent, t.id)) live.push(t);
  }
  for (const t of live) await ctx.records.recompute(t.parent.key, t.id, await aggregates(ctx.trx, ctx.actor.workspaceId, t.links, t.id, env));
}

/** A restored parent missed the child writes made while it was deleted: recompute its own rollups. */
export async function ownRollups(ctx: WriteContext, links: readonly RollupLink[], id: string, env: EvalEnv): Promise<Record<string, unknown>> {
  return aggregates(ctx.trx, ctx.actor.workspaceId, links, id, env);
}

async function lockParent(trx: Transaction<SystemDatabase>, workspaceId: string, parent: ObjectDef, id: string): Promise<boolean> {
  const row = await trx
    .selectFrom('records')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('object_id', '=', parent.id!)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  return !!row;
}

/**
 * The parent's rollup values in their stored form (null clears a field: min/max/avg of no
 * children), one query per child relation: every aggregate over the same children is a
 * column of the same scan, a filtered one with FILTER (WHERE ...).
 */
export async function aggregates(
  trx: Transaction<SystemDatabase>,
  workspaceId: string,
  links: readonly RollupLink[],
  parentId: string,
  env: EvalEnv,
): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  const groups = new Map<string, RollupLink[]>();
  for (const link of links) {
    const key = `${link.child.id}/${link.via.id}`;
    groups.set(key, [...(groups.get(key) ?? []), link]);
  }
  for (const group of groups.values()) {
    const { child, via } = group[0]!;
    const columns = group.map((link, i) => {
      const filter = link.filter === undefined || link.filter === null ? null : fragmentToSql(compileFilterToSql(link.filter, { object: child }, env));
      return sql`${aggregateSql(link, filter)} AS ${sql.ref(`v${i}`)}`;
    });
    const result = await sql<Record<string, string | null>>`
      SELECT ${sql.join(columns)} FROM records
      WHERE workspace_id = ${workspaceId} AND object_id = ${child.id!} AND deleted_at IS NULL
        AND ${sql.raw(fieldSqlExpression(via))} = ${parentId}`.execute(trx);
    const row = result.rows[0] ?? {};
    group.forEach((link, i) => (values[link.field.id!] = storedAggregate(link, row[`v${i}`] ?? null)));
  }
  return values;
}

function storedAggregate(link: RollupLink, v: string | null): unknown {
  if (link.aggregate === 'count' || link.aggregate === 'sum') return Number(v ?? 0);
  if (v === null) return null;
  return isNumeric(link) ? Number(v) : v;
}

function isNumeric(link: RollupLink): boolean {
  return link.of ? valueKindOfField(link.of) === 'number' : true;
}

function aggregateSql(link: RollupLink, filter: RawBuilder<unknown> | null): RawBuilder<unknown> {
  const where = filter ? sql` FILTER (WHERE ${filter})` : sql``;
  if (link.aggregate === 'count') return sql`(count(*)${where})::text`;
  if (!link.of) throw new ProblemError('unprocessable', `Rollup ${link.field.key} has no field to ${link.aggregate}`);
  const id = checkedId(link.of);
  const value = isNumeric(link) ? sql`(data->>${id})::numeric` : sql`((data->>${id}) COLLATE "C")`;
  switch (link.aggregate) {
    case 'sum':
      return sql`coalesce(sum(${value})${where}, 0)::text`;
    case 'min':
      return sql`(min(${value})${where})::text`;
    case 'max':
      return sql`(max(${value})${where})::text`;
    case 'avg':
      return sql`(avg(${value})${where})::text`;
  }
}

function checkedId(field: FieldDef): string {
  if (!field.id || !ID_PATTERN.test(field.id)) throw new ProblemError('unprocessable', `Field ${field.key} has no valid id`);
  return field.id;
}

