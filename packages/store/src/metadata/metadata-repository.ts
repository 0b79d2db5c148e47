import type { Kysely, Transaction } from 'kysely';
import { uuidv7 } from 'uuidv7';
import {
  KEY_PATTERN,
  ProblemError,
  prepareVersion,
  validateAppDocument,
  type AppDocument,
  type ChangePlan,
  type FieldError,
  type LocalizedText,
  type PublishedApp,
} from '@tessera/metadata';
import { checkAppExpressions } from '@tessera/expr';
import type { SystemDatabase } from '../db/schema';
import { isoString, sqlState, type Actor } from '../common/actor';
import { buildPendingIndexes, syncFieldIndexes } from '../indexes/index-manager';
import { appendAudit } from '../audit/audit-log';

export interface AppSummary {
  id: string;
  key: string;
  name: LocalizedText;
  currentVersion: number | null;
  latestVersion: number;
  draftUpdatedAt: string;
}

export interface VersionSummary {
  version: number;
  publishedAt: string;
  publishedBy: string | null;
  note: string;
  current: boolean;
  plan: ChangePlan;
}

const EMPTY_DRAFT: AppDocument = { objects: [] };

/**
 * Apps, their drafts and their immutable published versions. The running app is a
 * pointer (`current_version`) to one version; publishing appends a version and moves
 * the pointer, rollback only moves it. Published documents are cached by version,
 * which is safe because a version never changes.
 */
/** Checks one section of a structurally valid app document; paths are slash paths from the document root, e.g. `flows/0/nodes/2`. */
export type DocumentCheck = (doc: AppDocument) => FieldError[];

export class MetadataRepository {
  private readonly published = new Map<string, PublishedApp>();
  /** `workspace/appKey` -> the running version and until when (ms) it is trusted */
  private readonly running = new Map<string, { app: PublishedApp; until: number }>();
  private readonly pointerTtlMs: number;

  /**
   * `pointerTtlMs`: how long the running version of an app is trusted without reading
   * the app row again (0: always read). Every record request needs it; a publish or
   * rollback here takes effect at once, one by another process within this time.
   */
  private readonly documentChecks: readonly DocumentCheck[];

  /**
   * `documentChecks`: the checks of the sections other packages own (flows, reports,
   * roles), which this package cannot import; each runs after the structural and
   * expression checks on every save and publish.
   */
  constructor(
    private readonly db: Kysely<SystemDatabase>,
    options: { pointerTtlMs?: number; documentChecks?: readonly DocumentCheck[]; publishChecks?: readonly DocumentCheck[] } = {},
  ) {
    this.pointerTtlMs = options.pointerTtlMs ?? 1_000;
    this.documentChecks = options.documentChecks ?? [];
    this.publishChecks = options.publishChecks ?? [];
  }

  /** checks that only a publish must pass (e.g. an encrypted field needs a configured key); a draft may be saved without */
  private readonly publishChecks: readonly DocumentCheck[];

  private assertValidDraft(draft: unknown): asserts draft is AppDocument {
    assertValidDraft(draft, this.documentChecks);
  }

  async listApps(workspaceId: string): Promise<AppSummary[]> {
    const rows = await this.db.selectFrom('apps').selectAll().where('workspace_id', '=', workspaceId).orderBy('key').execute();
    return rows.map(toSummary);
  }

  async createApp(actor: Actor, input: { key: string; name?: LocalizedText; draft?: AppDocument }): Promise<AppSummary> {
    if (typeof input.key !== 'string' || !KEY_PATTERN.test(input.key)) {
      throw new ProblemError('unprocessable', 'Invalid app key', [
        { field: 'key', code: 'pattern', message: 'key must start with a lowercase letter and use only a-z, 0-9 and _' },
      ]);
    }
    const draft = input.draft ?? EMPTY_DRAFT;
    this.assertValidDraft(draft);
    try {
      const row = await this.db
        .insertInto('apps')
        .values({
          workspace_id: actor.workspaceId,
          id: uuidv7(),
          key: input.key,
          name: JSON.stringify(input.name ?? {}),
          draft: JSON.stringify(draft),
          draft_updated_by: actor.userId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAudit(this.db, actor, { action: 'app.create', targetType: 'app', targetId: input.key });
      return toSummary(row);
    } catch (e) {
      if (sqlState(e) === '23505') {
        throw new ProblemError('conflict', `An app with key "${input.key}" already exists`, [
          { field: 'key', code: 'duplicate', message: `app key "${input.key}" is taken` },
        ]);
      }
      throw e;
    }
  }

  async getApp(workspaceId: string, appKey: string): Promise<AppSummary> {
    return toSummary(await this.appRow(this.db, workspaceId, appKey));
  }

  async getDraft(workspaceId: string, appKey: string): Promise<AppDocument> {
    return (await this.appRow(this.db, workspaceId, appKey)).draft as AppDocument;
  }

  async saveDraft(actor: Actor, appKey: string, draft: unknown): Promise<AppDocument> {
    this.assertValidDraft(draft);
    const result = await this.db
      .updateTable('apps')
      .set({ draft: JSON.stringify(draft), draft_updated_at: new Date(), draft_updated_by: actor.userId })
      .where('workspace_id', '=', actor.workspaceId)
      .where('key', '=', appKey)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(appKey);
    await appendAudit(this.db, actor, { action: 'app.draft_save', targetType: 'app', targetId: appKey });
    return draft as AppDocument;
  }

  /**
   * Freezes the draft as the next version, in one transaction with the index changes
   * it implies (the app row is locked, so two publishers queue instead of racing).
   */
  async publish(actor: Actor, appKey: string, note = ''): Promise<VersionSummary> {
    let built: AppDocument | null = null;
    const result = await this.db.transaction().execute(async (trx) => {
      const app = await this.appRow(trx, actor.workspaceId, appKey, true);
      const previous = app.current_version == null ? null : await this.versionDocument(trx, actor.workspaceId, app.id, app.current_version);
      const draft = app.draft as AppDocument;
      assertValidDraft(draft, [...this.documentChecks, ...this.publishChecks]);
      const version = app.latest_version + 1;
      const { document, plan } = prepareVersion(previous, draft, version);
      await trx
        .insertInto('app_versions')
        .values({
          workspace_id: actor.workspaceId,
          app_id: app.id,
          version,
          document: JSON.stringify(document),
          change_plan: JSON.stringify(plan),
          note,
          published_by: actor.userId,
        })
        .execute();
      // The draft carries the ids from now on, so renames in the next edit keep them.
      await trx
        .updateTable('apps')
        .set({ current_version: version, latest_version: version, draft: JSON.stringify(document) })
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', app.id)
        .execute();
      await syncFieldIndexes(trx, actor.workspaceId, document);
      await appendAudit(trx, actor, { action: 'app.publish', targetType: 'app', targetId: appKey, details: { version, note, plan } });
      built = document;
      return { version, publishedAt: new Date().toISOString(), publishedBy: actor.userId, note, current: true, plan };
    });
    // after commit: this process serves the new version from the next request on
    this.running.delete(`${actor.workspaceId}/${appKey}`);
    if (built) await buildPendingIndexes(this.db, actor.workspaceId, built);
    return result;
  }

  async getPublished(workspaceId: string, appKey: string, version?: number): Promise<PublishedApp> {
    if (version !== undefined) return this.loadPublished(workspaceId, appKey, version);
    const pointerKey = `${workspaceId}/${appKey}`;
    const running = this.running.get(pointerKey);
    if (running && running.until > Date.now()) return running.app;
    const app = await this.loadPublished(workspaceId, appKey);
    if (this.pointerTtlMs > 0) this.running.set(pointerKey, { app, until: Date.now() + this.pointerTtlMs });
    return app;
  }

  private async loadPublished(workspaceId: string, appKey: string, version?: number): Promise<PublishedApp> {
    const app = await this.appRow(this.db, workspaceId, appKey);
    const wanted = version ?? app.current_version;
    if (wanted == null) throw new ProblemError('not_found', `App "${appKey}" has no published version yet`);
    const cacheKey = `${workspaceId}/${app.id}/${wanted}`;
    const cached = this.published.get(cacheKey);
    if (cached) return cached;
    const document = await this.versionDocument(this.db, workspaceId, app.id, wanted);
    const published: PublishedApp = { appId: app.id, appKey: app.key, version: wanted, document };
    this.published.set(cacheKey, published);
    return published;
  }

  async listVersions(workspaceId: string, appKey: string): Promise<VersionSummary[]> {
    const app = await this.appRow(this.db, workspaceId, appKey);
    const rows = await this.db
      .selectFrom('app_versions')
      .select(['version', 'published_at', 'published_by', 'note', 'change_plan'])
      .where('workspace_id', '=', workspaceId)
      .where('app_id', '=', app.id)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => ({
      version: r.version,
      publishedAt: isoString(r.published_at) ?? '',
      publishedBy: r.published_by,
      note: r.note,
      current: r.version === app.current_version,
      plan: r.change_plan as ChangePlan,
    }));
  }

  /**
   * Points the app at an earlier version. Data is untouched: fields the old version
   * lacks were only soft-removed, so rolling forward again finds their values.
   */
  async rollback(actor: Actor, appKey: string, version: number): Promise<VersionSummary> {
    let built: AppDocument | null = null;
    if (!Number.isInteger(version) || version < 1) {
      throw new ProblemError('bad_request', 'Invalid version', [{ field: 'version', code: 'type', message: 'version must be a positive integer' }]);
    }
    const result = await this.db.transaction().execute(async (trx) => {
      const app = await this.appRow(trx, actor.workspaceId, appKey, true);
      const row = await trx
        .selectFrom('app_versions')
        .selectAll()
        .where('workspace_id', '=', actor.workspaceId)
        .where('app_id', '=', app.id)
        .where('version', '=', version)
        .executeTakeFirst();
      if (!row) {
        throw new ProblemError('not_found', `App "${appKey}" has no version ${version}`, [
          { field: 'version', code: 'not_found', message: `version ${version} does not exist` },
        ]);
      }
      await trx
        .updateTable('apps')
        .set({ current_version: version })
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', app.id)
        .execute();
      await syncFieldIndexes(trx, actor.workspaceId, row.document as AppDocument);
      await appendAudit(trx, actor, {
        action: 'app.rollback',
        targetType: 'app',
        targetId: appKey,
        details: { from: app.current_version, to: version, plan: row.change_plan },
      });
      built = row.document as AppDocument;
      return {
        version,
        publishedAt: isoString(row.published_at) ?? '',
        publishedBy: row.published_by,
        note: row.note,
        current: true,
        plan: row.change_plan as ChangePlan,
      };
    });
    // after commit: this process serves the new version from the next request on
    this.running.delete(`${actor.workspaceId}/${appKey}`);
    if (built) await buildPendingIndexes(this.db, actor.workspaceId, built);
    return result;
  }

  private async appRow(db: Kysely<SystemDatabase> | Transaction<SystemDatabase>, workspaceId: string, appKey: string, lock = false) {
    let query = db.selectFrom('apps').selectAll().where('workspace_id', '=', workspaceId).where('key', '=', appKey);
    if (lock) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) throw notFound(appKey);
    return row;
  }

  private async versionDocument(db: Kysely<SystemDatabase>, workspaceId: string, appId: string, version: number): Promise<AppDocument> {
    const row = await db
      .selectFrom('app_versions')
      .select('document')
      .where('workspace_id', '=', workspaceId)
      .where('app_id', '=', appId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!row) throw new ProblemError('not_found', `Version ${version} not found`);
    return row.document as AppDocument;
  }
}

/**
 * A draft is saved or published only if its structure is valid and every expression in it
 * type-checks against the fields it names, so deleting or retyping a field that a formula
 * reads is refused with the path of each broken expression, next to the structural errors.
 */
function assertValidDraft(draft: unknown, checks: readonly DocumentCheck[]): asserts draft is AppDocument {
  const errors = validateAppDocument(draft);
  const seen = new Set(errors.map((e) => `${e.field} ${e.code}`));
  for (const e of expressionErrors(draft, errors.length > 0)) if (!seen.has(`${e.field} ${e.code}`)) errors.push(e);
  if (errors.length === 0) for (const check of checks) errors.push(...check(draft as AppDocument));
  if (errors.length > 0) throw new ProblemError('unprocessable', 'The app document is invalid', errors);
}

/** The expression checker assumes a document of the right shape; a shapeless one has only structural errors. */
function expressionErrors(draft: unknown, misshapen: boolean): FieldError[] {
  if (typeof draft !== 'object' || draft === null || !Array.isArray((draft as AppDocument).objects)) return [];
  try {
    return checkAppExpressions(draft as AppDocument);
  } catch (e) {
    if (misshapen) return [];
    throw e;
  }
}

function notFound(appKey: string): ProblemError {
  return new ProblemError('not_found', `App "${appKey}" not found`);
}

function toSummary(row: {
  id: string;
  key: string;
  name: unknown;
  current_version: number | null;
  latest_version: number;
  draft_updated_at: Date | string;
}): AppSummary {
  return {
    id: row.id,
    key: row.key,
    name: (row.name ?? {}) as LocalizedText,
    currentVersion: row.current_version,
    latestVersion: row.latest_version,
    draftUpdatedAt: isoString(row.draft_updated_at) ?? '',
  };
}

