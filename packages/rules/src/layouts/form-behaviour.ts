import { ProblemError, findField, type AppDocument, type FieldDef, type LayoutDef, type Locale, type ObjectDef } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import type { FieldError } from '@tessera/metadata';
import { compileRule, truthy, type CompiledRule } from '../expressions/compile';
import { message } from '../messages';

export interface CompiledItem {
  field: FieldDef;
  visibleWhen?: CompiledRule;
  requiredWhen?: CompiledRule;
  readOnlyWhen?: CompiledRule;
}

/** The layout the server enforces: the object's default one, else its first. */
export function enforcedLayout(app: AppDocument, object: ObjectDef): LayoutDef | undefined {
  const layouts = (app.layouts ?? []).filter((l) => l.object === object.key);
  return layouts.find((l) => l.default) ?? layouts[0];
}

export function compileFormBehaviour(object: ObjectDef, app: AppDocument): CompiledItem[] {
  const layout = enforcedLayout(app, object);
  const out: CompiledItem[] = [];
  for (const item of layout?.sections.flatMap((s) => s.items) ?? []) {
    const field = findField(object, item.field);
    if (!field?.id || (item.requiredWhen === undefined && item.readOnlyWhen === undefined)) continue;
    const compiled: CompiledItem = { field };
    if (item.visibleWhen !== undefined) compiled.visibleWhen = compileRule(item.visibleWhen, object, app);
    if (item.requiredWhen !== undefined) compiled.requiredWhen = compileRule(item.requiredWhen, object, app);
    if (item.readOnlyWhen !== undefined) compiled.readOnlyWhen = compileRule(item.readOnlyWhen, object, app);
    out.push(compiled);
  }
  return out;
}

/**
 * What a form would not let a person do, refused for API writes too: leaving a
 * required-when field empty (unless it is hidden), changing a read-only-when field
 * (judged on the record as stored before the write).
 */
export function checkFormBehaviour(
  items: readonly CompiledItem[],
  after: { data: Record<string, unknown>; view: Record<string, unknown> },
  before: { data: Record<string, unknown>; view: Record<string, unknown> } | null,
  env: EvalEnv,
  locale: Locale,
): void {
  const errors: FieldError[] = [];
  for (const item of items) {
    const id = item.field.id!;
    if (item.requiredWhen && isEmpty(after.data[id]) && truthy(item.requiredWhen.run(after.view, env))) {
      const hidden = item.visibleWhen !== undefined && !truthy(item.visibleWhen.run(after.view, env));
      if (!hidden) errors.push({ field: item.field.key, code: 'required', message: message('required', locale, item.field.key) });
    }
    if (item.readOnlyWhen && before && JSON.stringify(before.data[id]) !== JSON.stringify(after.data[id]) && truthy(item.readOnlyWhen.run(before.view, env))) {
      errors.push({ field: item.field.key, code: 'read_only', message: message('readOnly', locale, item.field.key) });
    }
  }
  if (errors.length > 0) throw new ProblemError('unprocessable', errors[0]!.message, errors);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}
