import type { Database, MetadataRepository, TokenRepository, UserRepository } from '@tessera/store';

/** What every route plugin is given: one database and the repositories shared by all requests. */
export interface ServerContext {
  database: Database;
  metadata: MetadataRepository;
  users: UserRepository;
  tokens: TokenRepository;
}
