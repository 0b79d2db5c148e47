import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import ExcelJS from 'exceljs';
import { TokenRepository, UserRepository } from '@tessera/store';
import { crmDraft, expectProblem, publishApp, startHarness, type Harness } from './harness';

const ACTIONS = { create: true, read: true, update: true, delete: false, import: false } as const;

const label = (en: string, zh: string) => ({ en, zh });

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await publishApp(h, 'crm', {
    ...crmDraft(),
    roles: [
      { key: 'rep', name: { en: 'Rep' }, objects: { deal: { ...ACTIONS, export: false, scope: 'own' } } },
      { key: 'exporter', name: { en: 'Exporter' }, objects: { deal: { ...ACTIONS, export: true, scope: 'own' } } },
    ],
    reports: [
      {
        key: 'pipeline',
        name: label('Pipeline', '销售管道'),
        kind: 'summary',
        object: 'deal',
        dimensions: [{ field: 'stage' }],
        measures: [
          { key: 'n', aggregate: 'count', label: label('Deals', '交易数') },
          { key: 'total', aggregate: 'sum', field: 'amount', label: label('Amount', '金额') },
        ],
        totals: true,
      },
      {
        key: 'titles',
        name: label('Deals "quoted"', '交易 列表'),
        kind: 'summary',
        object: 'deal',
        dimensions: [{ field: 'title' }],
        measures: [{ key: 'n', aggregate: 'count' }],
      },
    ],
  });
  for (const [title, stage, amount] of [
    ['=1+2', 'new', '100.00'],
    ['合同B', 'won', '250.50'],
    ['C', 'won', '-49.50'],
  ] as const) {
    const res = await h.call('POST', '/api/apps/crm/records/deal', { title, stage, amount });
    if (res.statusCode !== 201) throw new Error(res.body);
  }
}, 120_000);
afterAll(() => h?.close());

describe('GET /api/apps/:app/reports/:report/export', () => {
  it('CSV: BOM, header in the request’s locale, values, total row; a Chinese file name as RFC 5987 filename*', async () => {
    const res = await h.call('GET', '/api/apps/crm/reports/pipeline/export?format=csv&locale=zh');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="pipeline.csv"; filename*=UTF-8''${encodeURIComponent('销售管道.csv')}`);
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = Papa.parse<string[]>(res.body.replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data;
    expect(rows).toEqual([
      ['阶段', '交易数', '金额'],
      ['新建', '1', '100.00'],
      ['赢单', '2', '201.00'],
      ['合计', '3', '301.00'],
    ]);
  });

  it('CSV follows Accept-Language when no locale is asked for, and neutralizes formula-looking text', async () => {
    const res = await h.call('GET', '/api/apps/crm/reports/titles/export?format=csv', undefined, { 'accept-language': 'en-US,en;q=0.9' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="Deals _quoted_.csv"; filename*=UTF-8''Deals%20%22quoted%22.csv`);
    const rows = Papa.parse<string[]>(res.body.replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data;
    expect(rows[0]![0]).toBe('Title');
    expect(rows.slice(1).map((r) => r[0]).sort()).toEqual(["'=1+2", 'C', '合同B']);
  });

  it('XLSX: a workbook whose cells are typed like the result', async () => {
    const res = await h.call('GET', '/api/apps/crm/reports/pipeline/export?format=xlsx&locale=en');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="Pipeline.xlsx"; filename*=UTF-8''Pipeline.xlsx`);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('Pipeline');
    const values = [1, 2, 3, 4].map((r) => [1, 2, 3].map((c) => sheet.getRow(r).getCell(c).value));
    expect(values).toEqual([
      ['Stage', 'Deals', 'Amount'],
      ['New', 1, 100],
      ['Won', 2, 201],
      ['Total', 3, 301],
    ]);
    expect(sheet.getRow(2).getCell(3).numFmt).toContain('¥');
    expect(sheet.getRow(4).font?.bold).toBe(true);
  });

  it('exports as the caller: no export permission is a 403; with it, only the records their scope shows', async () => {
    const signIn = async (email: string, role: string) => {
      const user = await new UserRepository(h.database.db).create(h.workspaceId, { email, name: email, passwordHash: 'x' });
      const { token } = await new TokenRepository(h.database.db).issue(h.workspaceId, user.id, { kind: 'api', name: 'test' });
      expect((await h.call('PUT', `/api/apps/crm/users/${user.id}/roles/${role}`)).statusCode).toBe(200);
      return (url: string, body?: unknown) =>
        h.app.inject({ method: body === undefined ? 'GET' : 'POST', url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
    };
    const rep = await signIn('rep@example.com', 'rep');
    const forbidden = await rep('/api/apps/crm/reports/pipeline/export?format=csv');
    expect(expectProblem(forbidden).status).toBe(403);
    const exporter = await signIn('exporter@example.com', 'exporter');
    expect((await exporter('/api/apps/crm/records/deal', { title: 'Own', stage: 'new', amount: '7.00' })).statusCode).toBe(201);
    const own = await exporter('/api/apps/crm/reports/pipeline/export?format=csv&locale=en');
    expect(own.statusCode, own.body).toBe(200);
    expect(Papa.parse<string[]>(own.body.replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data).toEqual([
      ['Stage', 'Deals', 'Amount'],
      ['New', '1', '7.00'],
      ['Total', '1', '7.00'],
    ]);
  });

  it('refuses a missing or unknown format, an unknown report and an unknown app as problem documents', async () => {
    const missing = await h.call('GET', '/api/apps/crm/reports/pipeline/export');
    expect(missing.statusCode).toBe(400);
    expect(expectProblem(missing).errors.map((e) => e.field)).toContain('format');
    const pdf = await h.call('GET', '/api/apps/crm/reports/pipeline/export?format=pdf');
    expect(expectProblem(pdf).errors.map((e) => e.field)).toContain('format');
    const report = await h.call('GET', '/api/apps/crm/reports/nope/export?format=csv');
    expect(report.statusCode).toBe(404);
    expectProblem(report);
    const app = await h.call('GET', '/api/apps/nope/reports/pipeline/export?format=csv');
    expect(app.statusCode).toBe(404);
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/apps/crm/reports/pipeline/export?format=csv' });
    expect(anonymous.statusCode).toBe(401);
  });
});
