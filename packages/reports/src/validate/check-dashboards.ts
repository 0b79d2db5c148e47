import type { AppDocument, FieldError } from '@tessera/metadata';

/** Checks the `dashboards` section of an app document before it is saved or published. */
export function checkDashboards(_doc: AppDocument): FieldError[] {
  return [];
}
