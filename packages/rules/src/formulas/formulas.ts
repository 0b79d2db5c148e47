import { liveFields, type AppDocument, type FieldDef, type ObjectDef } from '@tessera/metadata';
import type { EvalEnv } from '@tessera/expr';
import { compileRule, varKeys, type CompiledRule } from '../expressions/compile';

export interface CompiledFormula {
  field: FieldDef;
  rule: CompiledRule;
}

/** An object's formulas, ordered so a formula that reads another runs after it. */
export function compileFormulas(object: ObjectDef, app: AppDocument): CompiledFormula[] {
  const formulas = liveFields(object).filter((f) => f.type === 'formula' && f.formula !== undefined);
  const byKey = new Map(formulas.map((f) => [f.key, f]));
  const ordered: FieldDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (f: FieldDef): void => {
    if (state.has(f.key)) return; // a cycle is the publish check's to report; keep declared order
    state.set(f.key, 'visiting');
    for (const key of varKeys(f.formula)) {
      const dep = byKey.get(key);
      if (dep) visit(dep);
    }
    state.set(f.key, 'done');
    ordered.push(f);
  };
  formulas.forEach(visit);
  return ordered.map((field) => ({ field, rule: compileRule(field.formula, object, app) }));
}

/**
 * Computes every formula into `data` (by field id) and `view` (by key, so later formulas
 * see earlier results). A result that does not fit the declared type is stored as empty.
 */
export function computeFormulas(formulas: readonly CompiledFormula[], data: Record<string, unknown>, view: Record<string, unknown>, env: EvalEnv): void {
  for (const { field, rule } of formulas) {
    const value = storedForm(field, rule.run(view, env));
    if (value === undefined) {
      delete data[field.id!];
      delete view[field.key];
    } else {
      data[field.id!] = value;
      view[field.key] = value;
    }
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A formula result in the stored JSON form of its result type; undefined for "empty". */
export function storedForm(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (field.resultType ?? 'text') {
    case 'number':
    case 'percent': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) return undefined;
      return field.scale === undefined ? n : Number(n.toFixed(field.scale));
    }
    case 'currency': {
      const text = typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e21 ? value.toFixed(20) : typeof value === 'string' ? value.trim() : '';
      return roundDecimal(text, field.scale ?? 2);
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'date':
      return typeof value === 'string' && DATE.test(value.slice(0, 10)) ? value.slice(0, 10) : undefined;
    case 'datetime': {
      if (typeof value !== 'string') return undefined;
      const t = Date.parse(value);
      return Number.isNaN(t) ? undefined : new Date(t).toISOString();
    }
    case 'text':
      if (typeof value === 'string') return value === '' ? undefined : value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return undefined;
  }
}

/**
 * A decimal text rounded half away from zero to `scale` places, without passing through a
 * float (money computed exactly stays exact); undefined when it is not a decimal.
 */
function roundDecimal(text: string, scale: number): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, whole = '0', fraction = ''] = m;
  const digits = (whole + fraction.padEnd(scale + 1, '0').slice(0, scale + 1)).replace(/^0+(?=\d)/, '');
  const roundUp = Number(digits.slice(-1)) >= 5;
  let kept = BigInt(digits.slice(0, -1) || '0');
  if (roundUp) kept += 1n;
  const body = kept.toString().padStart(scale + 1, '0');
  const result = scale > 0 ? `${body.slice(0, -scale)}.${body.slice(-scale)}` : body;
  return sign && /[1-9]/.test(result) ? `-${result}` : result;
}
