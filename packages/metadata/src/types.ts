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
}

/**
 * An app document: what the designer edits (the draft) and what a published version
 * freezes. Sections other than `objects` are reserved for later capabilities and are
 * kept as given.
 */
export interface AppDocument {
  objects: ObjectDef[];
  layouts?: unknown[];
  views?: unknown[];
  rules?: unknown[];
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
