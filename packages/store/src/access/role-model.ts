import type { Expr } from '@tessera/expr';

/** Which records of an object a role reaches. */
export type RecordScope = 'all' | 'team' | 'own' | { expression: Expr };

/** What a role may do with one field: absent from everything ('none'), shown, or also changed. */
export type FieldAccess = 'read' | 'write' | 'none';

/** A role's grant on one object. An object the role does not name is not reachable through it. */
export interface ObjectGrant {
  create: boolean;
  read: boolean;
  update: boolean;
  delete: boolean;
  import: boolean;
  export: boolean;
  scope: RecordScope;
  /** by field key; a field not named is 'write' when the grant may update, else 'read' */
  fields?: Record<string, FieldAccess>;
}

/** One entry of an app document's `roles` section. Users hold roles per app (user_roles). */
export interface RoleDef {
  key: string;
  name: { zh?: string; en?: string };
  description?: { zh?: string; en?: string };
  /** by object key */
  objects: Record<string, ObjectGrant>;
}

const keyPattern = '^[a-z][a-z0-9_]{0,62}$';
const text = { type: 'object', properties: { zh: { type: 'string', maxLength: 200 }, en: { type: 'string', maxLength: 200 } }, additionalProperties: false } as const;

/** JSON Schema of one role; `checkRoles` runs it before the semantic checks. */
export const roleDefSchema = {
  type: 'object',
  required: ['key', 'name', 'objects'],
  additionalProperties: false,
  properties: {
    key: { type: 'string', pattern: keyPattern },
    name: text,
    description: text,
    objects: {
      type: 'object',
      maxProperties: 1000,
      propertyNames: { pattern: keyPattern },
      additionalProperties: {
        type: 'object',
        required: ['create', 'read', 'update', 'delete', 'import', 'export', 'scope'],
        additionalProperties: false,
        properties: {
          create: { type: 'boolean' },
          read: { type: 'boolean' },
          update: { type: 'boolean' },
          delete: { type: 'boolean' },
          import: { type: 'boolean' },
          export: { type: 'boolean' },
          scope: {
            oneOf: [
              { type: 'string', enum: ['all', 'team', 'own'] },
              { type: 'object', required: ['expression'], additionalProperties: false, properties: { expression: {} } },
            ],
          },
          fields: {
            type: 'object',
            maxProperties: 1000,
            propertyNames: { pattern: keyPattern },
            additionalProperties: { type: 'string', enum: ['read', 'write', 'none'] },
          },
        },
      },
    },
  },
} as const;

export const rolesSectionSchema = { type: 'array', maxItems: 200, items: roleDefSchema } as const;
