import { MAX_REPORT_ROWS } from '../model/report';
import type { ReportColumn } from '../model/result';
import type { KindPlan } from './compile-report';
import { localized, type CompileContext } from './context';
import { isMoney, mustResolve } from './fields';
import { sourceQuery } from './source';
import { joinSql, Sql } from './sql';

const DEFAULT_LIMIT = 100;

/** A table: the listed fields of the matching records (own or one hop away), sorted, at most `limit` (default 100). */
export function compileTable(ctx: CompileContext): KindPlan {
  const { report } = ctx;
  const refs = (report.columns ?? []).map((path, i) => mustResolve(ctx.app, ctx.object, path, `columns/${i}`));
  const sorts = (report.sort ?? []).map((s, i) => ({ ref: mustResolve(ctx.app, ctx.object, s.key, `sort/${i}/key`), desc: s.direction === 'desc' }));
  const list = [
    new Sql().text('id::text AS _id'),
    ...refs.map((ref, i) => new Sql().text(`${ctx.joins.read(ref)} AS c${i}`)),
    ...sorts.map((s, i) => new Sql().text(`${ctx.joins.read(s.ref)} AS s${i}`)),
  ];
  const source = sourceQuery(ctx, joinSql(list, ', '));
  const order = [...sorts.map((s, i) => `s${i} ${s.desc ? 'DESC' : 'ASC'} NULLS LAST`), '_id'].join(', ');
  const statement = new Sql().text('SELECT * FROM (').append(source).text(`) AS src ORDER BY ${order} LIMIT `).value(Math.min(report.limit ?? DEFAULT_LIMIT, MAX_REPORT_ROWS));
  const columns: ReportColumn[] = refs.map((ref) => ({
    key: ref.path,
    label: localized(ref.field?.label, ctx.locale, ref.path),
    role: 'field',
    type: isMoney(ref) ? 'money' : ref.kind,
    ...(isMoney(ref) && ref.field?.currency ? { currency: ref.field.currency } : {}),
  }));
  return {
    statement,
    refs: [...refs, ...sorts.map((s) => s.ref)],
    read: (rows) => ({
      kind: 'table',
      columns,
      rows: rows.map((row) => {
        const values: Record<string, unknown> = {};
        refs.forEach((ref, i) => {
          const v = row[`c${i}`];
          values[ref.path] = v === null || v === undefined ? null : ref.kind === 'number' && !isMoney(ref) ? Number(v) : ref.kind === 'number' ? String(v) : v;
        });
        return { values, drill: { '==': [{ var: 'id' }, row._id] } };
      }),
    }),
  };
}
