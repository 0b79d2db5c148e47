import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { STAGES, type DealIds } from '../lib/deal-app';

/** Owners drawn from a small set, as in a sales team. */
const OWNER_COUNT = 20;
const BATCH = 100_000;

/**
 * Inserts `count` deals straight into `records`, the way the repository stores them
 * (values by field id, currency as a decimal string, dates as 'YYYY-MM-DD', search_text
 * as the lower-cased title), with time-ordered uuidv7 ids spread over ~3 years.
 * setseed makes the data the same on every run. Roughly 5% of deals have no amount.
 */
export async function seedRecords(
  pool: pg.Pool,
  workspaceId: string,
  ids: DealIds,
  count: number,
  onProgress: (done: number) => void = () => undefined,
): Promise<void> {
  const owners = Array.from({ length: OWNER_COUNT }, () => randomUUID());
  const client = await pool.connect();
  try {
    await client.query('SELECT setseed(0.4242)');
    for (let from = 1; from <= count; from += BATCH) {
      const to = Math.min(count, from + BATCH - 1);
      await client.query(INSERT_RECORDS, [
        workspaceId, ids.objectId, from, to, count,
        ids.title, ids.stage, ids.amount, ids.close_date, ids.probability, ids.owner,
        STAGES, owners,
      ]);
      onProgress(to);
    }
  } finally {
    client.release();
  }
}

const INSERT_RECORDS = `
INSERT INTO records (workspace_id, object_id, id, version, data, search_text, owner_id, created_at, created_by, updated_at, updated_by)
SELECT $1::uuid, $2::text,
       -- uuidv7: 48-bit millisecond timestamp, then random bits, version nibble 7
       encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
         placing substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
       1,
       jsonb_strip_nulls(jsonb_build_object(
         $6::text, title, $7::text, stage, $8::text, amount, $9::text, close_date, $10::text, probability, $11::text, owner)),
       lower(title), owner::uuid, ts, owner::uuid, ts, owner::uuid
FROM (
  SELECT g,
         now() - ($5::int - g) * interval '90 seconds' AS ts,
         -- deterministic, so a benchmark can ask for one known title (see titleOf)
         (ARRAY['华东','华北','华南','Acme','Globex','Initech','Umbrella','Hooli','Stark','Wayne'])[1 + g % 10]
           || ' ' || (ARRAY['采购','renewal','expansion','pilot','框架协议','upgrade'])[1 + g % 6]
           || ' #' || g AS title,
         ($12::text[])[1 + floor(random() * 6)::int] AS stage,
         CASE WHEN random() < 0.05 THEN NULL ELSE round((random() ^ 2 * 200000)::numeric, 2)::text END AS amount,
         to_char(date '2023-01-01' + floor(random() * 1096)::int, 'YYYY-MM-DD') AS close_date,
         floor(random() * 101)::int AS probability,
         ($13::text[])[1 + floor(random() * ${OWNER_COUNT})::int] AS owner
  FROM generate_series($3::int, $4::int) AS g
) AS src`;

const COMPANIES = ['华东', '华北', '华南', 'Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne'];
const KINDS = ['采购', 'renewal', 'expansion', 'pilot', '框架协议', 'upgrade'];

/** The title the seed gives deal number `g` (1-based). */
export function titleOf(g: number): string {
  return `${COMPANIES[g % 10]} ${KINDS[g % 6]} #${g}`;
}

/**
 * The physical baseline: the same deals in a table with one typed column per field and
 * the btree indexes our field indexes are equivalent to (one per indexed field, with the
 * id as tie-breaker for a total order). Copied from `records`, so both hold the same data.
 */
export async function createTypedBaseline(pool: pg.Pool, ids: DealIds): Promise<void> {
  await pool.query(`
    CREATE TABLE deal_typed (
      id          uuid PRIMARY KEY,
      version     integer NOT NULL,
      title       text COLLATE "C" NOT NULL,
      stage       text COLLATE "C",
      amount      numeric(17, 2),
      close_date  date,
      probability numeric,
      owner_id    uuid,
      created_at  timestamptz NOT NULL,
      created_by  uuid,
      updated_at  timestamptz NOT NULL,
      updated_by  uuid
    )`);
  await pool.query(
    `INSERT INTO deal_typed
     SELECT id, version, data->>$2::text, data->>$3::text, (data->>$4::text)::numeric, (data->>$5::text)::date,
            (data->>$6::text)::numeric, (data->>$7::text)::uuid, created_at, created_by, updated_at, updated_by
     FROM records WHERE object_id = $1`,
    [ids.objectId, ids.title, ids.stage, ids.amount, ids.close_date, ids.probability, ids.owner],
  );
  for (const column of ['title', 'stage', 'amount', 'close_date']) {
    await pool.query(`CREATE INDEX deal_typed_${column}_idx ON deal_typed (${column}, id)`);
  }
}
