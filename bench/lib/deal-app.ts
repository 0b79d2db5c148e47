import type { AppDocument, FieldDef, ObjectDef, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, UserRepository, WorkspaceRepository, type Actor, type Database } from '@tessera/store';

export const STAGES = ['new', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;

const label = (en: string, zh: string) => ({ en, zh });

/** The CRM's deal, trimmed to what the benchmarks filter, sort and write. */
export function dealApp(objectKey = 'deal'): AppDocument {
  return {
    objects: [
      {
        key: objectKey,
        label: label('Deal', '交易'),
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: label('Title', '标题'), required: true, indexed: true },
          {
            key: 'stage',
            type: 'select',
            label: label('Stage', '阶段'),
            indexed: true,
            options: STAGES.map((s) => ({ value: s, label: label(s, s) })),
          },
          { key: 'amount', type: 'currency', label: label('Amount', '金额'), indexed: true, currency: 'CNY', scale: 2 },
          { key: 'close_date', type: 'date', label: label('Close date', '预计成交日期'), indexed: true },
          { key: 'probability', type: 'percent', label: label('Probability', '赢率') },
          { key: 'owner', type: 'user', label: label('Owner', '负责人') },
        ],
      },
    ],
  };
}

/** The published ids the store keeps values under, read back from the published document. */
export interface DealIds {
  objectId: string;
  title: string;
  stage: string;
  amount: string;
  close_date: string;
  probability: string;
  owner: string;
}

export function dealIds(published: PublishedApp, objectKey = 'deal'): DealIds {
  const object = published.document.objects.find((o: ObjectDef) => o.key === objectKey);
  if (!object?.id) throw new Error(`object ${objectKey} was not published with an id`);
  const id = (key: string) => {
    const field = object.fields.find((f: FieldDef) => f.key === key);
    if (!field?.id) throw new Error(`field ${key} was not published with an id`);
    return field.id;
  };
  return {
    objectId: object.id,
    title: id('title'),
    stage: id('stage'),
    amount: id('amount'),
    close_date: id('close_date'),
    probability: id('probability'),
    owner: id('owner'),
  };
}

export interface Tenant {
  actor: Actor;
  workspaceId: string;
  userId: string;
}

export async function createTenant(database: Database): Promise<Tenant> {
  const workspace = await new WorkspaceRepository(database.db).create('Bench');
  const user = await new UserRepository(database.db).create(workspace.id, { email: 'bench@tessera.local', passwordHash: null, isAdmin: true });
  return { workspaceId: workspace.id, userId: user.id, actor: { workspaceId: workspace.id, userId: user.id, source: 'api' } };
}

/** Creates and publishes an app holding the deal object; returns its published version. */
export async function publishDealApp(database: Database, tenant: Tenant, appKey: string, objectKey = 'deal'): Promise<PublishedApp> {
  const metadata = new MetadataRepository(database.db);
  await metadata.createApp(tenant.actor, { key: appKey, name: label('Bench', '基准'), draft: dealApp(objectKey) });
  await metadata.publish(tenant.actor, appKey);
  return metadata.getPublished(tenant.workspaceId, appKey);
}
