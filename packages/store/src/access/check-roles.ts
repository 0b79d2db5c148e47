import type { AppDocument, FieldError } from '@tessera/metadata';

/** Checks the `roles` section of an app document before it is saved or published. */
export function checkRoles(_doc: AppDocument): FieldError[] {
  return [];
}
