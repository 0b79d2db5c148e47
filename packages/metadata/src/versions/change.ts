export type ChangeKind =
  | 'object_added'
  | 'object_removed'
  | 'object_restored'
  | 'object_renamed'
  | 'object_changed'
  | 'field_added'
  | 'field_removed'
  | 'field_restored'
  | 'field_renamed'
  | 'field_retyped'
  | 'field_changed'
  /** a formula field's expression or result type */
  | 'formula_changed'
  /** a rollup's child object, relation, aggregate, field or filter */
  | 'rollup_changed'
  /** a field's defaultValue or defaultExpression */
  | 'default_changed'
  | 'validation_added'
  | 'validation_removed'
  | 'validation_changed'
  | 'duplicate_rule_added'
  | 'duplicate_rule_removed'
  | 'duplicate_rule_changed'
  | 'layout_added'
  | 'layout_removed'
  | 'layout_changed'
  | 'automation_added'
  | 'automation_removed'
  | 'automation_changed';

export interface Change {
  kind: ChangeKind;
  /** object key (as of the newer document; the old key for a removed object) */
  object: string;
  /** field key, likewise */
  field?: string;
  /** key of the validation rule, duplicate rule, layout or automation the change is about */
  item?: string;
  from?: unknown;
  to?: unknown;
  /** Human-readable, says where values went when they stop being visible. */
  note: string;
  /** true when values stop being visible through the API (they stay stored and restorable) */
  lossy?: boolean;
}

/**
 * `lossless` is false when some existing values stop being visible (a removed object or
 * field, a narrowing retype). Nothing is ever dropped from the store: the plan's notes
 * say under which soft-deleted id the values remain, so the designer can ask for
 * confirmation and the change can be undone.
 */
export interface ChangePlan {
  changes: Change[];
  lossless: boolean;
}
