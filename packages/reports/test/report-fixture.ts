import { randomUUID } from 'node:crypto';
import type { AppDocument, FieldDef, ObjectDef, PublishedApp } from '@tessera/metadata';
import { MetadataRepository, openTestDatabase, unrestrictedPolicy, type AccessPolicy, type Actor, type Database } from '@tessera/store';
import { checkReports } from '../src/index';

export const label = (en: string) => ({ en, zh: en });
const options = (...values: string[]) => values.map((value) => ({ value, label: { en: value.toUpperCase(), zh: value } }));

export const STAGES = ['lead', 'qualified', 'proposal', 'won', 'lost'];

/** A sales app: deals at companies, every value kind a report groups or sums. */
export function salesApp(): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: label('Company'),
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: label('Name') },
          { key: 'industry', type: 'select', label: label('Industry'), options: options('tech', 'retail', 'finance') },
        ],
      },
      {
        key: 'deal',
        label: label('Deal'),
        titleField: 'title',
        fields: [
          { key: 'title', type: 'text', label: label('Title') },
          { key: 'stage', type: 'select', label: label('Stage'), options: options(...STAGES) },
          { key: 'amount', type: 'currency', label: label('Amount'), currency: 'CNY', scale: 2 },
          { key: 'probability', type: 'percent', label: label('Probability'), min: 0, max: 100 },
          { key: 'qty', type: 'number', label: label('Quantity') },
          { key: 'close_date', type: 'date', label: label('Close date') },
          { key: 'closed_at', type: 'datetime', label: label('Closed at') },
          { key: 'hot', type: 'boolean', label: label('Hot') },
          { key: 'company', type: 'relation', target: 'company', label: label('Company') },
        ],
      },
    ],
  };
}

export interface ReportHarness {
  database: Database;
  actor: Actor;
  app: PublishedApp;
  policy: AccessPolicy;
  object(key: string): ObjectDef;
  /** inserts rows (values by field key) straight into `records`; returns their ids */
  insert(objectKey: string, rows: Record<string, unknown>[]): Promise<string[]>;
  close(): Promise<void>;
}

export async function reportHarness(doc: AppDocument = salesApp()): Promise<ReportHarness> {
  const database = await openTestDatabase();
  const workspaceId = randomUUID();
  const userId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'reports' }).execute();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id: userId, email: `${userId}@example.com` }).execute();
  const actor: Actor = { workspaceId, userId, source: 'api' };
  const metadata = new MetadataRepository(database.db, { documentChecks: [checkReports] });
  await metadata.createApp(actor, { key: 'sales', draft: doc });
  await metadata.publish(actor, 'sales');
  const app = await metadata.getPublished(workspaceId, 'sales');
  const object = (key: string) => app.document.objects.find((o) => o.key === key)!;
  return {
    database,
    actor,
    app,
    policy: unrestrictedPolicy({ workspaceId, userId, isAdmin: true }),
    object,
    insert: async (objectKey, rows) => {
      const o = object(objectKey);
      const byKey = new Map<string, FieldDef>(o.fields.map((f) => [f.key, f]));
      const ids = rows.map(() => randomUUID());
      for (let i = 0; i < rows.length; i += 500) {
        await database.db
          .insertInto('records')
          .values(
            rows.slice(i, i + 500).map((row, k) => {
              const data: Record<string, unknown> = {};
              for (const [key, value] of Object.entries(row)) if (value !== null && value !== undefined) data[byKey.get(key)!.id!] = value;
              return { workspace_id: workspaceId, object_id: o.id!, id: ids[i + k]!, data: JSON.stringify(data) };
            }),
          )
          .execute();
      }
      return ids;
    },
    close: () => database.close(),
  };
}
