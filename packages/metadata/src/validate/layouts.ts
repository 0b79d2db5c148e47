import type { FieldError } from '../errors';
import { isComputed } from '../field-kinds';
import type { LayoutDef } from '../types';
import { checkUniqueKeys, err, type DocIndex } from './doc-index';

/** Layouts name a live object and its live fields, each at most once; one default per object. */
export function checkLayouts(layouts: LayoutDef[], index: DocIndex, errors: FieldError[]): void {
  checkUniqueKeys(layouts, 'layouts', 'layout', errors);
  const defaults = new Map<string, number>();
  layouts.forEach((layout, i) => {
    const path = `layouts/${i}`;
    if (!index.object(layout.object)) {
      errors.push(err(`${path}/object`, 'unknown_object', `${layout.object} is not an object of this app`));
      return;
    }
    if (layout.default) {
      const first = defaults.get(layout.object);
      if (first !== undefined) errors.push(err(`${path}/default`, 'duplicate', `layouts/${first} is already the default layout of ${layout.object}`));
      else defaults.set(layout.object, i);
    }
    checkUniqueKeys(layout.sections, `${path}/sections`, 'section', errors);
    checkItems(layout, path, index, errors);
  });
}

function checkItems(layout: LayoutDef, path: string, index: DocIndex, errors: FieldError[]): void {
  const placed = new Map<string, string>();
  layout.sections.forEach((section, s) => {
    section.items.forEach((item, k) => {
      const itemPath = `${path}/sections/${s}/items/${k}`;
      const field = index.field(layout.object, item.field);
      if (!field) {
        errors.push(err(`${itemPath}/field`, 'unknown_field', `${item.field} is not a field of ${layout.object}`));
        return;
      }
      const first = placed.get(item.field);
      if (first !== undefined) errors.push(err(`${itemPath}/field`, 'duplicate', `${item.field} is already placed at ${first}`));
      else placed.set(item.field, itemPath);
      if (isComputed(field) && item.requiredWhen !== undefined) {
        errors.push(err(`${itemPath}/requiredWhen`, 'not_applicable', `${item.field} is computed: nobody can fill it in`));
      }
    });
  });
}
