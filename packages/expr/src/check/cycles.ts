import type { FieldDef, ObjectDef } from '@tessera/metadata';

/** Field keys an expression reads from its own record (relation paths count as their relation field). */
export function readKeys(expr: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 64 || expr === null || typeof expr !== 'object') return out;
  if (Array.isArray(expr)) {
    for (const item of expr) readKeys(item, out, depth + 1);
    return out;
  }
  for (const [op, arg] of Object.entries(expr)) {
    if (op === 'var') {
      const key = Array.isArray(arg) ? arg[0] : arg;
      if (typeof key === 'string') out.add(key.split('.')[0]!);
    } else readKeys(arg, out, depth + 1);
  }
  return out;
}

/** Formulas of one object that depend on themselves through other formulas; each reported once, at its first member. */
export function findFormulaCycles(object: ObjectDef): Array<{ field: FieldDef; keys: string[] }> {
  const formulas = new Map(object.fields.filter((f) => f && !f.deleted && f.type === 'formula').map((f) => [f.key, f]));
  const deps = new Map([...formulas].map(([key, f]) => [key, [...readKeys(f.formula)].filter((k) => formulas.has(k))]));
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: Array<{ field: FieldDef; keys: string[] }> = [];
  const visit = (key: string, stack: string[]): void => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') {
      const keys = [...stack.slice(stack.indexOf(key)), key];
      cycles.push({ field: formulas.get(key)!, keys });
      return;
    }
    state.set(key, 'visiting');
    for (const next of deps.get(key) ?? []) visit(next, [...stack, key]);
    state.set(key, 'done');
  };
  for (const key of formulas.keys()) visit(key, []);
  return cycles;
}
