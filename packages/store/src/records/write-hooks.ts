import type { Transaction } from 'kysely';
import { ProblemError, type Locale, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import type { Actor } from '../common/actor';
import type { ApiRecord } from './record-repository';

/**
 * The seam between the record store and the rule engine. The store knows nothing of
 * rules: it calls these hooks inside the write's transaction on every write path
 * (create, update, delete, restore, and the nested writes the hooks make themselves),
 * and the engine decides what they mean.
 */
export interface RecordWriteHooks {
  /**
   * Create only, before input validation: adds the values a record gets when the input
   * leaves them out (defaults), in API form (by field key), so they are validated and
   * normalised like everything else. Returns the input to validate.
   */
  prepareCreate?(object: ObjectDef, input: Record<string, unknown>, actor: Actor): Record<string, unknown>;
  /**
   * Before the row is written. May change `change.after` (formulas, autonumbers); may
   * throw a ProblemError to refuse the write (validation, form behaviour, duplicates).
   */
  beforeWrite(ctx: WriteContext, change: RecordChange): Promise<WriteWarning[]>;
  /** After the row and its history are written: rollups, dependent formulas, automations. */
  afterWrite(ctx: WriteContext, change: RecordChange): Promise<WriteWarning[]>;
  /** A cheap test the store uses to skip both calls for objects no rule concerns. */
  concerns?(object: ObjectDef): boolean;
  /**
   * True when a create of `object` only computes from the input (formulas, defaults,
   * validation, form behaviour): no database read in `beforeWrite` and nothing to do in
   * `afterWrite`. The store then writes it as one statement without an explicit
   * transaction, and the context's `trx` and `records` must not be used.
   */
  isPureCreate?(object: ObjectDef): boolean;
}

export type WriteAction = 'create' | 'update' | 'delete' | 'restore';

/** One record write as the hooks see it. Values are stored forms, keyed by field id. */
export interface RecordChange {
  action: WriteAction;
  id: string;
  /** the stored values before the write (null on create) */
  before: Record<string, unknown> | null;
  /** the values to store (on delete: the values as they were); beforeWrite may replace entries */
  after: Record<string, unknown>;
  /** what the writer asked to change, by field id (the whole record on create) */
  input: Record<string, unknown>;
  /** system fields of the stored row (after the write in afterWrite; before it in beforeWrite) */
  system: RecordSystemFields;
}

export interface RecordSystemFields {
  id: string;
  version: number;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
  owner_id: string | null;
}

export interface WriteWarning {
  /** the rule that warned (validation rule key, duplicate rule key, automation key) */
  rule: string;
  code: string;
  message: string;
  /** field keys the warning is about */
  fields: string[];
  /** duplicate candidates, when the warning is about duplicates */
  records?: string[];
}

export interface WriteContext {
  trx: Transaction<SystemDatabase>;
  actor: Actor;
  app: PublishedApp;
  object: ObjectDef;
  /** 0 for the caller's own write; each nested write made by a hook adds one */
  depth: number;
  /** language of messages meant for the person writing */
  locale: Locale;
  now: Date;
  /** writes bound to this transaction, running the same pipeline one level deeper */
  records: NestedRecordWriter;
  /**
   * starts a flow of the app about a record, in this transaction (so it starts if and only
   * if the write commits); absent where no workflow engine is wired
   */
  startFlow?: (flowKey: string, recordId: string) => Promise<void>;
}

/** What the workflow engine gives the store so automations can start flows (see WriteContext.startFlow). */
export type FlowStarter = (ctx: WriteContext, flowKey: string, recordId: string) => Promise<void>;

export interface NestedRecordWriter {
  /** create from API-form input (by field key), validated like any input */
  create(objectKey: string, input: Record<string, unknown>, source: Actor['source']): Promise<ApiRecord>;
  /** update from API-form input (by field key); no version check, the row is locked instead */
  update(objectKey: string, id: string, input: Record<string, unknown>, source: Actor['source']): Promise<ApiRecord>;
  /**
   * Stores computed values (by field id, e.g. a rollup) or, with `{}`, re-runs the pipeline
   * on a record whose inputs changed elsewhere. Writes nothing when no value changes.
   */
  recompute(objectKey: string, id: string, values: Record<string, unknown>): Promise<void>;
}

/** How deep writes may nest (automation -> write -> automation ...) before the chain is refused. */
export const MAX_WRITE_DEPTH = 8;

export function writeTooDeep(object: ObjectDef, depth: number): ProblemError {
  return new ProblemError(
    'unprocessable',
    `The write was refused: rules kept triggering further writes (${depth} levels deep at ${object.key}); an automation probably triggers itself`,
    [{ field: '', code: 'automation_loop', message: `more than ${MAX_WRITE_DEPTH} nested writes; nothing was saved` }],
    { code: 'automation_loop' },
  );
}

/**
 * Several hook sets as one (the rule engine's, then the workflow's record triggers), in
 * order: each is asked whether it concerns the object before it runs, a create is pure only
 * when every concerned set says so, and the warnings of all are returned together.
 */
export function composeWriteHooks(...sets: Array<RecordWriteHooks | null | undefined>): RecordWriteHooks | undefined {
  const hooks = sets.filter((h): h is RecordWriteHooks => h != null);
  if (hooks.length <= 1) return hooks[0];
  const concerned = (object: ObjectDef) => hooks.filter((h) => !h.concerns || h.concerns(object));
  return {
    concerns: (object) => concerned(object).length > 0,
    isPureCreate: (object) => concerned(object).every((h) => h.isPureCreate?.(object) ?? false),
    prepareCreate: (object, input, actor) => concerned(object).reduce((values, h) => (h.prepareCreate ? h.prepareCreate(object, values, actor) : values), input),
    beforeWrite: async (ctx, change) => {
      const warnings: WriteWarning[] = [];
      for (const h of concerned(ctx.object)) warnings.push(...(await h.beforeWrite(ctx, change)));
      return warnings;
    },
    afterWrite: async (ctx, change) => {
      const warnings: WriteWarning[] = [];
      for (const h of concerned(ctx.object)) warnings.push(...(await h.afterWrite(ctx, change)));
      return warnings;
    },
  };
}
