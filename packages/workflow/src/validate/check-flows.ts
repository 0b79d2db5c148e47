import type { AppDocument, FieldError } from '@tessera/metadata';

/** Checks the `flows` section of an app document before it is saved or published. */
export function checkFlows(_doc: AppDocument): FieldError[] {
  return [];
}
