import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '@tessera/store';
import type { AppDocument, PublishedApp } from '@tessera/metadata';
import { checkReports, runReport, type ReportDef } from '../src/index';
import { reportHarness, salesApp, type ReportHarness } from './report-fixture';

// An encrypted field's stored value is ciphertext: a report grouping, summing or filtering
// by it would show or compare ciphertext, so it is refused, at publish and at run time.
const env = { now: new Date('2024-06-15T04:00:00.000Z'), timezone: 'Asia/Shanghai' };

function withEncryptedTitle<T extends AppDocument>(doc: T): T {
  const copy = structuredClone(doc);
  const title = copy.objects.find((o) => o.key === 'deal')!.fields.find((f) => f.key === 'title')!;
  title.encrypted = true;
  return copy;
}

describe('reports over encrypted fields', () => {
  let h: ReportHarness;
  let app: PublishedApp;
  beforeAll(async () => {
    h = await reportHarness();
    app = { ...h.app, document: withEncryptedTitle(h.app.document) };
  });
  afterAll(() => h?.close());

  const report = (extra: Partial<ReportDef>): ReportDef => ({ key: 'r', name: { en: 'R' }, kind: 'summary', object: 'deal', dimensions: [], measures: [{ key: 'n', aggregate: 'count' }], ...extra }) as ReportDef;

  it('publish refuses a report grouping or filtering by an encrypted field, naming where', () => {
    const doc = withEncryptedTitle(salesApp());
    doc.reports = [report({ dimensions: [{ field: 'title' }] }), report({ key: 'f', filter: { '==': [{ var: 'stage' }, 'won'] }, measures: [{ key: 'n', aggregate: 'countDistinct', field: 'title' }] })];
    const errors = checkReports(doc);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'reports/0/dimensions/0/field', code: 'encrypted_field' }),
        expect.objectContaining({ field: expect.stringMatching(/^reports\/1\/measures\/0/), code: 'encrypted_field' }),
      ]),
    );
  });

  it('a run whose extra filter (a dashboard filter, ?filter=) reads an encrypted field is refused, not answered from ciphertext', async () => {
    const problem = await refusal(runReport(h.database.db, app, report({}), { policy: h.policy, env, extraFilter: { '==': [{ var: 'title' }, 'secret'] } }));
    expect(problem.kind).toBe('bad_request');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'title', code: 'encrypted_field' })]);
    // the same report without it runs
    await expect(runReport(h.database.db, app, report({}), { policy: h.policy, env })).resolves.toMatchObject({ kind: 'summary' });
  });
});
