import type { FieldDef, ObjectDef, PublishedApp } from '@tessera/metadata';
import type { SqlFragment } from '@tessera/expr';
import type { Kysely } from 'kysely';
import type { SystemDatabase } from '../db/schema';

/** Who is reading or writing, as the permission layer sees them. */
export interface Viewer {
  workspaceId: string;
  /** null for the system itself (migrations, flows running as the system) */
  userId: string | null;
  /** workspace administrators are not restricted by roles */
  isAdmin: boolean;
  /**
   * set when the caller authenticated with an API token scoped to roles: the viewer then
   * acts with only these app roles (by key), never more than the user holds
   */
  tokenRoles?: string[] | null;
}

export const OBJECT_ACTIONS = ['create', 'read', 'update', 'delete', 'import', 'export'] as const;
export type ObjectAction = (typeof OBJECT_ACTIONS)[number];

/**
 * What one viewer may do in one published app: the single enforcement point every read
 * and write path asks (records, lists, related lists, reports, exports, flows run on a
 * user's behalf, the per-user OpenAPI). Record scopes are SQL predicates over the
 * unaliased `records` table, compiled by the expression language, so a list, a report
 * and an export filter by the same text.
 */
export interface AccessPolicy {
  readonly viewer: Viewer;
  can(object: ObjectDef, action: ObjectAction): boolean;
  /** predicate selecting the records the viewer may read ('read') or change ('write'); null when unrestricted */
  recordScope(object: ObjectDef, mode: 'read' | 'write'): SqlFragment | null;
  /** a field the viewer may not read is absent from everything they receive */
  canReadField(object: ObjectDef, field: FieldDef): boolean;
  /** a field the viewer may not write is refused on every write path */
  canWriteField(object: ObjectDef, field: FieldDef): boolean;
}

/** No restriction: administrators and the system. */
export function unrestrictedPolicy(viewer: Viewer): AccessPolicy {
  return {
    viewer,
    can: () => true,
    recordScope: () => null,
    canReadField: () => true,
    canWriteField: () => true,
  };
}

/** The policy of `viewer` in `app`, from the app's roles and the viewer's teams, roles and shares. */
export async function loadAccessPolicy(_db: Kysely<SystemDatabase>, _app: PublishedApp, viewer: Viewer): Promise<AccessPolicy> {
  // Replaced by the role model (issue 6); until then everyone is unrestricted.
  return unrestrictedPolicy(viewer);
}
