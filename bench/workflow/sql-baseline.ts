import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface SqlBaselineResult {
  instances: number;
  seconds: number;
  perSecond: number;
}

const EVENTS = ['start', 'gate', 'update', 'fork', 'left', 'right', 'join', 'end'];

/**
 * The physical limit of running the bench flow durably: hand-written SQL doing the flow's
 * writes for one instance in ONE transaction (instance row, the record's update with its
 * history row, one timeline row per node, the instance completed), `concurrency` at once.
 * What the engine does in one transaction per node, this does in one per instance.
 */
export async function runSqlBaseline(pool: pg.Pool, workspaceId: string, recordIds: string[], stageFieldId: string, concurrency: number): Promise<SqlBaselineResult> {
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_flow_instances (id uuid PRIMARY KEY, record_id uuid NOT NULL, status text NOT NULL, variables jsonb NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_flow_events (instance_id uuid NOT NULL, seq int NOT NULL, node_id text NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (instance_id, seq))`);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = await pool.connect();
      try {
        while (next < recordIds.length) {
          const recordId = recordIds[next++]!;
          const id = randomUUID();
          await client.query('BEGIN');
          await client.query(`INSERT INTO bench_flow_instances (id, record_id, status, variables, started_at) VALUES ($1, $2, 'running', '{}', now())`, [id, recordId]);
          const row = await client.query<{ version: number; amount: string }>(`SELECT version, data->>'amount' AS amount FROM records WHERE workspace_id = $2 AND id = $1 FOR UPDATE`, [recordId, workspaceId]);
          if (row.rows[0]) {
            await client.query(`UPDATE records SET data = jsonb_set(data, ARRAY[$2::text], '"qualified"'), version = version + 1, updated_at = now() WHERE workspace_id = $3 AND id = $1`, [recordId, stageFieldId, workspaceId]);
            await client.query(
              `INSERT INTO record_history (workspace_id, id, record_id, object_id, version, action, changes, source)
               SELECT workspace_id, gen_random_uuid(), id, object_id, version, 'update', '{}'::jsonb, 'api' FROM records WHERE workspace_id = $2 AND id = $1`,
              [recordId, workspaceId],
            );
          }
          await client.query(`INSERT INTO bench_flow_events (instance_id, seq, node_id, at) SELECT $1, s, n, now() FROM unnest($2::text[]) WITH ORDINALITY AS e(n, s)`, [id, EVENTS]);
          await client.query(`UPDATE bench_flow_instances SET status = 'completed', variables = '{"left":1,"right":2}', ended_at = now() WHERE id = $1`, [id]);
          await client.query('COMMIT');
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { instances: recordIds.length, seconds, perSecond: recordIds.length / seconds };
}
