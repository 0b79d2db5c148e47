import { findField, findObject, liveFields, liveObjects, type AppDocument, type FieldDef, type ObjectDef } from '@tessera/metadata';
import { compileDefaults } from '../defaults/defaults';
import { parsePattern, type AutonumberPattern } from '../autonumber/autonumber';
import { compileFormulas, type CompiledFormula } from '../formulas/formulas';
import { compileValidations, type CompiledValidation } from '../validation/validation';
import { compileFormBehaviour, type CompiledItem } from '../layouts/form-behaviour';
import { compileAutomations, type CompiledAutomation } from '../automations/automations';
import { rollupLinks, type RollupLink } from '../rollups/rollups';
import type { CompiledRule } from '../expressions/compile';

/** Children whose stored formulas read this object's fields through `via`. */
export interface Dependent {
  child: ObjectDef;
  via: FieldDef;
  /** ids of this object's fields those formulas read */
  readIds: string[];
}

/** Everything the engine does for one object, compiled once per published version. */
export interface ObjectPlan {
  object: ObjectDef;
  fields: FieldDef[];
  defaults: ReturnType<typeof compileDefaults>;
  autonumbers: Array<{ field: FieldDef; pattern: AutonumberPattern }>;
  formulas: CompiledFormula[];
  validations: CompiledValidation[];
  form: CompiledItem[];
  automations: CompiledAutomation[];
  checksDuplicates: boolean;
  /** rollups on other objects that aggregate this one */
  rollupsAsChild: RollupLink[];
  /** this object's own rollup fields */
  ownRollups: RollupLink[];
  dependents: Dependent[];
  /** relation fields whose targets the expressions read */
  relations: FieldDef[];
  /** some expression needs the record in hand before the write */
  needsView: boolean;
}

export function buildPlans(app: AppDocument): Map<string, ObjectPlan> {
  const links = rollupLinks(app);
  const plans = new Map<string, ObjectPlan>();
  for (const object of liveObjects(app)) plans.set(object.id!, planFor(object, app, links));
  for (const plan of plans.values()) {
    for (const dependent of dependentsOf(plan, app)) {
      const parent = findObject(app, dependent.via.target ?? '');
      plans.get(parent?.id ?? '')?.dependents.push(dependent);
    }
  }
  for (const [id, plan] of plans) if (isEmpty(plan)) plans.delete(id);
  return plans;
}

function planFor(object: ObjectDef, app: AppDocument, links: Map<string, RollupLink[]>): ObjectPlan {
  const fields = liveFields(object).filter((f) => f.id);
  const formulas = compileFormulas(object, app);
  const validations = compileValidations(object, app);
  const form = compileFormBehaviour(object, app);
  const automations = compileAutomations(object, app);
  const checksDuplicates = (object.duplicateRules?.length ?? 0) > 0;
  const rules: CompiledRule[] = [
    ...formulas.map((f) => f.rule),
    ...validations.map((v) => v.assert),
    ...form.flatMap((i) => [i.visibleWhen, i.requiredWhen, i.readOnlyWhen].filter((r): r is CompiledRule => !!r)),
    ...automations.flatMap((a) => a.expressions),
  ];
  const relationKeys = new Set(rules.flatMap((r) => r.paths.map((p) => p[0]!)));
  return {
    object,
    fields,
    defaults: compileDefaults(object, app),
    autonumbers: fields.filter((f) => f.type === 'autonumber').map((field) => ({ field, pattern: parsePattern(field.pattern ?? '{0000}') })),
    formulas,
    validations,
    form,
    automations,
    checksDuplicates,
    rollupsAsChild: links.get(object.id!) ?? [],
    ownRollups: [...links.values()].flat().filter((l) => l.parent === object),
    dependents: [],
    relations: fields.filter((f) => f.type === 'relation' && relationKeys.has(f.key)),
    needsView: formulas.length > 0 || validations.length > 0 || form.length > 0 || checksDuplicates,
  };
}

/** For each relation a formula of `plan` reads through, the target's fields it reads. */
function dependentsOf(plan: ObjectPlan, app: AppDocument): Dependent[] {
  const byRelation = new Map<string, Set<string>>();
  for (const f of plan.formulas) {
    for (const [relation, key] of f.rule.paths) {
      if (!relation || !key) continue;
      byRelation.set(relation, (byRelation.get(relation) ?? new Set()).add(key));
    }
  }
  const out: Dependent[] = [];
  for (const [relation, keys] of byRelation) {
    const via = findField(plan.object, relation);
    const parent = via?.type === 'relation' ? findObject(app, via.target ?? '') : undefined;
    if (!via?.id || !parent) continue;
    const readIds = [...keys].map((k) => findField(parent, k)?.id).filter((id): id is string => !!id);
    out.push({ child: plan.object, via, readIds });
  }
  return out;
}

function isEmpty(p: ObjectPlan): boolean {
  return (
    p.defaults.length === 0 &&
    p.autonumbers.length === 0 &&
    p.formulas.length === 0 &&
    p.validations.length === 0 &&
    p.form.length === 0 &&
    p.automations.length === 0 &&
    !p.checksDuplicates &&
    p.rollupsAsChild.length === 0 &&
    p.ownRollups.length === 0 &&
    p.dependents.length === 0
  );
}
