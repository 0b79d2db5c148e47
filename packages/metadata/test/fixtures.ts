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
          { id: 'f_numb000001', key: 'quantity', type: 'number', label: { en: 'Quantity' }, min: 0, max: 1000, scale: 0 },
          { id: 'f_curr000001', key: 'total', type: 'currency', label: { en: 'Total', zh: '总额' }, currency: 'CNY', scale: 2, min: 0 },
          { id: 'f_perc000001', key: 'discount', type: 'percent', label: { en: 'Discount' }, min: 0, max: 100, scale: 1 },
          { id: 'f_bool000001', key: 'approved', type: 'boolean', label: { en: 'Approved' } },
          { id: 'f_date000001', key: 'valid_until', type: 'date', label: { en: 'Valid until' } },
          { id: 'f_dtim000001', key: 'sent_at', type: 'datetime', label: { en: 'Sent at' } },
          { id: 'f_sele000001', key: 'status', type: 'select', label: { en: 'Status' }, options: [option('draft', 'Draft', '草稿'), option('sent', 'Sent', '已发送')] },
          { id: 'f_mult000001', key: 'tags', type: 'multiselect', label: { en: 'Tags' }, options: [option('vip', 'VIP', '重要'), option('new', 'New', '新')] },
          { id: 'f_emai000001', key: 'email', type: 'email', label: { en: 'Email' } },
          { id: 'f_phon000001', key: 'phone', type: 'phone', label: { en: 'Phone', zh: '电话' } },
          { id: 'f_urls000001', key: 'website', type: 'url', label: { en: 'Website' } },
          { id: 'f_rela000001', key: 'account', type: 'relation', target: 'account', label: { en: 'Account' } },
          { id: 'f_user000001', key: 'reviewer', type: 'user', label: { en: 'Reviewer' } },
          { id: 'f_auto000001', key: 'number', type: 'autonumber', label: { en: 'Number' }, pattern: 'QT-{YYYY}{MM}-{0000}' },
          { id: 'f_gone000001', key: 'legacy', type: 'text', label: { en: 'Legacy' }, deleted: true },
        ],
      },
      { id: 'o_account001', key: 'account', label: { en: 'Account' }, fields: [] },
    ],
    layouts: [],
    views: [],
    rules: [],
    flows: [],
    reports: [],
    dashboards: [],
    roles: [],
  };
}
