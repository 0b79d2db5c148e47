import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the system tables in migrations/. Keep in step with the SQL. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface WorkspacesTable {
  workspace_id: string;
  name: string;
  created_at: Timestamp;
}

export interface UsersTable {
  workspace_id: string;
  id: string;
  email: string;
  name: ColumnType<string, string | undefined, string>;
  password_hash: string | null;
  is_admin: ColumnType<boolean, boolean | undefined, boolean>;
  locale: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  disabled_at: Date | null;
  manager_id: ColumnType<string | null, string | null | undefined, string | null>;
  failed_logins: ColumnType<number, number | undefined, number>;
  failed_login_window_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AuthTokensTable {
  workspace_id: string;
  id: string;
  user_id: string;
  kind: 'session' | 'api';
  name: ColumnType<string, string | undefined, string>;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Date | string | null;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
  /** app role keys the token is narrowed to; null = all of its user's roles */
  roles: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface AppsTable {
  workspace_id: string;
  id: string;
  key: string;
  name: ColumnType<unknown, string | undefined, string>;
  draft: ColumnType<unknown, string, string>;
  draft_updated_at: Timestamp;
  draft_updated_by: string | null;
  current_version: number | null;
  latest_version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
}

export interface AppVersionsTable {
  workspace_id: string;
  app_id: string;
  version: number;
  document: ColumnType<unknown, string, string>;
  change_plan: ColumnType<unknown, string, string>;
  note: ColumnType<string, string | undefined, string>;
  published_at: Timestamp;
  published_by: string | null;
}

export interface RecordsTable {
  workspace_id: string;
  object_id: string;
  id: string;
  version: ColumnType<number, number | undefined, number>;
  data: ColumnType<Record<string, unknown>, string, string>;
  search_text: ColumnType<string, string | undefined, string>;
  owner_id: string | null;
  created_at: Timestamp;
  created_by: string | null;
  updated_at: Timestamp;
  updated_by: string | null;
  deleted_at: Date | string | null;
}

export interface RecordHistoryTable {
  workspace_id: string;
  id: string;
  record_id: string;
  object_id: string;
  version: number;
  action: 'create' | 'update' | 'delete' | 'restore';
  changes: ColumnType<unknown, string, string>;
  actor_id: string | null;
  source: ColumnType<string, string | undefined, string>;
  at: Timestamp;
  ip: ColumnType<string | null, string | null | undefined, string | null>;
  user_agent: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AuditLogTable {
  workspace_id: string;
  id: string;
  at: Timestamp;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  source: ColumnType<string, string | undefined, string>;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<unknown, string | undefined, string>;
}

export interface FieldIndexesTable {
  workspace_id: string;
  name: string;
  object_id: string;
  field_id: string;
  kind: 'index' | 'unique';
  created_at: Timestamp;
  built_at: Date | string | null;
}

export interface TeamsTable {
  workspace_id: string;
  id: string;
  name: string;
  manager_id: string | null;
  parent_id: string | null;
  created_at: Timestamp;
}

export interface TeamMembersTable {
  workspace_id: string;
  team_id: string;
  user_id: string;
}

export interface UserRolesTable {
  workspace_id: string;
  app_id: string;
  user_id: string;
  role_key: string;
}

/** A record shared with one user or one team (migrations/0006_access.sql). */
export interface RecordSharesTable {
  workspace_id: string;
  id: string;
  record_id: string;
  user_id: string | null;
  team_id: string | null;
  level: 'read' | 'edit';
  granted_by: string | null;
  granted_at: Timestamp;
}

export interface SystemDatabase {
  workspaces: WorkspacesTable;
  users: UsersTable;
  auth_tokens: AuthTokensTable;
  apps: AppsTable;
  app_versions: AppVersionsTable;
  records: RecordsTable;
  record_history: RecordHistoryTable;
  audit_log: AuditLogTable;
  field_indexes: FieldIndexesTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  user_roles: UserRolesTable;
  record_shares: RecordSharesTable;
}
export type { Generated };
