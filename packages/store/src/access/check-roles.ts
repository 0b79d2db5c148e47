import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject } from 'ajv';
import { findField, findObject, type AppDocument, type FieldError } from '@tessera/metadata';
import { checkExpression } from '@tessera/expr';
import { rolesSectionSchema, type RoleDef } from './role-model';

const validateSection = new Ajv2020({ allErrors: true, strict: true }).compile(rolesSectionSchema);

/**
 * Checks the `roles` section of an app document before it is saved or published: its
 * shape, then what the shape cannot say — unique keys, objects and fields that exist,
 * and scope expressions that type-check as filters of their object. Paths read
 * `roles/<i>/objects/<object>/...`.
 */
export function checkRoles(doc: AppDocument): FieldError[] {
  const roles = doc.roles;
  if (roles === undefined) return [];
  if (!validateSection(roles)) return (validateSection.errors ?? []).map(shapeError);
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  (roles as RoleDef[]).forEach((role, i) => {
    const at = `roles/${i}`;
    if (seen.has(role.key)) errors.push({ field: `${at}/key`, code: 'duplicate', message: `another role already has the key "${role.key}"` });
    seen.add(role.key);
    for (const [objectKey, grant] of Object.entries(role.objects)) {
      const path = `${at}/objects/${objectKey}`;
      const object = findObject(doc, objectKey);
      if (!object) {
        errors.push({ field: path, code: 'unknown_object', message: `"${objectKey}" is not an object of this app` });
        continue;
      }
      for (const fieldKey of Object.keys(grant.fields ?? {})) {
        if (!findField(object, fieldKey)) errors.push({ field: `${path}/fields/${fieldKey}`, code: 'unknown_field', message: `"${fieldKey}" is not a field of ${objectKey}` });
      }
      if (typeof grant.scope === 'object') {
        for (const issue of checkExpression(grant.scope.expression, { object, app: doc }, 'boolean', 'filter').errors) {
          errors.push({ field: `${path}/scope/expression${issue.path ? '/' + issue.path : ''}`, code: issue.code, message: issue.message });
        }
      }
    }
  });
  return errors;
}

function shapeError(e: ErrorObject): FieldError {
  const params = e.params as Record<string, unknown>;
  const parts = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required' && typeof params.missingProperty === 'string') parts.push(params.missingProperty);
  if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') parts.push(params.additionalProperty);
  if (typeof e.propertyName === 'string') parts.push(e.propertyName);
  return { field: ['roles', ...parts].join('/'), code: e.keyword, message: e.message ?? 'invalid' };
}
