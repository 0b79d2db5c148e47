import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { STAGES } from '../lib/deal-app';

export const TYPED_TABLE_DDL = [
  `CREATE TABLE deal_typed (
     id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     version     integer NOT NULL DEFAULT 1,
     title       text COLLATE "C" NOT NULL,
     stage       text COLLATE "C",
     amount      numeric(17, 2),
     close_date  date,
     probability numeric,
     owner_id    uuid,
     created_at  timestamptz NOT NULL DEFAULT now(),
     created_by  uuid,
     updated_at  timestamptz NOT NULL DEFAULT now(),
     updated_by  uuid
   )`,
  // the same indexed fields as the deal object, so both sides maintain as many btrees
  'CREATE INDEX deal_typed_title_idx ON deal_typed (title, id)',
  'CREATE INDEX deal_typed_stage_idx ON deal_typed (stage, id)',
  'CREATE INDEX deal_typed_amount_idx ON deal_typed (amount, id)',
  'CREATE INDEX deal_typed_close_date_idx ON deal_typed (close_date, id)',
];

const bodySchema = {
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 1000 },
    stage: { type: 'string', enum: [...STAGES] },
    amount: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', maxLength: 40 },
    close_date: { type: 'string', format: 'date' },
    probability: { type: 'number', minimum: 0, maximum: 100 },
  },
} as const;

interface Body {
  title: string;
  stage?: string;
  amount?: string | number;
  close_date?: string;
  probability?: number;
}

/**
 * The physical limit for "create a record over HTTP with validation": fastify with a
 * JSON body schema and one INSERT into a typed table, nothing else (no auth, no history).
 * Same pool size as the platform's default.
 */
export function buildBaselineServer(url: string): { app: FastifyInstance; close: () => Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const app = Fastify({ logger: false });
  app.post<{ Body: Body }>('/deals', { schema: { body: bodySchema } }, async (request, reply) => {
    const b = request.body;
    const result = await pool.query(
      `INSERT INTO deal_typed (title, stage, amount, close_date, probability)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [b.title, b.stage ?? null, b.amount ?? null, b.close_date ?? null, b.probability ?? null],
    );
    return reply.code(201).send(result.rows[0]);
  });
  return { app, close: async () => { await app.close(); await pool.end(); } };
}
