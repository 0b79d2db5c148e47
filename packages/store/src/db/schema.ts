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

/** Workflow engine tables (migrations/0005_workflow.sql). */
type Json<T = unknown> = ColumnType<T, string | undefined, string>;

export interface FlowInstancesTable {
  workspace_id: string;
  id: string;
  app_id: string;
  app_key: string;
  app_version: number;
  flow_key: string;
  object_id: string | null;
  record_id: string | null;
  status: ColumnType<'running' | 'completed' | 'cancelled' | 'failed', 'running' | 'completed' | 'cancelled' | 'failed' | undefined>;
  result: string | null;
  variables: Json<Record<string, unknown>>;
  visits: Json<Record<string, number>>;
  start_key: string | null;
  started_by: string | null;
  started_at: Timestamp;
  updated_at: Timestamp;
  ended_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface FlowTokensTable {
  workspace_id: string;
  id: string;
  instance_id: string;
  node_id: string;
  status: 'ready' | 'waiting' | 'joining' | 'done' | 'cancelled';
  arrived_by: string | null;
  visit: ColumnType<number, number | undefined, number>;
  state: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FlowTasksTable {
  workspace_id: string;
  id: string;
  instance_id: string;
  token_id: string;
  node_id: string;
  visit: number;
  assignee_id: string;
  status: ColumnType<'open' | 'done' | 'cancelled', 'open' | 'done' | 'cancelled' | undefined>;
  due_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  decision: string | null;
  comment: string | null;
  created_at: Timestamp;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface FlowEventsTable {
  workspace_id: string;
  id: string;
  instance_id: string;
  token_id: string | null;
  node_id: string | null;
  action: string;
  actor_id: string | null;
  comment: string | null;
  data: ColumnType<unknown, string | null | undefined, string | null>;
  at: Timestamp;
}

export interface JobsTable {
  workspace_id: string;
  id: string;
  kind: string;
  payload: Json;
  instance_id: string | null;
  token_id: string | null;
  key: string | null;
  status: ColumnType<'pending' | 'failed', 'pending' | 'failed' | undefined>;
  run_at: ColumnType<Date, Date | string, Date | string>;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: ColumnType<number, number | undefined, number>;
  locked_by: string | null;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: string | null;
  created_at: Timestamp;
}

export interface OutboxTable {
  workspace_id: string;
  id: string;
  idempotency_key: string;
  instance_id: string | null;
  token_id: string | null;
  node_id: string | null;
  effect: Json;
  result_variable: string | null;
  status: ColumnType<'pending' | 'delivered' | 'failed', 'pending' | 'delivered' | 'failed' | undefined>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  delivered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  last_error: string | null;
  created_at: Timestamp;
}

export interface IncidentsTable {
  workspace_id: string;
  id: string;
  job_id: string | null;
  job_kind: string;
  instance_id: string | null;
  node_id: string | null;
  error: string;
  attempts: ColumnType<number, number | undefined, number>;
  status: ColumnType<'open' | 'resolved', 'open' | 'resolved' | undefined>;
  created_at: Timestamp;
  resolved_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  resolved_by: string | null;
}

/** migrations/0002_rules.sql: a to-do in a user's inbox, usually about a record */
export interface TasksTable {
  workspace_id: string;
  id: string;
  user_id: string;
  title: string;
  due_date: string | null;
  record_id: string | null;
  object_id: string | null;
  status: ColumnType<'open' | 'done', 'open' | 'done' | undefined, 'open' | 'done'>;
  source: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  completed_at: Date | null;
}

/** migrations/0002_rules.sql: an in-app message to one user */
export interface NotificationsTable {
  workspace_id: string;
  id: string;
  user_id: string;
  message: string;
  record_id: ColumnType<string | null, string | null | undefined, string | null>;
  object_id: ColumnType<string | null, string | null | undefined, string | null>;
  source: ColumnType<string, string | undefined, string>;
  read_at: Date | null;
  created_at: Timestamp;
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
  tasks: TasksTable;
  notifications: NotificationsTable;
  record_shares: RecordSharesTable;
  flow_instances: FlowInstancesTable;
  flow_tokens: FlowTokensTable;
  flow_tasks: FlowTasksTable;
  flow_events: FlowEventsTable;
  jobs: JobsTable;
  outbox: OutboxTable;
  incidents: IncidentsTable;
}
export type { Generated };
