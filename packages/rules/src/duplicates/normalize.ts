import type { MatchMethod } from '@tessera/metadata';

/*
 * Duplicate matching normalises a value twice: in JS (forms warn live, the engine skips
 * empty keys) and in SQL (the candidate query). Both must agree on every string, so the
 * normalisation is built only from steps that mean exactly the same thing in both:
 * code-point translation tables (never locale-dependent lower() or \s), and regular
 * expressions over explicit ASCII classes. The same step list renders to either side.
 */

type Step =
  /** maps each code point found in `from` to the code point at the same place in `to` */
  | { kind: 'translate'; table: Map<string, string> }
  | { kind: 'replace'; pattern: string; replacement: string; global: boolean }
  | { kind: 'delete'; char: ' ' };

/** Whitespace beyond ASCII space that people paste (ideographic, no-break, thin spaces). */
const SPACES = ['\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000'];
for (let c = 0x2000; c <= 0x200a; c++) SPACES.push(String.fromCodePoint(c));

/** Punctuation that separates words in company names, ASCII and CJK (full-width folds to ASCII first). */
const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', ...'、。·・〈〉《》「」『』【】〔〕〖〗〘〙〚〛“”‘’—–…‧﹏¥￥'];

/** Case and width folding: full-width ASCII to ASCII, ASCII and Latin-1 capitals to small letters, every space to ' '. */
function foldChar(ch: string): string {
  let cp = ch.codePointAt(0)!;
  if (cp >= 0xff01 && cp <= 0xff5e) cp -= 0xfee0;
  if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0xc0 && cp <= 0xde && cp !== 0xd7)) cp += 0x20;
  const out = String.fromCodePoint(cp);
  return SPACES.includes(out) ? ' ' : out;
}

function foldTable(extra: (folded: string) => string = (c) => c): Map<string, string> {
  const table = new Map<string, string>();
  const domain: string[] = [...SPACES, ...PUNCTUATION];
  for (let cp = 0xff01; cp <= 0xff5e; cp++) domain.push(String.fromCodePoint(cp));
  for (let cp = 0x41; cp <= 0x5a; cp++) domain.push(String.fromCodePoint(cp));
  for (let cp = 0xc0; cp <= 0xde; cp++) if (cp !== 0xd7) domain.push(String.fromCodePoint(cp));
  for (const ch of domain) {
    const to = extra(foldChar(ch));
    if (to !== ch) table.set(ch, to);
  }
  return table;
}

const FOLD = foldTable();
const FOLD_AND_UNPUNCTUATE = foldTable((c) => (PUNCTUATION.includes(c) ? ' ' : c));

const COLLAPSE_SPACES: Step[] = [
  { kind: 'replace', pattern: ' +', replacement: ' ', global: true },
  { kind: 'replace', pattern: '^ | $', replacement: '', global: true },
];

/**
 * Legal-form words at the end of a company name, any number of them: `Co., Ltd.`, `Inc.`,
 * `GmbH`, `有限公司`, `(中国)有限公司`... Latin words (and a bracketed 中国) must stand
 * alone, so `Zinc` keeps its `inc`; Chinese forms attach directly to the name.
 */
const LATIN_FORMS = ['co', 'ltd', 'limited', 'inc', 'incorporated', 'llc', 'corp', 'corporation', 'company', 'gmbh', 'plc', '中国'];
const CJK_FORMS = ['有限责任公司', '股份有限公司', '有限公司', '集团', '公司'];
const LEGAL_FORMS = `(?:(?:^| )(?:${LATIN_FORMS.join('|')})| ?(?:${CJK_FORMS.join('|')}))+$`;

const STEPS: Record<Exclude<MatchMethod, 'exact'>, Step[]> = {
  normalized: [{ kind: 'translate', table: FOLD }, ...COLLAPSE_SPACES],
  email: [
    { kind: 'translate', table: FOLD },
    { kind: 'delete', char: ' ' },
  ],
  phone: [
    { kind: 'translate', table: FOLD },
    { kind: 'replace', pattern: '[^0-9]+', replacement: '', global: true },
    // +86 / 0086 before a mainland mobile; before a landline the trunk 0 comes back
    { kind: 'replace', pattern: '^(?:00)?86(1[3-9][0-9]{9})$', replacement: '$1', global: false },
    { kind: 'replace', pattern: '^(?:00)?86(10[0-9]{7,8}|[2-9][0-9]{8,10})$', replacement: '0$1', global: false },
  ],
  company: [
    { kind: 'translate', table: FOLD_AND_UNPUNCTUATE },
    ...COLLAPSE_SPACES,
    { kind: 'replace', pattern: LEGAL_FORMS, replacement: '', global: false },
    { kind: 'delete', char: ' ' },
  ],
};

/** The value duplicate matching compares for a text value; '' means "nothing to match on". */
export function normalizeForMatch(method: MatchMethod, value: string): string {
  if (method === 'exact') return value;
  let text = value;
  for (const step of STEPS[method]) text = applyStep(step, text);
  return text;
}

function applyStep(step: Step, text: string): string {
  switch (step.kind) {
    case 'translate': {
      let out = '';
      for (const ch of text) out += step.table.get(ch) ?? ch;
      return out;
    }
    case 'replace':
      return text.replace(new RegExp(step.pattern, step.global ? 'gu' : 'u'), step.replacement);
    case 'delete':
      return text.split(step.char).join('');
  }
}

/**
 * The same normalisation as SQL text around `inner` (a text-valued SQL expression). Only
 * constants of this module are inlined, as quoted literals, so the text is immutable and
 * fit for an expression index; callers bind every user value.
 */
export function normalizeSqlText(method: MatchMethod, inner: string): string {
  if (method === 'exact') return inner;
  let text = inner;
  for (const step of STEPS[method]) text = stepSql(step, text);
  return text;
}

function stepSql(step: Step, inner: string): string {
  switch (step.kind) {
    case 'translate':
      return `translate(${inner}, ${literal([...step.table.keys()].join(''))}, ${literal([...step.table.values()].join(''))})`;
    case 'replace': {
      // PostgreSQL writes back-references as \1 where JS writes $1
      const replacement = step.replacement.replace(/\$(\d)/g, '\\$1');
      return `regexp_replace(${inner}, ${literal(step.pattern)}, ${literal(replacement)}${step.global ? `, 'g'` : ''})`;
    }
    case 'delete':
      return `replace(${inner}, ${literal(step.char)}, '')`;
  }
}

/** A standard-conforming string literal (backslashes are literal; quotes doubled). */
function literal(text: string): string {
  if (text.includes('\u0000')) throw new Error('NUL cannot appear in a SQL literal');
  return `'${text.replace(/'/g, "''")}'`;
}
