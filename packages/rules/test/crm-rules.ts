import type { AppDocument } from '@tessera/metadata';
import { label } from './fixture';

/** A small CRM using every kind of rule: companies with rollups, deals with the rest. */
export function crmWithRules(): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: label('Company'),
        fields: [
          { key: 'name', type: 'text', label: label('Name'), required: true },
          { key: 'industry', type: 'text', label: label('Industry') },
          { key: 'deal_count', type: 'rollup', label: label('Deals'), rollup: { object: 'deal', via: 'company', aggregate: 'count' } },
          { key: 'pipeline', type: 'rollup', label: label('Pipeline'), rollup: { object: 'deal', via: 'company', aggregate: 'sum', field: 'amount' } },
          {
            key: 'won_total',
            type: 'rollup',
            label: label('Won'),
            rollup: { object: 'deal', via: 'company', aggregate: 'sum', field: 'amount', filter: { '==': [{ var: 'stage' }, 'won'] } },
          },
          { key: 'largest', type: 'rollup', label: label('Largest'), rollup: { object: 'deal', via: 'company', aggregate: 'max', field: 'amount' } },
        ],
      },
      {
        key: 'deal',
        label: label('Deal'),
        fields: [
          { key: 'title', type: 'text', label: label('Title'), required: true },
          { key: 'number', type: 'autonumber', label: label('Number'), pattern: 'QT-{YYYY}{MM}-{0000}' },
          {
            key: 'stage',
            type: 'select',
            label: label('Stage'),
            defaultValue: 'new',
            options: [
              { value: 'new', label: label('New') },
              { value: 'won', label: label('Won') },
              { value: 'lost', label: label('Lost') },
            ],
          },
          { key: 'amount', type: 'currency', label: label('Amount') },
          { key: 'close_date', type: 'date', label: label('Close date'), defaultExpression: { today: [] } },
          { key: 'owner', type: 'user', label: label('Owner'), defaultExpression: { currentUser: [] } },
          { key: 'company', type: 'relation', target: 'company', label: label('Company') },
          { key: 'industry', type: 'formula', resultType: 'text', label: label('Industry'), formula: { var: 'company.industry' } },
          { key: 'big', type: 'formula', resultType: 'boolean', label: label('Big'), formula: { '>': [{ var: 'amount' }, 500000] } },
          { key: 'lost_reason', type: 'text', label: label('Lost reason') },
          { key: 'discount', type: 'number', label: label('Discount') },
          { key: 'hot', type: 'boolean', label: label('Hot') },
        ],
        validations: [
          {
            key: 'amount_not_negative',
            assert: { or: [{ isEmpty: [{ var: 'amount' }] }, { '>=': [{ var: 'amount' }, 0] }] },
            message: { zh: '金额不能为负数', en: 'The amount cannot be negative' },
            severity: 'error',
            fields: ['amount'],
          },
          {
            key: 'big_deal_needs_company',
            assert: { or: [{ '!': [{ var: 'big' }] }, { '!!': [{ var: 'company' }] }] },
            message: { zh: '大单应关联公司', en: 'A big deal should name its company' },
            severity: 'warning',
            fields: ['company'],
          },
        ],
      },
      {
        key: 'activity',
        label: label('Activity'),
        fields: [
          { key: 'subject', type: 'text', label: label('Subject'), required: true },
          { key: 'deal', type: 'relation', target: 'deal', label: label('Deal') },
        ],
      },
    ],
    layouts: [
      { key: 'deal_quick', object: 'deal', sections: [{ key: 'main', items: [{ field: 'title' }] }] },
      {
        key: 'deal_main',
        object: 'deal',
        default: true,
        sections: [
          {
            key: 'main',
            items: [
              { field: 'title' },
              { field: 'lost_reason', requiredWhen: { '==': [{ var: 'stage' }, 'lost'] } },
              { field: 'discount', visibleWhen: { '==': [{ var: 'hot' }, true] }, requiredWhen: { '==': [{ var: 'stage' }, 'won'] } },
              { field: 'amount', readOnlyWhen: { '==': [{ var: 'stage' }, 'won'] } },
            ],
          },
        ],
      },
    ],
    rules: [
      {
        key: 'big_deal_alert',
        object: 'deal',
        on: ['create'],
        condition: { '==': [{ var: 'big' }, true] },
        actions: [
          { type: 'createTask', assignee: { var: 'owner' }, title: '跟进大单', dueDate: { var: 'close_date' } },
          { type: 'notify', recipients: { var: 'owner' }, message: '新的大单' },
        ],
      },
      {
        key: 'won_kickoff',
        object: 'deal',
        on: ['update'],
        changedFields: ['stage'],
        condition: { '==': [{ var: 'stage' }, 'won'] },
        actions: [
          { type: 'createRecord', object: 'activity', values: { subject: 'Kick-off', deal: { var: 'id' } } },
          { type: 'setFields', values: { hot: true } },
        ],
      },
    ],
  };
}
