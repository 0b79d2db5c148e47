import type { Locale } from '@tessera/metadata';

/** Labels of the columns the engine derives (rates, changes, targets), per UI language. */
const WORDS = {
  reached: { en: 'reached', zh: '到达' },
  conversion: { en: 'Conversion', zh: '转化率' },
  overall: { en: 'Overall conversion', zh: '总转化率' },
  previous: { en: 'vs previous', zh: '环比' },
  yoy: { en: 'YoY', zh: '同比' },
  target: { en: 'Target', zh: '目标' },
  attainment: { en: 'Attainment', zh: '完成率' },
  count: { en: 'Count', zh: '数量' },
  pipeline: { en: 'Pipeline', zh: '管道金额' },
  weighted: { en: 'Weighted', zh: '加权金额' },
} as const;

export function word(key: keyof typeof WORDS, locale: Locale): string {
  return WORDS[key][locale];
}
