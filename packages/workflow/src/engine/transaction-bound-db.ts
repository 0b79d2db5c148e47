import {
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type Transaction,
} from 'kysely';
import type { SystemDatabase } from '@tessera/store';

/**
 * A Kysely handle whose every statement runs inside an open transaction `trx`, and whose
 * own `transaction()` becomes a savepoint in it. RecordRepository takes a database, not a
 * transaction, and opens its own transaction per write; handing it this makes a flow
 * step's record writes (with their history rows and rule hooks) commit or roll back with
 * the step itself: the token advance, the timeline and the next jobs.
 */
export function transactionBoundDb(trx: Transaction<SystemDatabase>): Kysely<SystemDatabase> {
  const driver = new SavepointDriver(trx);
  return new Kysely<SystemDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

class SavepointDriver implements Driver {
  private depth = 0;
  private readonly connection: DatabaseConnection;

  constructor(private readonly trx: Transaction<SystemDatabase>) {
    this.connection = {
      executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => trx.executeQuery<R>(query),
      // eslint-disable-next-line require-yield
      streamQuery: async function* () {
        throw new Error('streaming is not supported inside a flow step');
      },
    };
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async beginTransaction(): Promise<void> {
    this.depth++;
    await sql.raw(`SAVEPOINT flow_step_${this.depth}`).execute(this.trx);
  }
  async commitTransaction(): Promise<void> {
    await sql.raw(`RELEASE SAVEPOINT flow_step_${this.depth}`).execute(this.trx);
    this.depth--;
  }
  async rollbackTransaction(): Promise<void> {
    await sql.raw(`ROLLBACK TO SAVEPOINT flow_step_${this.depth}`).execute(this.trx);
    this.depth--;
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}
