import type { AuditLog, Database, MetadataRepository, TokenRepository, UserRepository } from '@tessera/store';
import type { WorkflowEngine } from '@tessera/workflow';

/** What every route plugin is given: one database and the repositories shared by all requests. */
export interface ServerContext {
  database: Database;
  metadata: MetadataRepository;
  users: UserRepository;
  tokens: TokenRepository;
  /** the append-only audit log: access changes (roles, teams, shares) append to it in their transaction */
  audit: AuditLog;
  /** the server's one flow engine (instances, tasks, record triggers); its workers run where the CLI says */
  workflow: WorkflowEngine;
}
