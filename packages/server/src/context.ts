import type { AuditLog, Database, MetadataRepository, TokenRepository, UserRepository } from '@tessera/store';

/** What every route plugin is given: one database and the repositories shared by all requests. */
export interface ServerContext {
  database: Database;
  metadata: MetadataRepository;
  users: UserRepository;
  tokens: TokenRepository;
  /** the append-only audit log: access changes (roles, teams, shares) append to it in their transaction */
  audit: AuditLog;
}
