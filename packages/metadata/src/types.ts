/**
 * The metadata model of a Tessera app. These types are the documentation of the
 * metadata; the JSON Schema in ./schema is written to match them and a test keeps
 * the two in step.
 */

export type Locale = 'en' | 'zh';

/** Text shown to people, per UI language. At least one language is given. */
export type LocalizedText = Partial<Record<Locale, string>>;

export const FIELD_TYPES = [
  'text',
  'longtext',
  'number',
  'currency',
  'percent',
  'boolean',
  'date',
  'datetime',
  'select',
  'multiselect',
  'email',
  'phone',
  'url',
  'relation',
  'user',
  'autonumber',
  'formula',
  'rollup',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

export interface SelectOption {
  value: string;
  label: LocalizedText;
  color?: string;
}

export interface FieldDef {
  /** Stable id, assigned when the field is first published; values are stored under it. */
  id?: string;
  /** API name, unique within the object; may be renamed without moving data. */
  key: string;
  type: FieldType;
  label: LocalizedText;
  description?: LocalizedText;
  required?: boolean;
  unique?: boolean;
  indexed?: boolean;
  /** Text fields are searched by `q` unless this is false. */
  searchable?: boolean;
  /**
   * text, longtext, email, phone, url: the value is stored encrypted (AES-256-GCM, key from
   * TESSERA_ENCRYPTION_KEYS) and found by exact match only (==, !=, in), through a keyed
   * hash; never unique, indexed or text-searched; its reads are audited.
   */
  encrypted?: boolean;
  /** Soft-deleted: hidden from the API and forms, values kept, restorable by clearing the flag. */
  deleted?: boolean;
  /** select / multiselect */
  options?: SelectOption[];
  /** text / longtext */
  maxLength?: number;
  /** number / currency / percent */
  min?: number;
  max?: number;
  /** digits after the decimal point (number, percent, currency) */
  scale?: number;
  /** currency: ISO 4217 code, e.g. CNY */
  currency?: string;
  /** relation: key of the target object in the same app */
  target?: string;
  /** autonumber: pattern such as `QT-{YYYY}{MM}-{0000}` (filled by the rule engine) */
  pattern?: string;
  /**
   * formula: an expression over the record and, through `relationKey.fieldKey` paths,
   * the records it points to; computed and stored on every write, recomputed when an
   * input changes (also through a relation). Read-only on input.
   */
  formula?: Expression;
  /** formula: the type its value is stored and validated as */
  resultType?: FormulaResultType;
  /** rollup: an aggregate over child records that point here; read-only on input */
  rollup?: RollupDef;
  /** a literal used when a record is created without a value for this field */
  defaultValue?: unknown;
  /** an expression evaluated at create when no value is given, e.g. `{"today": []}` */
  defaultExpression?: Expression;
}

/** A JSON expression (json-logic plus Tessera's operators), type-checked before it is saved. */
export type Expression = unknown;

export const FORMULA_RESULT_TYPES = ['text', 'number', 'currency', 'percent', 'boolean', 'date', 'datetime'] as const;

export type FormulaResultType = (typeof FORMULA_RESULT_TYPES)[number];

export const ROLLUP_AGGREGATES = ['count', 'sum', 'min', 'max', 'avg'] as const;

export const MATCH_METHODS = ['exact', 'normalized', 'phone', 'email', 'company'] as const;

export const TRIGGER_EVENTS = ['create', 'update', 'delete'] as const;

export const AUTOMATION_ACTION_TYPES = ['setFields', 'createRecord', 'createTask', 'notify', 'startFlow'] as const;

export interface RollupDef {
  /** key of the child object */
  object: string;
  /** key of the child's relation field that points at this object */
  via: string;
  aggregate: (typeof ROLLUP_AGGREGATES)[number];
  /** child field aggregated (not for count) */
  field?: string;
  /** only children for which this holds are counted */
  filter?: Expression;
}

export type Severity = 'error' | 'warning';

/** A rule the record must satisfy: valid when `assert` is true. */
export interface ValidationRule {
  key: string;
  assert: Expression;
  message: LocalizedText;
  /** error blocks the write (422); warning is returned with the saved record */
  severity: Severity;
  /** field keys the message is about (shown next to them in forms) */
  fields?: string[];
  /** when the rule is checked; both when absent */
  on?: Array<'create' | 'update'>;
}

export type MatchMethod = (typeof MATCH_METHODS)[number];

/** Records that match on every listed field are duplicates. */
export interface DuplicateRule {
  key: string;
  label?: LocalizedText;
  match: Array<{ field: string; method: MatchMethod }>;
  action: 'block' | 'warn';
}

export interface ObjectDef {
  id?: string;
  key: string;
  label: LocalizedText;
  pluralLabel?: LocalizedText;
  description?: LocalizedText;
  /** key of the field that names a record in lists and relation pickers */
  titleField?: string;
  fields: FieldDef[];
  deleted?: boolean;
  validations?: ValidationRule[];
  duplicateRules?: DuplicateRule[];
}

/** A form for one object: sections of fields with live behaviour, enforced by the server too. */
export interface LayoutDef {
  key: string;
  /** object key */
  object: string;
  label?: LocalizedText;
  /** the layout whose behaviour the server enforces on every write (else the object's first) */
  default?: boolean;
  sections: LayoutSection[];
}

export interface LayoutSection {
  key: string;
  label?: LocalizedText;
  columns?: 1 | 2 | 3 | 4;
  items: LayoutItem[];
}

export interface LayoutItem {
  /** field key */
  field: string;
  span?: number;
  /** shown only when true; a hidden field is never required */
  visibleWhen?: Expression;
  /** must have a value when true */
  requiredWhen?: Expression;
  /** cannot be changed when true (evaluated on the record as stored before the write) */
  readOnlyWhen?: Expression;
}

export type TriggerEvent = (typeof TRIGGER_EVENTS)[number];

/** A record-triggered automation: when `object` is written and `condition` holds, run `actions`. */
export interface AutomationRule {
  key: string;
  label?: LocalizedText;
  object: string;
  on: TriggerEvent[];
  /** update only: run only when one of these field keys changed */
  changedFields?: string[];
  condition?: Expression;
  actions: AutomationAction[];
  active?: boolean;
}

export type AutomationAction =
  /** set fields of the triggering record: field key -> expression */
  | { type: 'setFields'; values: Record<string, Expression> }
  /** create a record of another object (e.g. a follow-up linked back by a relation) */
  | { type: 'createRecord'; object: string; values: Record<string, Expression> }
  /** a task in a user's inbox */
  | { type: 'createTask'; assignee: Expression; title: Expression; dueDate?: Expression }
  /** an in-app notification to one or more users */
  | { type: 'notify'; recipients: Expression; message: Expression }
  /** start a flow (accepted once the workflow engine exists) */
  | { type: 'startFlow'; flow: string };

/**
 * An app document: what the designer edits (the draft) and what a published version
 * freezes. Sections other than `objects` are reserved for later capabilities and are
 * kept as given.
 */
export interface AppDocument {
  objects: ObjectDef[];
  layouts?: LayoutDef[];
  views?: unknown[];
  /** record-triggered automations */
  rules?: AutomationRule[];
  flows?: unknown[];
  reports?: unknown[];
  dashboards?: unknown[];
  roles?: unknown[];
}

/** A published, immutable version of an app. Every object and field in it has an id. */
export interface PublishedApp {
  appId: string;
  appKey: string;
  version: number;
  document: AppDocument;
}

/** Field ids, object ids and keys are checked against these before any use. */
export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const ID_PATTERN = /^[a-z][a-z0-9_]{1,62}$/;

/** System fields every record has; not declared in metadata, readable and filterable. */
export const SYSTEM_FIELDS = ['id', 'version', 'created_at', 'updated_at', 'created_by', 'updated_by', 'owner_id'] as const;
export type SystemField = (typeof SYSTEM_FIELDS)[number];
