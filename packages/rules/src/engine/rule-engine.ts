import { sql } from 'kysely';
import { DEFAULT_TIMEZONE, fieldSqlExpression, type EvalEnv } from '@tessera/expr';
import { ProblemError, type ObjectDef, type PublishedApp } from '@tessera/metadata';
import type { Actor, RecordChange, RecordWriteHooks, WriteContext, WriteWarning } from '@tessera/store';
import { applyDefaults } from '../defaults/defaults';
import { nextAutonumber } from '../autonumber/autonumber';
import { computeFormulas } from '../formulas/formulas';
import { checkValidations } from '../validation/validation';
import { checkFormBehaviour } from '../layouts/form-behaviour';
import { runAutomations } from '../automations/automations';
import { ownRollups, refreshRollups } from '../rollups/rollups';
import { loadRelated, recordView, type RelatedValues } from '../expressions/record-view';
import { findDuplicates } from '../duplicates/index';
import { message } from '../messages';
import { buildPlans, type Dependent, type ObjectPlan } from './plan';

export interface RuleEngineOptions {
  /** IANA zone for today, autonumber date parts and relative dates; default Asia/Shanghai */
  timezone?: string;
}

/** How many child records one parent write may recompute through relations before it is refused. */
export const MAX_DEPENDENT_RECORDS = 5000;

/** Writes a person makes through a form (or its API equivalent) obey the layout's behaviour. */
const FORM_SOURCES: ReadonlySet<Actor['source']> = new Set(['api', 'ui', 'import']);

/**
 * The rule engine of one published app version: defaults, autonumbers, formulas,
 * rollups, validation rules, form behaviour, duplicate rules and automations, applied
 * as the record store's write hooks. Every expression is compiled when the engine is
 * built; objects no rule concerns cost the store one map lookup per write.
 */
export class RuleEngine implements RecordWriteHooks {
  private readonly plans: Map<string, ObjectPlan>;
  private readonly timezone: string;

  constructor(
    readonly app: PublishedApp,
    options: RuleEngineOptions = {},
  ) {
    this.plans = buildPlans(app.document);
    this.timezone = options.timezone ?? DEFAULT_TIMEZONE;
  }

  concerns(object: ObjectDef): boolean {
    return this.plans.has(object.id ?? '');
  }

  isPureCreate(object: ObjectDef): boolean {
    const plan = this.plans.get(object.id ?? '');
    if (!plan) return true;
    // A new record has no children yet, so `dependents` cannot fire on create.
    return (
      plan.autonumbers.length === 0 &&
      plan.relations.length === 0 &&
      !plan.checksDuplicates &&
      plan.automations.length === 0 &&
      plan.rollupsAsChild.length === 0
    );
  }

  prepareCreate(object: ObjectDef, input: Record<string, unknown>, actor: Actor): Record<string, unknown> {
    const plan = this.plans.get(object.id ?? '');
    return plan && plan.defaults.length > 0 ? applyDefaults(plan.defaults, input, actor, this.timezone) : input;
  }

  async beforeWrite(ctx: WriteContext, change: RecordChange): Promise<WriteWarning[]> {
    const plan = this.plans.get(ctx.object.id ?? '');
    if (!plan || change.action === 'delete' || change.action === 'restore') return [];
    const data = change.after;
    if (change.action === 'create') await this.initialise(ctx, plan, data);
    if (!plan.needsView) return [];
    const env = this.env(ctx);
    const related = await this.related(ctx, plan, data);
    const view = recordView(plan.fields, data, change.system, related);
    computeFormulas(plan.formulas, data, view, env);
    if (plan.form.length > 0 && FORM_SOURCES.has(ctx.actor.source)) {
      const before = change.before ? { data: change.before, view: recordView(plan.fields, change.before, change.system, await this.related(ctx, plan, change.before)) } : null;
      checkFormBehaviour(plan.form, { data, view }, before, env, ctx.locale);
    }
    const warnings = checkValidations(plan.validations, change.action, view, env, ctx.locale);
    if (plan.checksDuplicates && ctx.actor.source !== 'system') warnings.push(...(await this.duplicates(ctx, change)));
    return warnings;
  }

  async afterWrite(ctx: WriteContext, change: RecordChange): Promise<WriteWarning[]> {
    const plan = this.plans.get(ctx.object.id ?? '');
    if (!plan) return [];
    const env = this.env(ctx);
    if (plan.rollupsAsChild.length > 0) await refreshRollups(ctx, plan.rollupsAsChild, change, env);
    if (change.action === 'restore' && plan.ownRollups.length > 0) {
      await ctx.records.recompute(ctx.object.key, change.id, await ownRollups(ctx, plan.ownRollups, change.id, env));
    }
    for (const dependent of plan.dependents) await recomputeDependents(ctx, dependent, change);
    if (plan.automations.length === 0) return [];
    const view = recordView(plan.fields, change.after, change.system, await this.related(ctx, plan, change.after));
    return runAutomations(ctx, plan.automations, change, view, env);
  }

  /** Values a new record starts with that no input can give: autonumbers, empty counts and sums. */
  private async initialise(ctx: WriteContext, plan: ObjectPlan, data: Record<string, unknown>): Promise<void> {
    for (const { field, pattern } of plan.autonumbers) {
      data[field.id!] = await nextAutonumber(ctx.trx, ctx.actor.workspaceId, ctx.object.id!, field, pattern, ctx.now, this.timezone);
    }
    for (const link of plan.ownRollups) {
      if (link.aggregate === 'count' || link.aggregate === 'sum') data[link.field.id!] = 0;
    }
  }

  private async related(ctx: WriteContext, plan: ObjectPlan, data: Record<string, unknown>): Promise<RelatedValues | null> {
    if (plan.relations.length === 0) return null;
    return loadRelated(ctx.trx, ctx.actor.workspaceId, ctx.app, plan.relations, data);
  }

  private async duplicates(ctx: WriteContext, change: RecordChange): Promise<WriteWarning[]> {
    const object = rulesAffectedBy(ctx.object, change);
    if (!object) return [];
    const matches = await findDuplicates(ctx.trx, ctx.actor.workspaceId, object, change.after, change.action === 'create' ? null : change.id);
    const fieldsOf = (rule: string) => ctx.object.duplicateRules?.find((r) => r.key === rule)?.match.map((m) => m.field) ?? [];
    const blocking = matches.filter((m) => m.action === 'block');
    if (blocking.length > 0) {
      const first = blocking[0]!;
      throw new ProblemError(
        'conflict',
        message('duplicate', ctx.locale, first.rule),
        blocking.flatMap((m) => fieldsOf(m.rule).map((field) => ({ field, code: 'duplicate', message: `${m.rule}: ${m.recordIds.join(', ')}` }))),
        { duplicates: blocking.map((m) => ({ rule: m.rule, recordIds: m.recordIds })) },
      );
    }
    return matches.map((m) => ({
      rule: m.rule,
      code: 'duplicate',
      message: message('duplicate', ctx.locale, m.rule),
      fields: fieldsOf(m.rule),
      records: m.recordIds,
    }));
  }

  private env(ctx: WriteContext): EvalEnv {
    return { now: ctx.now, timezone: this.timezone, ...(ctx.actor.userId ? { userId: ctx.actor.userId } : {}) };
  }
}

/**
 * A parent's change reaches the stored formulas of its children through the relation:
 * each child that points here is recomputed (a write only when a value changes).
 */
async function recomputeDependents(ctx: WriteContext, dependent: Dependent, change: RecordChange): Promise<void> {
  if (change.action === 'create') return;
  if (change.action === 'update') {
    const before = change.before ?? {};
    if (!dependent.readIds.some((id) => JSON.stringify(before[id]) !== JSON.stringify(change.after[id]))) return;
  }
  // the relation's own expression text, so its index (when it is indexed) serves the lookup
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM records
    WHERE workspace_id = ${ctx.actor.workspaceId} AND object_id = ${dependent.child.id!} AND deleted_at IS NULL
      AND ${sql.raw(fieldSqlExpression(dependent.via))} = ${change.id}
    ORDER BY id LIMIT ${MAX_DEPENDENT_RECORDS + 1}`.execute(ctx.trx);
  if (rows.length > MAX_DEPENDENT_RECORDS) {
    throw new ProblemError('unprocessable', `More than ${MAX_DEPENDENT_RECORDS} ${dependent.child.key} records compute values from this record`, [
      { field: '', code: 'too_many_dependents', message: `formulas of more than ${MAX_DEPENDENT_RECORDS} ${dependent.child.key} records read this record` },
    ]);
  }
  for (const row of rows) await ctx.records.recompute(dependent.child.key, row.id, {});
}

const engines = new WeakMap<PublishedApp, RuleEngine>();

/** One engine per published version object (the metadata repository caches those by version). */
export function ruleEngineFor(app: PublishedApp): RuleEngine {
  let engine = engines.get(app);
  if (!engine) engines.set(app, (engine = new RuleEngine(app)));
  return engine;
}

/**
 * On update, only the duplicate rules over a field that changed: two records that already
 * match a blocking rule must stay editable in their other fields (merging them is the way
 * out), and unchanged rules can't have become matches. Null when no rule is affected.
 */
function rulesAffectedBy(object: ObjectDef, change: RecordChange): ObjectDef | null {
  if (change.action !== 'update' || !change.before) return object;
  const before = change.before;
  const changed = (key: string) => {
    const id = object.fields.find((f) => f.key === key && !f.deleted)?.id;
    return id !== undefined && JSON.stringify(before[id] ?? null) !== JSON.stringify(change.after[id] ?? null);
  };
  const rules = (object.duplicateRules ?? []).filter((r) => r.match.some((m) => changed(m.field)));
  return rules.length === 0 ? null : { ...object, duplicateRules: rules };
}
