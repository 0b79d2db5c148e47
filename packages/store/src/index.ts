export { openDatabase, type Database, type DatabaseConfig, type DatabaseKind } from './db/connection';
export { openTestDatabase } from './db/testing';
export { migrate, loadMigrations, MIGRATIONS_DIR, type Migration } from './migrations/runner';
export type * from './db/schema';
export * from './auth/index';
export type { Actor } from './common/actor';
export { MetadataRepository, type AppSummary, type VersionSummary } from './metadata/metadata-repository';
export { RecordRepository, MAX_PAGE_SIZE, type ApiRecord, type ListQuery, type ListResult } from './records/record-repository';
export { syncFieldIndexes } from './indexes/index-manager';
