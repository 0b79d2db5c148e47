import { ID_PATTERN, type Expression } from '@tessera/metadata';
import { compileFilterToSql } from '@tessera/expr';
import type { CompileContext } from './context';
import { Sql, sqlOf } from './sql';

/**
 * The rows a report aggregates: `SELECT <columns> FROM records <joins> WHERE
 * workspace_id = $1 AND object_id = $2 AND deleted_at IS NULL AND <viewer's scope> AND
 * <report filter> AND <extra filter>`. Every report statement reads records only through
 * this, so no report can skip the workspace or the viewer's record scope.
 * Call after the columns are built: they register the joins they need.
 */
export function sourceQuery(ctx: CompileContext, columns: Sql, conditions: Sql[] = []): Sql {
  const objectId = ctx.object.id;
  if (typeof objectId !== 'string' || !ID_PATTERN.test(objectId)) throw new Error(`object ${ctx.object.key} has no valid id`);
  const workspaceId = ctx.policy.viewer.workspaceId;
  const out = new Sql().text('SELECT ').append(columns).text(' FROM records');
  out.append(ctx.joins.render(workspaceId));
  out.text(' WHERE workspace_id = ').shared(workspaceId).text(' AND object_id = ').shared(objectId).text(' AND deleted_at IS NULL');
  const scope = ctx.policy.recordScope(ctx.object, 'read');
  if (scope) out.append(sqlOf(' AND (', scope, ')'));
  for (const filter of ctx.filters) out.append(sqlOf(' AND ', compileFilterToSql(filter, { object: ctx.object, app: ctx.app }, ctx.env)));
  for (const c of conditions) out.text(' AND ').append(c);
  return out;
}

/** The drill-down expression of a row: the report's filters AND the row's own predicates. */
export function drillOf(ctx: CompileContext, own: Expression[]): Expression {
  const parts = [...ctx.filters, ...own];
  if (parts.length === 0) return true;
  return parts.length === 1 ? parts[0] : { and: parts };
}
