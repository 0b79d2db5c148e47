import { randomUUID } from 'node:crypto';
import type { AppDocument } from '@tessera/metadata';
import type { Database } from '../src/index';
import type { Actor } from '../src/index';

/** The example object, a little richer: every value kind appears once. */
export function dealApp(): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: { en: 'Company', zh: '公司' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '名称' }, required: true, unique: true },
          { key: 'credit_code', type: 'text', label: { en: 'Credit code', zh: '统一社会信用代码' } },
        ],
      },
      {
        key: 'deal',
        label: { en: 'Deal', zh: '交易' },
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title', zh: '标题' }, required: true, indexed: true },
          {
            key: 'stage',
            type: 'select',
            label: { en: 'Stage', zh: '阶段' },
            indexed: true,
            options: [
              { value: 'new', label: { en: 'New', zh: '新建' } },
              { value: 'won', label: { en: 'Won', zh: '赢单' } },
              { value: 'lost', label: { en: 'Lost', zh: '输单' } },
            ],
          },
          { key: 'amount', type: 'currency', label: { en: 'Amount', zh: '金额' }, currency: 'CNY', indexed: true },
          { key: 'probability', type: 'percent', label: { en: 'Probability', zh: '赢率' } },
          { key: 'close_date', type: 'date', label: { en: 'Close date', zh: '预计成交日期' } },
          { key: 'hot', type: 'boolean', label: { en: 'Hot', zh: '重点' } },
          { key: 'notes', type: 'longtext', label: { en: 'Notes', zh: '备注' } },
          { key: 'company', type: 'relation', target: 'company', label: { en: 'Company', zh: '公司' } },
          {
            key: 'tags',
            type: 'multiselect',
            label: { en: 'Tags', zh: '标签' },
            options: [
              { value: 'vip', label: { en: 'VIP', zh: '贵宾' } },
              { value: 'renewal', label: { en: 'Renewal', zh: '续约' } },
            ],
          },
          { key: 'contact_email', type: 'email', label: { en: 'Email', zh: '邮箱' } },
          { key: 'contact_phone', type: 'phone', label: { en: 'Phone', zh: '电话' } },
        ],
      },
    ],
  };
}

export async function newWorkspace(database: Database): Promise<Actor> {
  const workspaceId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'test' }).execute();
  const userId = randomUUID();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
  return { workspaceId, userId, source: 'api' };
}
