import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mergeRecords, type ApiRecord, type MergeChoices } from '@tessera/store';
import { RuleEngine } from '../src/index';
import { publishRules, type RulesHarness } from './fixture';
import { crmWithRules } from './crm-rules';

interface DealSpec {
  cents: number | null;
  stage: 'new' | 'won' | 'lost';
  deleted: boolean;
}

const dealSpec = fc.record({
  cents: fc.option(fc.integer({ min: 0, max: 90_000_000 }), { nil: null }),
  stage: fc.constantFrom('new' as const, 'won' as const, 'lost' as const),
  deleted: fc.boolean(),
});

const side = fc.record({
  industry: fc.option(fc.constantFrom('制造', 'Software', '零售'), { nil: null }),
  deals: fc.array(dealSpec, { maxLength: 4 }),
});

/** The company's rollups as the crm fixture defines them, computed here from what was written. */
function expectedRollups(deals: DealSpec[]) {
  const live = deals.filter((d) => !d.deleted);
  const cents = live.flatMap((d) => (d.cents === null ? [] : [d.cents]));
  const won = live.flatMap((d) => (d.cents === null || d.stage !== 'won' ? [] : [d.cents]));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / 100;
  return { deal_count: live.length, pipeline: sum(cents), won_total: sum(won), largest: cents.length > 0 ? Math.max(...cents) / 100 : undefined };
}

const rollupsOf = (c: ApiRecord) => ({ deal_count: c.deal_count, pipeline: c.pipeline, won_total: c.won_total, largest: c.largest });

describe('merging records runs the rules', () => {
  let h: RulesHarness;
  beforeAll(async () => {
    h = await publishRules(crmWithRules());
  });
  afterAll(async () => h?.close());

  async function company(name: string, industry: string | null, deals: DealSpec[]): Promise<{ company: ApiRecord; deals: string[] }> {
    const repo = h.records();
    const created = await repo.create(h.actor, 'company', { name, ...(industry ? { industry } : {}) });
    const ids: string[] = [];
    for (const [i, d] of deals.entries()) {
      // as a system write: the deal form's rules (a won deal needs a discount) are not what this test is about
      const deal = await repo.create(h.as('system'), 'deal', {
        title: `${name}-${i}`,
        stage: d.stage,
        company: created.id,
        ...(d.cents === null ? {} : { amount: (d.cents / 100).toFixed(2) }),
      });
      if (d.deleted) await repo.delete(h.actor, 'deal', deal.id);
      ids.push(deal.id);
    }
    return { company: await repo.get(h.actor.workspaceId, 'company', created.id), deals: ids };
  }

  it("the survivor's rollups count every deal it absorbed and the re-pointed deals' formulas read the survivor", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(side, side, fc.constantFrom('survivor' as const, 'merged' as const, undefined), async (a, b, industryChoice) => {
        run++;
        const survivor = await company(`S${run}`, a.industry, a.deals);
        const merged = await company(`M${run}`, b.industry, b.deals);
        expect(rollupsOf(survivor.company)).toEqual(expectedRollups(a.deals));

        const choices: MergeChoices = industryChoice ? { industry: industryChoice } : {};
        const result = await h.records().merge(h.actor, 'company', survivor.company.id, merged.company.id, choices);

        const industry = industryChoice === 'merged' ? b.industry : industryChoice === 'survivor' ? a.industry : (a.industry ?? b.industry);
        const want = { ...expectedRollups([...a.deals, ...b.deals]), industry: industry ?? undefined };
        const stored = await h.records().get(h.actor.workspaceId, 'company', survivor.company.id);
        expect(stored).toEqual(result);
        expect({ ...rollupsOf(stored), industry: stored.industry }).toEqual(want);

        const all = [...survivor.deals.map((id, i) => [id, a.deals[i]!] as const), ...merged.deals.map((id, i) => [id, b.deals[i]!] as const)];
        for (const [id, spec] of all) {
          if (spec.deleted) continue;
          const deal = await h.records().get(h.actor.workspaceId, 'deal', id);
          expect(deal.company).toBe(survivor.company.id);
          expect(deal.industry).toBe(industry ?? undefined);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the exported mergeRecords runs the hooks it is given, and both histories carry the $merge notes', async () => {
    const survivor = await company('Hooks S', 'Retail', [{ cents: 100_00, stage: 'won', deleted: false }]);
    const merged = await company('Hooks M', 'Software', [
      { cents: 250_00, stage: 'new', deleted: false },
      { cents: 5_00, stage: 'won', deleted: true },
    ]);
    const result = await mergeRecords(h.database.db, h.app, h.actor, 'company', survivor.company.id, merged.company.id, { industry: 'merged' }, { hooks: new RuleEngine(h.app) });
    expect(result).toMatchObject({ industry: 'Software', deal_count: 2, pipeline: 350, won_total: 100, largest: 250 });

    const history = (id: string) =>
      h.database.db.selectFrom('record_history').select(['action', 'source', 'changes']).where('record_id', '=', id).orderBy('version').execute();
    expect((await history(merged.company.id)).at(-1)).toMatchObject({ action: 'delete', changes: { $merge: { merged_into: survivor.company.id } } });
    expect(await history(survivor.company.id)).toContainEqual(expect.objectContaining({ action: 'update', changes: expect.objectContaining({ $merge: { absorbed: merged.company.id } }) }));
    const moved = (await history(merged.deals[0]!)).at(-1)!;
    expect(moved).toMatchObject({ action: 'update', source: 'system', changes: expect.objectContaining({ $merge: { merged: merged.company.id, into: survivor.company.id } }) });
    // the deleted deal is re-pointed too, so restoring it later counts it on the survivor
    await h.records().restore(h.actor, 'deal', merged.deals[1]!);
    expect(await h.records().get(h.actor.workspaceId, 'company', survivor.company.id)).toMatchObject({ deal_count: 3, pipeline: 355, won_total: 105 });
  });
});
