import {
  ID_PATTERN,
  ProblemError,
  SYSTEM_FIELDS,
  type AppDocument,
  type FieldDef,
  type ObjectDef,
  type SystemField,
  type ValueKind,
} from '@tessera/metadata';
import { checkExpression, fieldSqlExpression, systemFieldSqlExpression } from '@tessera/expr';
import type { AccessPolicy } from '@tessera/store';
import { Sql, sqlOf } from './sql';

/** A field a report reads: on the report's object, or one hop away through a relation. */
export interface FieldRef {
  /** as written in the report, e.g. `amount` or `company.industry` */
  path: string;
  /** null for a system field (id, owner_id, created_at, ...) */
  field: FieldDef | null;
  system: SystemField | null;
  /** the object the field belongs to */
  object: ObjectDef;
  kind: ValueKind;
  /** set when the path goes through a relation of the report's object */
  hop: { relation: FieldDef; target: ObjectDef } | null;
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

function liveField(object: ObjectDef, key: string): FieldDef | undefined {
  return object.fields.find((f) => f.key === key && !f.deleted);
}

export function liveObject(app: AppDocument, key: string): ObjectDef | undefined {
  return app.objects.find((o) => o.key === key && !o.deleted);
}

/** The field at `path`, or why there is none (a message naming the path). */
export function resolveFieldPath(app: AppDocument, object: ObjectDef, path: string): FieldRef | { code: string; message: string } {
  // the expression checker knows a rollup's or formula's value kind; ask it rather than repeat it
  const { type, errors } = checkExpression({ var: path }, { object, app }, undefined, 'formula');
  if (errors.length > 0) return { code: errors[0]!.code, message: errors[0]!.message };
  const kind = type as ValueKind;
  const dot = path.indexOf('.');
  if (dot < 0) {
    const field = liveField(object, path) ?? null;
    return { path, field, system: field ? null : (path as SystemField), object, kind, hop: null };
  }
  const relation = liveField(object, path.slice(0, dot))!;
  const target = liveObject(app, relation.target!)!;
  const key = path.slice(dot + 1);
  const field = liveField(target, key) ?? null;
  return { path, field, system: field ? null : SYSTEM.has(key) ? (key as SystemField) : null, object: target, kind, hop: { relation, target } };
}

/** Resolves a path the validator has already accepted; throws a 400 naming `at` otherwise (ad-hoc definitions are validated first). */
export function mustResolve(app: AppDocument, object: ObjectDef, path: string, at: string): FieldRef {
  const ref = resolveFieldPath(app, object, path);
  if ('code' in ref) throw new ProblemError('bad_request', `Report field "${path}" cannot be read`, [{ field: at, code: ref.code, message: ref.message }]);
  return ref;
}

export function isMoney(ref: FieldRef): boolean {
  return ref.field?.type === 'currency' || (ref.field?.type === 'formula' && ref.field.resultType === 'currency');
}

/** Digits after the point a money value is shown with. */
export function moneyScale(ref: FieldRef): number {
  return ref.field?.scale ?? 2;
}

/** The column text of a field over the unaliased `records` row it belongs to. */
function ownSql(ref: Pick<FieldRef, 'field' | 'system' | 'kind'>): string {
  if (ref.field) return fieldSqlExpression(ref.field, ref.kind);
  return systemFieldSqlExpression(ref.system!);
}

/**
 * The LEFT JOINs of a report: one per relation followed, each a subquery over `records`
 * restricted to the same workspace, the target object, live records and the viewer's read
 * scope of the target object. A related record the viewer may not read is treated like
 * an empty relation, so a report never reveals a value the viewer's list would hide.
 * The subquery exposes only `k` (the id as text) and `c<n>` columns, so the unqualified
 * `data`, `owner_id`... of the report's own filters keep meaning the source record.
 */
export class Joins {
  private readonly byRelation = new Map<string, { relation: FieldDef; target: ObjectDef; columns: string[] }>();

  constructor(private readonly policy: AccessPolicy) {}

  /** SQL reading `ref` in the report's source row. */
  read(ref: FieldRef): string {
    if (!ref.hop) return ownSql(ref);
    const relationKey = ref.hop.relation.key;
    let join = this.byRelation.get(relationKey);
    if (!join) {
      join = { relation: ref.hop.relation, target: ref.hop.target, columns: [] };
      this.byRelation.set(relationKey, join);
    }
    const text = ownSql(ref);
    let i = join.columns.indexOf(text);
    if (i < 0) {
      join.columns.push(text);
      i = join.columns.length - 1;
    }
    return `j_${relationKey}.c${i}`;
  }

  /** the JOIN clauses, after every `read` */
  render(workspaceId: string): Sql {
    const out = new Sql();
    for (const [relationKey, join] of this.byRelation) {
      const targetId = join.target.id;
      if (typeof targetId !== 'string' || !ID_PATTERN.test(targetId)) throw new Error(`object ${join.target.key} has no valid id`);
      const columns = join.columns.map((c, i) => `, ${c} AS c${i}`).join('');
      const scope = this.policy.recordScope(join.target, 'read');
      out.text(` LEFT JOIN (SELECT id::text AS k${columns} FROM records WHERE workspace_id = `).shared(workspaceId);
      out.text(' AND object_id = ').shared(targetId).text(' AND deleted_at IS NULL');
      if (scope) out.append(sqlOf(' AND (', scope, ')'));
      out.text(`) AS j_${relationKey} ON j_${relationKey}.k = ${ownSql({ field: join.relation, system: null, kind: 'text' })}`);
    }
    return out;
  }
}
