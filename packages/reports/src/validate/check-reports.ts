import type { AppDocument, FieldError } from '@tessera/metadata';

/** Checks the `reports` section of an app document before it is saved or published. */
export function checkReports(_doc: AppDocument): FieldError[] {
  return [];
}
