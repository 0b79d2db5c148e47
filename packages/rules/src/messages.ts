import type { Locale, LocalizedText } from '@tessera/metadata';

/** The text for `locale`, falling back to the other language, then to `fallback`. */
export function localized(text: LocalizedText | undefined, locale: Locale, fallback: string): string {
  return text?.[locale] ?? text?.zh ?? text?.en ?? fallback;
}

const MESSAGES = {
  required: { zh: (f: string) => `${f} 为必填项`, en: (f: string) => `${f} is required` },
  readOnly: { zh: (f: string) => `${f} 当前为只读，不能修改`, en: (f: string) => `${f} is read-only for this record and cannot be changed` },
  invalidRecord: { zh: () => '记录未通过校验', en: () => 'The record is invalid' },
  duplicate: { zh: (r: string) => `存在疑似重复的记录（规则 ${r}）`, en: (r: string) => `Possible duplicate records exist (rule ${r})` },
} as const;

export function message(key: keyof typeof MESSAGES, locale: Locale, arg = ''): string {
  return MESSAGES[key][locale](arg);
}

/** `Accept-Language: en-US,en;q=0.9` -> en; anything else, or nothing, -> zh. */
export function localeOf(acceptLanguage: string | undefined): Locale {
  const first = (acceptLanguage ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'zh';
}
