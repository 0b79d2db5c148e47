import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Papa from 'papaparse';
import ExcelJS from 'exceljs';
import { reportToCsv, reportToXlsx, type ReportColumn, type ReportResult } from '../src/index';

const owner: ReportColumn = { key: 'owner', label: '负责人', role: 'dimension', type: 'text' };
const stage: ReportColumn = {
  key: 'stage',
  label: '阶段',
  role: 'dimension',
  type: 'text',
  options: [
    { value: 'new', label: '新建' },
    { value: 'won', label: '赢单' },
  ],
};
const month: ReportColumn = { key: 'month', label: '月份', role: 'dimension', type: 'date', bucket: 'month' };
const count: ReportColumn = { key: 'n', label: '数量', role: 'measure', type: 'number' };
const amount: ReportColumn = { key: 'amount', label: '金额', role: 'measure', type: 'money', currency: 'CNY' };
const share: ReportColumn = { key: 'share', label: '转化率', role: 'rate', type: 'number' };

const result: ReportResult = {
  kind: 'summary',
  columns: [owner, stage, month, count, amount, share],
  rows: [
    { values: { owner: '张三', stage: 'won', month: '2026-03-01', n: 2, amount: '1500.50', share: 0.5 }, drill: {} },
    { values: { owner: '=HYPERLINK("http://evil")', stage: 'new', month: '2026-01-01', n: 1, amount: '-20.00', share: null }, drill: {} },
    { values: { owner: '张三', stage: null, month: null, n: 3, amount: '1480.50', share: null }, drill: {}, subtotal: { level: 1 } },
  ],
  totals: { values: { n: 3, amount: '1480.50' }, drill: {} },
};

describe('reportToCsv', () => {
  it('starts with a BOM, has the localized header, readable values and captioned roll-ups, and reads back to the result', () => {
    const csv = reportToCsv(result, { locale: 'zh' });
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const parsed = Papa.parse<string[]>(csv.slice(1), { skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toEqual([
      ['负责人', '阶段', '月份', '数量', '金额', '转化率'],
      ['张三', '赢单', '2026年3月', '2', '1500.50', '0.5'],
      [`'=HYPERLINK("http://evil")`, '新建', '2026年1月', '1', '-20.00', ''],
      ['张三', '小计', '', '3', '1480.50', ''],
      ['合计', '', '', '3', '1480.50', ''],
    ]);
  });

  it('English labels follow the locale', () => {
    const rows = Papa.parse<string[]>(reportToCsv(result, { locale: 'en' }).slice(1), { skipEmptyLines: true }).data;
    expect(rows[1]!.slice(0, 3)).toEqual(['张三', '赢单', 'Mar 2026']);
    expect(rows[4]![0]).toBe('Total');
  });

  it('no text cell can start a formula, and every text reads back as written (property)', () => {
    const text: ReportColumn = { key: 't', label: 'T', role: 'dimension', type: 'text' };
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 20 }), (values) => {
        const csv = reportToCsv({ kind: 'summary', columns: [text, count], rows: values.map((t, i) => ({ values: { t, n: i }, drill: {} })) });
        const rows = Papa.parse<string[]>(csv.slice(1)).data.slice(1, values.length + 1);
        rows.forEach((row, i) => {
          const original = values[i]!;
          expect(row[0]).toBe(/^[=+\-@\t\r]/.test(original) ? `'${original}` : original);
          expect(row[1]).toBe(String(i));
        });
      }),
    );
  });
});

describe('datetimes', () => {
  const closedAt: ReportColumn = { key: 'closed_at', label: 'Closed at', role: 'field', type: 'datetime' };
  const day: ReportColumn = { key: 'day', label: 'Day', role: 'field', type: 'date' };
  // 2026-03-31T16:30Z is already April 1st, 00:30 in Shanghai
  const table: ReportResult = { kind: 'table', columns: [closedAt, day], rows: [{ values: { closed_at: '2026-03-31T16:30:00.000Z', day: '2026-03-31' }, drill: {} }] };

  it('are the wall clock of the viewer’s zone in CSV and XLSX (a spreadsheet has no zones); dates never shift', async () => {
    const rows = Papa.parse<string[]>(reportToCsv(table).slice(1), { skipEmptyLines: true }).data;
    expect(rows[1]).toEqual(['2026-04-01 00:30', '2026-03-31']);
    const utc = Papa.parse<string[]>(reportToCsv(table, { timezone: 'UTC' }).slice(1), { skipEmptyLines: true }).data;
    expect(utc[1]![0]).toBe('2026-03-31 16:30');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await reportToXlsx(table)) as unknown as ArrayBuffer);
    const row = workbook.worksheets[0]!.getRow(2);
    expect(row.getCell(1).value).toEqual(new Date('2026-04-01T00:30:00.000Z'));
    expect(row.getCell(1).numFmt).toBe('yyyy-mm-dd hh:mm');
    expect(row.getCell(2).value).toEqual(new Date('2026-03-31T00:00:00.000Z'));
  });
});

describe('reportToXlsx', () => {
  it('writes typed cells (numbers, money with its currency format, dates, percentages), a bold header and bold roll-ups', async () => {
    const buffer = await reportToXlsx(result, { locale: 'zh', sheetName: '销售/漏斗' });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('销售 漏斗');
    expect(sheet.rowCount).toBe(5);
    const header = sheet.getRow(1);
    expect([1, 2, 3, 4, 5, 6].map((c) => header.getCell(c).value)).toEqual(['负责人', '阶段', '月份', '数量', '金额', '转化率']);
    expect(header.font?.bold).toBe(true);

    const first = sheet.getRow(2);
    expect(first.getCell(1).value).toBe('张三');
    expect(first.getCell(2).value).toBe('赢单');
    expect(first.getCell(3).value).toEqual(new Date('2026-03-01T00:00:00Z'));
    expect(first.getCell(3).numFmt).toBe('yyyy-mm');
    expect(first.getCell(4).value).toBe(2);
    expect(first.getCell(5).value).toBe(1500.5);
    expect(first.getCell(5).numFmt).toContain('¥');
    expect(first.getCell(6).value).toBe(0.5);
    expect(first.getCell(6).numFmt).toBe('0.0%');
    expect(first.font?.bold).toBeFalsy();

    expect(sheet.getRow(3).getCell(5).value).toBe(-20);
    expect(sheet.getRow(3).getCell(6).value).toBeNull();
    const subtotal = sheet.getRow(4);
    expect(subtotal.getCell(2).value).toBe('小计');
    expect(subtotal.font?.bold).toBe(true);
    const total = sheet.getRow(5);
    expect([total.getCell(1).value, total.getCell(4).value, total.getCell(5).value]).toEqual(['合计', 3, 1480.5]);
    expect(total.font?.bold).toBe(true);
  });

  it('every number of a random result reads back equal (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 99 })), { minLength: 1, maxLength: 30 }),
        async (pairs) => {
          const rows = pairs.map(([whole, cents], i) => ({ values: { owner: `u${i}`, n: i, amount: `${whole}.${String(cents).padStart(2, '0')}` }, drill: {} }));
          const buffer = await reportToXlsx({ kind: 'summary', columns: [owner, count, amount], rows });
          const workbook = new ExcelJS.Workbook();
          await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
          const sheet = workbook.worksheets[0]!;
          rows.forEach((row, i) => {
            expect(sheet.getRow(i + 2).getCell(2).value).toBe(i);
            expect(sheet.getRow(i + 2).getCell(3).value).toBe(Number(row.values.amount));
          });
        },
      ),
      { numRuns: 20 },
    );
  });
});
