import { isComputed, type AppDocument, type AutomationAction, type FieldDef, type FieldError, type ObjectDef } from '@tessera/metadata';
import type { ExprContext, ExprScope, ExprType } from '../types';
import { joinPath } from '../syntax/parse';
import { checkWith, type CheckOptions } from './checker';
import { kindOfField } from './scope';
import { findFormulaCycles } from './cycles';

/**
 * Type-checks every expression of an app document against the document itself, so that a
 * field deleted or retyped under a formula, a validation, a layout condition or an
 * automation fails publish with the path of each broken expression, e.g.
 * `objects/1/fields/3/formula/and/0`. Formulas, defaults, validations, layout conditions
 * and automations run in JS ('formula' context); rollup filters run in SQL ('filter').
 */
export function checkAppExpressions(doc: AppDocument): FieldError[] {
  return new AppChecker(doc).run();
}

const ORDERED_KINDS: ExprType[] = ['number', 'date', 'datetime', 'text'];

class AppChecker {
  private readonly errors: FieldError[] = [];

  constructor(private readonly doc: AppDocument) {}

  run(): FieldError[] {
    const objects = Array.isArray(this.doc.objects) ? this.doc.objects : [];
    objects.forEach((object, i) => {
      if (!object || object.deleted || !Array.isArray(object.fields)) return;
      this.checkObject(object, `objects/${i}`);
    });
    (this.doc.layouts ?? []).forEach((layout, i) => this.checkLayout(layout, `layouts/${i}`));
    (this.doc.rules ?? []).forEach((rule, i) => this.checkRule(rule, `rules/${i}`));
    return this.errors;
  }

  private push(field: string, code: string, message: string): void {
    this.errors.push({ field, code, message });
  }

  private expr(at: string, expr: unknown, scope: ExprScope, options: CheckOptions): ExprType {
    const { errors, type } = checkWith(expr, scope, options);
    for (const e of errors) this.push(joinPath(at, e.path), e.code, e.message);
    return type;
  }

  private condition(at: string, expr: unknown, scope: ExprScope, context: ExprContext = 'formula'): void {
    if (expr !== undefined) this.expr(at, expr, scope, { expected: 'boolean', context });
  }

  private object(key: unknown): ObjectDef | undefined {
    return typeof key === 'string' ? this.doc.objects.find((o) => o.key === key && !o.deleted) : undefined;
  }

  private checkObject(object: ObjectDef, at: string): void {
    const scope: ExprScope = { object, app: this.doc };
    object.fields.forEach((field, j) => {
      if (!field || field.deleted) return;
      const fieldAt = `${at}/fields/${j}`;
      const kind = kindOfField(field, scope);
      if (field.type === 'formula') {
        if (field.formula === undefined) this.push(`${fieldAt}/formula`, 'required', `Formula field "${field.key}" has no formula`);
        else this.expr(`${fieldAt}/formula`, field.formula, scope, { expected: kind, context: 'formula', nullable: true });
      }
      if (field.defaultExpression !== undefined) {
        this.expr(`${fieldAt}/defaultExpression`, field.defaultExpression, scope, { expected: kind, context: 'formula', nullable: true });
      }
      if (field.type === 'rollup' && field.rollup) this.checkRollup(object, field, `${fieldAt}/rollup`);
    });
    for (const cycle of findFormulaCycles(object)) {
      const j = object.fields.indexOf(cycle.field);
      this.push(`${at}/fields/${j}/formula`, 'cycle', `Formula "${cycle.field.key}" depends on itself: ${cycle.keys.join(' -> ')}`);
    }
    (object.validations ?? []).forEach((rule, k) => this.condition(`${at}/validations/${k}/assert`, rule?.assert, scope));
  }

  private checkRollup(parent: ObjectDef, field: FieldDef, at: string): void {
    const rollup = field.rollup!;
    const child = this.object(rollup.object);
    if (!child) return this.push(`${at}/object`, 'unknown_object', `Rollup "${field.key}" aggregates an unknown object "${rollup.object}"`);
    const via = child.fields.find((f) => f.key === rollup.via && !f.deleted);
    if (!via || via.type !== 'relation' || via.target !== parent.key) {
      this.push(`${at}/via`, 'unknown_field', `"${rollup.via}" is not a relation field of ${child.key} pointing to ${parent.key}`);
    }
    if (rollup.aggregate !== 'count') {
      const aggregated = child.fields.find((f) => f.key === rollup.field && !f.deleted);
      const childScope = { object: child, app: this.doc };
      const kind = aggregated ? kindOfField(aggregated, childScope) : undefined;
      const allowed: ExprType[] = rollup.aggregate === 'sum' || rollup.aggregate === 'avg' ? ['number'] : ORDERED_KINDS;
      if (!aggregated) this.push(`${at}/field`, 'unknown_field', `Rollup "${field.key}" aggregates an unknown field "${rollup.field ?? ''}" of ${child.key}`);
      else if (!allowed.includes(kind!)) this.push(`${at}/field`, 'type_mismatch', `"${rollup.aggregate}" cannot aggregate ${kind} field "${aggregated.key}"`);
    }
    // rollups are kept exact with SQL aggregates, so their filters must compile to SQL
    this.condition(`${at}/filter`, rollup.filter, { object: child, app: this.doc }, 'filter');
  }

  private checkLayout(layout: NonNullable<AppDocument['layouts']>[number], at: string): void {
    const object = this.object(layout?.object);
    if (!object) return this.push(`${at}/object`, 'unknown_object', `Layout "${layout?.key}" is for an unknown object "${layout?.object}"`);
    const scope: ExprScope = { object, app: this.doc };
    (layout.sections ?? []).forEach((section, s) =>
      (section?.items ?? []).forEach((item, t) => {
        const itemAt = `${at}/sections/${s}/items/${t}`;
        if (!object.fields.some((f) => f.key === item.field && !f.deleted)) {
          this.push(`${itemAt}/field`, 'unknown_field', `Unknown field "${item.field}" on ${object.key}`);
        }
        this.condition(`${itemAt}/visibleWhen`, item.visibleWhen, scope);
        this.condition(`${itemAt}/requiredWhen`, item.requiredWhen, scope);
        this.condition(`${itemAt}/readOnlyWhen`, item.readOnlyWhen, scope);
      }),
    );
  }

  private checkRule(rule: NonNullable<AppDocument['rules']>[number], at: string): void {
    const object = this.object(rule?.object);
    if (!object) return this.push(`${at}/object`, 'unknown_object', `Automation "${rule?.key}" is for an unknown object "${rule?.object}"`);
    const scope: ExprScope = { object, app: this.doc };
    this.condition(`${at}/condition`, rule.condition, scope);
    (rule.actions ?? []).forEach((action, a) => this.checkAction(action, `${at}/actions/${a}`, object, scope));
  }

  private checkAction(action: AutomationAction, at: string, object: ObjectDef, scope: ExprScope): void {
    switch (action?.type) {
      case 'setFields':
        return this.checkValues(action.values, `${at}/values`, object, scope);
      case 'createRecord': {
        const target = this.object(action.object);
        if (!target) return this.push(`${at}/object`, 'unknown_object', `Unknown object "${action.object}"`);
        return this.checkValues(action.values, `${at}/values`, target, scope);
      }
      case 'createTask':
        this.expr(`${at}/assignee`, action.assignee, scope, { expected: 'text', context: 'formula' });
        this.expr(`${at}/title`, action.title, scope, { expected: 'text', context: 'formula' });
        if (action.dueDate !== undefined) this.dateLike(`${at}/dueDate`, action.dueDate, scope);
        return;
      case 'notify': {
        const type = this.expr(`${at}/recipients`, action.recipients, scope, { context: 'formula' });
        if (!['text', 'list', 'any'].includes(type)) this.push(`${at}/recipients`, 'type_mismatch', `Recipients must be a user id or a list of them, got ${type}`);
        this.expr(`${at}/message`, action.message, scope, { expected: 'text', context: 'formula' });
        return;
      }
      default:
        return;
    }
  }

  /** Each value is evaluated on the triggering record and must fit the field it is written to. */
  private checkValues(values: Record<string, unknown> | undefined, at: string, target: ObjectDef, scope: ExprScope): void {
    for (const [key, expr] of Object.entries(values ?? {})) {
      const field = target.fields.find((f) => f.key === key && !f.deleted);
      if (!field) {
        this.push(`${at}/${key}`, 'unknown_field', `Unknown field "${key}" on ${target.key}`);
        continue;
      }
      if (isComputed(field)) {
        this.push(`${at}/${key}`, 'computed_field', `"${key}" is computed (${field.type}) and cannot be set`);
        continue;
      }
      this.expr(`${at}/${key}`, expr, scope, { expected: kindOfField(field, { object: target, app: this.doc }), context: 'formula', nullable: true });
    }
  }

  private dateLike(at: string, expr: unknown, scope: ExprScope): void {
    const asDate = checkWith(expr, scope, { expected: 'date', context: 'formula', nullable: true });
    if (asDate.errors.length === 0) return;
    this.expr(at, expr, scope, { expected: asDate.type === 'datetime' ? 'datetime' : 'date', context: 'formula', nullable: true });
  }
}
