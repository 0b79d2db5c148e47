import type { AppDocument } from '../src';

/** The draft from the foundation issue (issue 2), extended with a company to relate to. */
export function issueExampleDraft(): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: { en: 'Deal', zh: '交易' },
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title', zh: '标题' }, required: true, unique: false, indexed: true },
          { key: 'stage', type: 'select', label: { en: 'Stage', zh: '阶段' }, options: [{ value: 'new', label: { en: 'New', zh: '新建' } }] },
          { key: 'amount', type: 'currency', label: { en: 'Amount', zh: '金额' } },
          { key: 'company', type: 'relation', target: 'company', label: { en: 'Company', zh: '公司' } },
        ],
      },
      {
        key: 'company',
        label: { zh: '公司' },
        fields: [{ key: 'name', type: 'text', label: { en: 'Name', zh: '名称' }, required: true }],
      },
    ],
  };
}

/** Every field type with every setting it can carry, typed as AppDocument so the compiler checks it. */
export function everyFieldTypeDocument(): AppDocument {
  const option = (value: string, en: string, zh: string) => ({ value, label: { en, zh }, color: '#3366ff' });
  return {
    objects: [
      {
        id: 'o_quote00001',
        key: 'quote',
        label: { en: 'Quote', zh: '报价' },
        pluralLabel: { en: 'Quotes', zh: '报价单' },
        description: { en: 'A price offer', zh: '报价' },
        titleField: 'name',
        deleted: false,
        fields: [
          { id: 'f_text000001', key: 'name', type: 'text', label: { en: 'Name', zh: '名称' }, description: { zh: '名字' }, required: true, unique: true, indexed: true, searchable: true, maxLength: 200 },
          { id: 'f_long000001', key: 'notes', type: 'longtext', label: { zh: '备注' }, maxLength: 5000, searchable: false },
          { id: 'f_numb000001', key: 'quantity', type: 'number', label: { en: 'Quantity' }, min: 0, max: 1000, scale: 0, defaultValue: 1 },
          { id: 'f_curr000001', key: 'total', type: 'currency', label: { en: 'Total', zh: '总额' }, currency: 'CNY', scale: 2, min: 0 },
          { id: 'f_perc000001', key: 'discount', type: 'percent', label: { en: 'Discount' }, min: 0, max: 100, scale: 1 },
          { id: 'f_bool000001', key: 'approved', type: 'boolean', label: { en: 'Approved' } },
          { id: 'f_date000001', key: 'valid_until', type: 'date', label: { en: 'Valid until' }, defaultExpression: { today: [] } },
          { id: 'f_dtim000001', key: 'sent_at', type: 'datetime', label: { en: 'Sent at' } },
          { id: 'f_sele000001', key: 'status', type: 'select', label: { en: 'Status' }, options: [option('draft', 'Draft', '草稿'), option('sent', 'Sent', '已发送')], defaultValue: 'draft' },
          { id: 'f_mult000001', key: 'tags', type: 'multiselect', label: { en: 'Tags' }, options: [option('vip', 'VIP', '重要'), option('new', 'New', '新')] },
          { id: 'f_emai000001', key: 'email', type: 'email', label: { en: 'Email' } },
          { id: 'f_phon000001', key: 'phone', type: 'phone', label: { en: 'Phone', zh: '电话' }, encrypted: true },
          { id: 'f_urls000001', key: 'website', type: 'url', label: { en: 'Website' } },
          { id: 'f_rela000001', key: 'account', type: 'relation', target: 'account', label: { en: 'Account' } },
          { id: 'f_user000001', key: 'reviewer', type: 'user', label: { en: 'Reviewer' } },
          { id: 'f_auto000001', key: 'number', type: 'autonumber', label: { en: 'Number' }, pattern: 'QT-{YYYY}{MM}-{0000}' },
          { id: 'f_gone000001', key: 'legacy', type: 'text', label: { en: 'Legacy' }, deleted: true },
          {
            id: 'f_form000001',
            key: 'net_total',
            type: 'formula',
            label: { en: 'Net total', zh: '净额' },
            indexed: true,
            formula: { if: [{ var: 'approved' }, { var: 'total' }, '0'] },
            resultType: 'currency',
          },
          { id: 'f_form000002', key: 'industry', type: 'formula', label: { en: 'Industry' }, formula: { var: 'account.industry' }, resultType: 'text' },
          {
            id: 'f_roll000001',
            key: 'line_count',
            type: 'rollup',
            label: { en: 'Lines', zh: '明细数' },
            rollup: { object: 'quote_line', via: 'quote', aggregate: 'count', filter: { '>': [{ var: 'amount' }, 0] } },
          },
          { id: 'f_roll000002', key: 'lines_total', type: 'rollup', label: { en: 'Lines total' }, rollup: { object: 'quote_line', via: 'quote', aggregate: 'sum', field: 'amount' } },
          { id: 'f_roll000003', key: 'last_delivery', type: 'rollup', label: { en: 'Last delivery' }, rollup: { object: 'quote_line', via: 'quote', aggregate: 'max', field: 'delivery' } },
        ],
        validations: [
          {
            key: 'discount_cap',
            assert: { '<=': [{ var: 'discount' }, 50] },
            message: { en: 'Discounts above 50% need approval', zh: '折扣超过 50% 需要审批' },
            severity: 'error',
            fields: ['discount'],
            on: ['create', 'update'],
          },
          { key: 'has_email', assert: { '!': [{ isEmpty: [{ var: 'email' }] }] }, message: { zh: '建议填写邮箱' }, severity: 'warning' },
        ],
        duplicateRules: [
          { key: 'same_email', label: { en: 'Same email', zh: '邮箱相同' }, match: [{ field: 'email', method: 'email' }], action: 'warn' },
          {
            key: 'same_contact',
            match: [
              { field: 'phone', method: 'phone' },
              { field: 'name', method: 'normalized' },
              { field: 'status', method: 'exact' },
            ],
            action: 'block',
          },
        ],
      },
      {
        id: 'o_account001',
        key: 'account',
        label: { en: 'Account' },
        fields: [
          { id: 'f_acct000001', key: 'company_name', type: 'text', label: { en: 'Company name', zh: '公司名称' } },
          { id: 'f_acct000002', key: 'industry', type: 'text', label: { en: 'Industry', zh: '行业' } },
        ],
        duplicateRules: [{ key: 'same_company', match: [{ field: 'company_name', method: 'company' }], action: 'block' }],
      },
      {
        id: 'o_qline00001',
        key: 'quote_line',
        label: { en: 'Quote line', zh: '报价明细' },
        fields: [
          { id: 'f_qlin000001', key: 'quote', type: 'relation', target: 'quote', label: { en: 'Quote' }, required: true },
          { id: 'f_qlin000002', key: 'amount', type: 'number', label: { en: 'Amount' } },
          { id: 'f_qlin000003', key: 'delivery', type: 'date', label: { en: 'Delivery' } },
          { id: 'f_qlin000004', key: 'product', type: 'text', label: { en: 'Product' } },
        ],
      },
    ],
    layouts: [
      {
        key: 'quote_form',
        object: 'quote',
        label: { en: 'Quote', zh: '报价单' },
        default: true,
        sections: [
          {
            key: 'main',
            label: { en: 'Main', zh: '基本信息' },
            columns: 2,
            items: [
              { field: 'name', span: 2 },
              { field: 'status' },
              {
                field: 'discount',
                visibleWhen: { '>': [{ var: 'quantity' }, 10] },
                requiredWhen: { '==': [{ var: 'status' }, 'sent'] },
                readOnlyWhen: { var: 'approved' },
              },
              { field: 'net_total', readOnlyWhen: true },
            ],
          },
        ],
      },
      { key: 'quote_compact', object: 'quote', sections: [{ key: 'only', items: [{ field: 'name' }] }] },
    ],
    views: [],
    rules: [
      {
        key: 'big_quote',
        label: { en: 'Big quote', zh: '大额报价' },
        object: 'quote',
        on: ['create', 'update'],
        changedFields: ['quantity', 'total'],
        condition: { '>=': [{ var: 'total' }, 500000] },
        active: true,
        actions: [
          { type: 'setFields', values: { approved: false, status: 'draft' } },
          { type: 'createRecord', object: 'quote_line', values: { quote: { var: 'id' }, product: 'review' } },
          { type: 'createTask', assignee: { var: 'reviewer' }, title: 'Review the quote', dueDate: { today: [] } },
          { type: 'notify', recipients: [{ var: 'owner_id' }], message: 'A big quote was saved' },
        ],
      },
      { key: 'on_delete', object: 'quote', on: ['delete'], actions: [{ type: 'notify', recipients: { currentUser: [] }, message: '已删除' }] },
    ],
    flows: [],
    reports: [],
    dashboards: [],
    roles: [],
  };
}
