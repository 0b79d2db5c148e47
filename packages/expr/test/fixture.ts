import type { FieldDef, FieldType, ObjectDef } from '@tessera/metadata';
import type { ExprScope } from '../src/index';

function field(key: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return { id: `f_${key}`, key, type, label: { en: key }, ...extra };
}

export const deal: ObjectDef = {
  id: 'o_deal',
  key: 'deal',
  label: { en: 'Deal', zh: '交易' },
  fields: [
    field('title', 'text'),
    field('stage', 'select', { options: [{ value: 'new', label: { en: 'New' } }] }),
    field('amount', 'currency'),
    field('cost', 'currency'),
    field('qty', 'number'),
    field('hot', 'boolean'),
    field('close_date', 'date'),
    field('due_at', 'datetime'),
    field('tags', 'multiselect'),
    field('gone', 'text', { deleted: true }),
  ],
};

export const scope: ExprScope = { object: deal };
