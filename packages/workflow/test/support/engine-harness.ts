import { randomUUID } from 'node:crypto';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import { ruleEngineFor } from '@tessera/rules';
import { MetadataRepository, RecordRepository, composeWriteHooks, openTestDatabase, type Actor, type Database } from '@tessera/store';
import { WorkflowEngine, type FlowDef, type WorkflowEngineOptions } from '../../src/index';
import type { EffectRequest, EffectResult, EffectTransports } from '../../src/effects/index';

/** A transport that records every send and answers as `respond` says (default: ok, echoing the body). */
export class RecordingTransports implements EffectTransports {
  readonly sent: Array<{ request: EffectRequest; key: string }> = [];
  respond: (request: EffectRequest, key: string, attempt: number) => EffectResult = (request) => ({ ok: true, result: request.kind === 'http' ? { echo: request.body ?? null } : { sent: true } });

  async http(request: Extract<EffectRequest, { kind: 'http' }>, key: string): Promise<EffectResult> {
    return this.send(request, key);
  }
  async email(request: Extract<EffectRequest, { kind: 'email' }>, key: string): Promise<EffectResult> {
    return this.send(request, key);
  }
  private send(request: EffectRequest, key: string): EffectResult {
    this.sent.push({ request, key });
    return this.respond(request, key, this.sent.filter((s) => s.key === key).length);
  }
}

export interface FlowHarness {
  database: Database;
  workspaceId: string;
  /** the admin who publishes and starts */
  admin: Actor;
  /** extra enabled users, by name */
  users: Record<string, string>;
  as(userId: string): Actor;
  metadata: MetadataRepository;
  engine: WorkflowEngine;
  transports: RecordingTransports;
  /** the engine's clock */
  now: Date;
  advance(ms: number): void;
  /** publishes `doc` (or a new version of it) and returns the running version */
  publish(doc: AppDocument): Promise<PublishedApp>;
  /** a record repository with the app's rules and the engine's record triggers */
  records(): Promise<RecordRepository>;
  /** runs every due job, until none is left */
  drain(): Promise<number>;
  /** a second engine on the same database (another worker) */
  engineWith(options: Partial<WorkflowEngineOptions>): WorkflowEngine;
  close(): Promise<void>;
}

export const T0 = new Date('2026-03-02T01:00:00.000Z');

export async function openFlowHarness(userNames: string[] = ['alice', 'bob', 'carol', 'dave']): Promise<FlowHarness> {
  const database = await openTestDatabase();
  const workspaceId = randomUUID();
  const adminId = randomUUID();
  await database.db.insertInto('workspaces').values({ workspace_id: workspaceId, name: 'flows' }).execute();
  await database.db.insertInto('users').values({ workspace_id: workspaceId, id: adminId, email: `admin-${adminId}@example.com`, is_admin: true }).execute();
  const users: Record<string, string> = {};
  for (const name of userNames) {
    users[name] = randomUUID();
    await database.db.insertInto('users').values({ workspace_id: workspaceId, id: users[name]!, email: `${name}-${users[name]}@example.com`, name }).execute();
  }
  const admin: Actor = { workspaceId, userId: adminId, source: 'api' };
  const metadata = new MetadataRepository(database.db, { pointerTtlMs: 0 });
  const transports = new RecordingTransports();
  const clock = { now: new Date(T0) };
  const base: WorkflowEngineOptions = { metadata, transports, clock: () => clock.now, workerId: 'test-worker' };
  const engine = new WorkflowEngine(database.db, base);
  let appKey: string | null = null;
  const h: FlowHarness = {
    database,
    workspaceId,
    admin,
    users,
    as: (userId) => ({ workspaceId, userId, source: 'api' }),
    metadata,
    engine,
    transports,
    get now() {
      return clock.now;
    },
    advance: (ms) => {
      clock.now = new Date(clock.now.getTime() + ms);
    },
    publish: async (doc) => {
      if (appKey === null) {
        appKey = 'app';
        await metadata.createApp(admin, { key: appKey, draft: doc });
      } else {
        await metadata.saveDraft(admin, appKey, doc);
      }
      await metadata.publish(admin, appKey);
      return metadata.getPublished(workspaceId, appKey);
    },
    records: async () => {
      const app = await metadata.getPublished(workspaceId, appKey!);
      return new RecordRepository(database.db, app, { hooks: composeWriteHooks(ruleEngineFor(app), engine.writeHooksFor(app)), startFlow: engine.flowStarterFor(app) });
    },
    drain: async () => {
      let total = 0;
      for (;;) {
        const n = await engine.drain();
        total += n;
        if (n === 0) return total;
      }
    },
    engineWith: (options) => new WorkflowEngine(database.db, { ...base, ...options }),
    close: () => database.close(),
  };
  return h;
}

/** an app with a `deal` object and the given flows */
export function dealApp(flows: FlowDef[], extra: Partial<AppDocument> = {}): AppDocument {
  return {
    objects: [
      {
        key: 'deal',
        label: { en: 'Deal' },
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title' } },
          { key: 'amount', type: 'number', label: { en: 'Amount' } },
          { key: 'stage', type: 'text', label: { en: 'Stage' } },
          { key: 'approver', type: 'user', label: { en: 'Approver' } },
          { key: 'close_date', type: 'date', label: { en: 'Close date' } },
          { key: 'notes', type: 'text', label: { en: 'Notes' } },
        ],
      },
      { key: 'note', label: { en: 'Note' }, fields: [{ key: 'text', type: 'text', label: { en: 'Text' } }] },
    ],
    flows,
    ...extra,
  };
}

/** nodes and edges from a compact list: edges as [source, target, extra?] */
export function flow(key: string, nodes: FlowDef['nodes'], edges: Array<[string, string, Partial<FlowDef['edges'][number]>?]>, extra: Partial<FlowDef> = {}): FlowDef {
  return {
    key,
    name: { en: key },
    object: 'deal',
    nodes,
    edges: edges.map(([source, target, more], i) => ({ id: more?.id ?? `e${i + 1}_${source}_${target}`, source, target, ...more })),
    ...extra,
  };
}

export const start = (trigger: FlowDef['nodes'][number] extends infer N ? (N extends { type: 'startEvent'; trigger: infer T } ? T : never) : never = { type: 'api' }) =>
  ({ id: 'start', type: 'startEvent', trigger }) as const;
export const end = (id = 'end', more: { result?: string; terminate?: boolean } = {}) => ({ id, type: 'endEvent', ...more }) as const;
