import { ProblemError } from '@tessera/metadata';
import type { CompileContext } from './context';
import { resolveFieldPath, type FieldRef } from './fields';

/** Every `{"var": ...}` an expression reads. */
export function varsOf(expr: unknown, out: string[] = []): string[] {
  if (Array.isArray(expr)) for (const x of expr) varsOf(x, out);
  else if (expr && typeof expr === 'object') {
    for (const [op, arg] of Object.entries(expr)) {
      if (op === 'var' && typeof arg === 'string') out.push(arg);
      else if (op === 'var' && Array.isArray(arg) && typeof arg[0] === 'string') out.push(arg[0]);
      else varsOf(arg, out);
    }
  }
  return out;
}

/**
 * Refuses (403) a report the viewer may not run: the object is not readable to them, or
 * it groups, aggregates or filters by a field they may not read (also the relation a
 * path goes through) — a total by a hidden field would reveal it.
 */
export function assertReadable(ctx: CompileContext, refs: FieldRef[], filters: unknown[]): void {
  if (!ctx.policy.can(ctx.object, 'read')) {
    throw new ProblemError('forbidden', `You may not read ${ctx.object.key} records`, [{ field: 'object', code: 'forbidden', message: `no read access to ${ctx.object.key}` }]);
  }
  const all = [...refs];
  for (const path of filters.flatMap((f) => varsOf(f))) {
    const ref = resolveFieldPath(ctx.app, ctx.object, path);
    if (!('code' in ref)) all.push(ref);
  }
  for (const ref of all) {
    // stored as ciphertext: SQL can neither group, compare nor show it (exact-match lookups go through the record list)
    if (ref.field?.encrypted) {
      throw new ProblemError('bad_request', `"${ref.path}" is an encrypted field; reports cannot read encrypted values`, [
        { field: ref.path, code: 'encrypted_field', message: 'encrypted values are not readable by reports' },
      ]);
    }
    if (ref.hop) {
      if (!ctx.policy.canReadField(ctx.object, ref.hop.relation)) refuseField(ref.hop.relation.key);
      if (!ctx.policy.can(ref.hop.target, 'read')) {
        throw new ProblemError('forbidden', `You may not read ${ref.hop.target.key} records`, [{ field: ref.path, code: 'forbidden', message: `no read access to ${ref.hop.target.key}` }]);
      }
    }
    if (ref.field && !ctx.policy.canReadField(ref.object, ref.field)) refuseField(ref.path);
  }
}

function refuseField(path: string): never {
  throw new ProblemError('forbidden', `The report reads the field "${path}", which you may not read`, [{ field: path, code: 'forbidden', message: `no read access to ${path}` }]);
}
