import { describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020';
import { MetadataRepository, refusal } from '@tessera/store';
import { checkReports, reportSchema, type ReportDef } from '../src/index';
import { reportHarness, salesApp } from './report-fixture';

/** Every property of every report type set at least once: the schema must accept it. */
const fullyPopulated: ReportDef[] = [
  {
    key: 'pipeline',
    name: { en: 'Pipeline', zh: '管道' },
    description: { en: 'Open deals', zh: '未结交易' },
    kind: 'pivot',
    object: 'deal',
    filter: { '!=': [{ var: 'stage' }, 'lost'] },
    dimensions: [
      { key: 'industry', field: 'company.industry', label: { en: 'Industry' } },
      { field: 'close_date', bucket: 'quarter' },
      { field: 'qty', bins: { size: 10, start: 0 } },
    ],
    measures: [{ key: 'total', aggregate: 'sum', field: 'amount', filter: { '==': [{ var: 'hot' }, true] }, label: { zh: '金额' } }],
    sort: [{ key: 'total', direction: 'desc' }],
    limit: 50,
    totals: true,
    subtotals: false,
    pivot: { columns: 1 },
  },
  { key: 'f', name: { en: 'F' }, kind: 'funnel', object: 'deal', funnel: { stageField: 'stage', measure: 'count', stages: ['lead', 'won'], cumulative: true } },
  { key: 't', name: { en: 'T' }, kind: 'timeseries', object: 'deal', timeseries: { dateField: 'closed_at', bucket: 'month', compare: 'yoy' } },
  { key: 'k', name: { en: 'K' }, kind: 'kpi', object: 'deal', measures: [{ key: 'n', aggregate: 'count' }], kpi: { measure: 'n', target: 10 } },
  {
    key: 'fc',
    name: { en: 'FC' },
    kind: 'forecast',
    object: 'deal',
    forecast: { amountField: 'amount', stageField: 'stage', probabilities: { lead: 0.1 }, closeDateField: 'close_date', bucket: 'month' },
  },
  { key: 'fc2', name: { en: 'FC2' }, kind: 'forecast', object: 'deal', forecast: { amountField: 'amount', stageField: 'stage', probabilityField: 'probability', closeDateField: 'close_date', bucket: 'quarter' } },
  { key: 'tb', name: { en: 'TB' }, kind: 'table', object: 'deal', columns: ['title', 'company.name'], sort: [{ key: 'company.name' }] },
];

describe('report model', () => {
  it('a fully populated definition of every kind validates against the JSON Schema and the checks', () => {
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(reportSchema);
    for (const report of fullyPopulated) expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    // the fixture's field ids are not assigned yet; the checks work on keys
    expect(checkReports({ ...salesApp(), reports: fullyPopulated })).toEqual([]);
  });

  it('names each problem by its path under reports/<i>', () => {
    const errors = checkReports({
      ...salesApp(),
      reports: [
        fullyPopulated[0],
        { ...fullyPopulated[0], kind: 'summary', dimensions: [{ field: 'company.nope' }], measures: [{ key: 'x', aggregate: 'avg', field: 'title' }] },
        { key: 'f2', name: { en: 'F' }, kind: 'funnel', object: 'deal', funnel: { stageField: 'title', stages: ['x'] } },
        { key: 'bad', name: {}, kind: 'pie', object: 'deal' },
        { key: 'tt', name: { en: 'T' }, kind: 'timeseries', object: 'deal', filter: { '>': [{ var: 'title' }, 1] }, timeseries: { dateField: 'amount', bucket: 'month' } },
        { key: 'fc', name: { en: 'F' }, kind: 'forecast', object: 'deal', forecast: { amountField: 'amount', stageField: 'stage', closeDateField: 'close_date', bucket: 'month', probabilities: { nope: 0.5 } } },
      ],
    });
    const paths = errors.map((e) => `${e.field} ${e.code}`);
    expect(paths).toContain('reports/1/key duplicate');
    expect(paths).toContain('reports/1/dimensions/0/field unknown_field');
    expect(paths).toContain('reports/1/measures/0/field type');
    expect(paths).toContain('reports/2/funnel/stageField type');
    expect(paths).toContain('reports/3/name minProperties');
    expect(paths).toContain('reports/3/kind enum');
    expect(paths.some((p) => p.startsWith('reports/4/filter'))).toBe(true);
    expect(paths).toContain('reports/4/timeseries/dateField type');
    expect(paths).toContain('reports/5/forecast/probabilities/nope enum');
  });

  it('publish refuses a draft whose report reads a deleted field', async () => {
    const h = await reportHarness({ ...salesApp(), reports: [fullyPopulated[0]] });
    try {
      const metadata = new MetadataRepository(h.database.db, { documentChecks: [checkReports] });
      const draft = await metadata.getDraft(h.actor.workspaceId, 'sales');
      const deal = draft.objects.find((o) => o.key === 'deal')!;
      deal.fields = deal.fields.map((f) => (f.key === 'amount' ? { ...f, deleted: true } : f));
      const refused = await refusal(metadata.saveDraft(h.actor, 'sales', draft));
      expect(refused.errors.map((e) => e.field)).toContain('reports/0/measures/0/field');
    } finally {
      await h.close();
    }
  });
});
