import type { AppDocument, FieldDef, ObjectDef } from '../types';
import type { Change, ChangeKind } from './change';
import { deepEqual } from './equal';

interface KeyedItem {
  key: string;
}

type Family = 'validation' | 'duplicate_rule' | 'layout' | 'automation';

const NOUN: Record<Family, string> = {
  validation: 'validation rule',
  duplicate_rule: 'duplicate rule',
  layout: 'layout',
  automation: 'automation',
};

/**
 * Rules have no ids (nothing is stored under them), so they are matched by key: a renamed
 * rule is one removed and one added. Changes list the properties that differ, so a
 * designer sees "assert, message" rather than a whole rule.
 */
function diffKeyed<T extends KeyedItem>(family: Family, before: T[], after: T[], objectOf: (item: T) => string, changes: Change[]): void {
  const old = new Map(before.map((item) => [item.key, item]));
  const seen = new Set<string>();
  for (const item of after) {
    seen.add(item.key);
    const prev = old.get(item.key);
    const noun = `${NOUN[family]} ${item.key}`;
    if (!prev) {
      changes.push({ kind: `${family}_added` as ChangeKind, object: objectOf(item), item: item.key, to: item, note: `${noun} added to ${objectOf(item)}` });
      continue;
    }
    const names = changedNames(prev, item);
    if (names.length > 0) {
      changes.push({ kind: `${family}_changed` as ChangeKind, object: objectOf(item), item: item.key, from: prev, to: item, note: `${noun} of ${objectOf(item)} changed: ${names.join(', ')}` });
    }
  }
  for (const prev of before) {
    if (seen.has(prev.key)) continue;
    changes.push({ kind: `${family}_removed` as ChangeKind, object: objectOf(prev), item: prev.key, from: prev, note: `${NOUN[family]} ${prev.key} removed from ${objectOf(prev)}` });
  }
}

function changedNames(a: object, b: object): string[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !deepEqual(ra[k], rb[k]));
}

/** Validation and duplicate rules of an object present (and live) in both versions. */
export function diffObjectRules(source: ObjectDef, target: ObjectDef, changes: Change[]): void {
  const objectKey = () => target.key;
  diffKeyed('validation', source.validations ?? [], target.validations ?? [], objectKey, changes);
  diffKeyed('duplicate_rule', source.duplicateRules ?? [], target.duplicateRules ?? [], objectKey, changes);
}

export function diffDocumentRules(from: AppDocument, to: AppDocument, changes: Change[]): void {
  diffKeyed('layout', from.layouts ?? [], to.layouts ?? [], (l) => l.object, changes);
  diffKeyed('automation', from.rules ?? [], to.rules ?? [], (r) => r.object, changes);
}

/** Field settings whose change alters computed or default values, each reported as its own kind. */
export const COMPUTATION_SETTINGS = new Set(['formula', 'resultType', 'rollup', 'defaultValue', 'defaultExpression']);

export function diffComputation(object: string, before: FieldDef, next: FieldDef, changes: Change[]): void {
  const pick = (f: FieldDef, names: (keyof FieldDef)[]) => Object.fromEntries(names.filter((n) => f[n] !== undefined).map((n) => [n, f[n]]));
  const groups: [ChangeKind, (keyof FieldDef)[], string][] = [
    ['formula_changed', ['formula', 'resultType'], 'formula'],
    ['rollup_changed', ['rollup'], 'rollup'],
    ['default_changed', ['defaultValue', 'defaultExpression'], 'default'],
  ];
  for (const [kind, names, what] of groups) {
    const from = pick(before, names);
    const to = pick(next, names);
    if (deepEqual(from, to)) continue;
    const differing = names.filter((n) => !deepEqual(before[n], next[n]));
    const effect = kind === 'default_changed' ? 'applies to records created from now on' : 'values are computed by the new definition from now on';
    changes.push({ kind, object, field: next.key, from, to, note: `${what} of ${object}.${next.key} changed (${differing.join(', ')}): ${effect}` });
  }
}
