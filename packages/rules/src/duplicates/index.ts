import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { ID_PATTERN, ProblemError, findField, valueKindOfField, type DuplicateRule, type FieldDef, type MatchMethod, type ObjectDef } from '@tessera/metadata';
import { fieldSqlExpression } from '@tessera/expr';
import type { SystemDatabase } from '@tessera/store';
import { normalizeForMatch, normalizeSqlText } from './normalize';

export { normalizeForMatch, normalizeSqlText } from './normalize';

export interface DuplicateMatch {
  /** the duplicate rule's key */
  rule: string;
  action: 'block' | 'warn';
  /** candidate records, oldest first, at most MAX_DUPLICATE_CANDIDATES */
  recordIds: string[];
}

export const MAX_DUPLICATE_CANDIDATES = 20;

type Db = Kysely<SystemDatabase> | Transaction<SystemDatabase>;

interface MatchTerm {
  field: FieldDef;
  method: MatchMethod;
  value: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The live records of `object` that each duplicate rule calls duplicates of `values`
 * (by field id, as they will be stored): every field of the rule must match under its
 * method. A rule is skipped when any of its fields has nothing to match on, so blank
 * records are never each other's duplicates. One query per rule.
 */
export async function findDuplicates(
  db: Db,
  workspaceId: string,
  object: ObjectDef,
  values: Record<string, unknown>,
  excludeId: string | null,
): Promise<DuplicateMatch[]> {
  if (!object.id || !ID_PATTERN.test(object.id)) throw new Error(`object ${object.key} has no valid id: use a published document`);
  if (excludeId !== null && !UUID.test(excludeId)) {
    throw new ProblemError('not_found', `Record ${JSON.stringify(excludeId)} not found`, [{ field: 'id', code: 'invalid', message: 'record ids are UUIDs' }]);
  }
  const matches: DuplicateMatch[] = [];
  for (const rule of object.duplicateRules ?? []) {
    const terms = matchTerms(object, rule, values);
    if (!terms) continue;
    const recordIds = await candidates(db, workspaceId, object.id, terms, excludeId);
    if (recordIds.length > 0) matches.push({ rule: rule.key, action: rule.action, recordIds });
  }
  return matches;
}

/** null when the rule cannot apply: a field unknown, deleted or without a value to match on. */
function matchTerms(object: ObjectDef, rule: DuplicateRule, values: Record<string, unknown>): MatchTerm[] | null {
  if (rule.match.length === 0) return null;
  const terms: MatchTerm[] = [];
  for (const { field: key, method } of rule.match) {
    const field = findField(object, key);
    if (!field?.id) return null;
    const value = values[field.id];
    const effective = effectiveMethod(field, method);
    if (isBlank(effective, value)) return null;
    terms.push({ field, method: effective, value });
  }
  return terms;
}

/** Normalising only means something for text; other kinds match on their stored value. */
function effectiveMethod(field: FieldDef, method: MatchMethod): MatchMethod {
  return valueKindOfField(field) === 'text' ? method : 'exact';
}

function isBlank(method: MatchMethod, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value !== 'string') return false;
  return normalizeForMatch(method, value) === '';
}

async function candidates(db: Db, workspaceId: string, objectId: string, terms: MatchTerm[], excludeId: string | null): Promise<string[]> {
  const result = await sql<{ id: string }>`
    SELECT id FROM records
    WHERE workspace_id = ${workspaceId} AND object_id = ${objectId} AND deleted_at IS NULL
      ${excludeId ? sql`AND id <> ${excludeId}` : sql``}
      AND ${sql.join(terms.map(termSql), sql` AND `)}
    ORDER BY id
    LIMIT ${MAX_DUPLICATE_CANDIDATES}`.execute(db);
  return result.rows.map((r) => r.id);
}

/**
 * The stored side and the probe side go through the very same SQL text: the probe is the
 * bound value wrapped as a one-field document, so "equal" cannot differ between them and
 * an expression index over the stored side would serve the comparison.
 */
function termSql(term: MatchTerm): RawBuilder<unknown> {
  const expression = matchSqlExpression(term.field, term.method);
  const probe = JSON.stringify({ [term.field.id!]: term.value });
  return sql`${sql.raw(expression)} = (SELECT ${sql.raw(expression)} FROM (SELECT ${probe}::jsonb AS data) AS probe)`;
}

/** How a field is compared under a method, over `data`; immutable, so an expression index could use it. */
export function matchSqlExpression(field: FieldDef, method: MatchMethod): string {
  return normalizeSqlText(effectiveMethod(field, method), fieldSqlExpression(field));
}
