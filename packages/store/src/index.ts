export { openDatabase, type Database, type DatabaseConfig, type DatabaseKind } from './db/connection';
export { openTestDatabase } from './db/testing';
export { migrate, loadMigrations, MIGRATIONS_DIR, type Migration } from './migrations/runner';
export type * from './db/schema';
export * from './auth/index';
