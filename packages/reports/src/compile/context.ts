import type { AppDocument, Locale, LocalizedText, ObjectDef } from '@tessera/metadata';
import { DEFAULT_TIMEZONE, type EvalEnv } from '@tessera/expr';
import type { AccessPolicy } from '@tessera/store';

import type { ReportDef } from '../model/report';
import { Joins } from './fields';

/** What compiling one report needs, shared by the parts that compile its pieces. */
export interface CompileContext {
  app: AppDocument;
  object: ObjectDef;
  report: ReportDef;
  policy: AccessPolicy;
  env: EvalEnv;
  timezone: string;
  locale: Locale;
  joins: Joins;
  /** the report's filter and the caller's extra filter (dashboard filters), each ANDed */
  filters: unknown[];
}

export function newContext(
  app: AppDocument,
  object: ObjectDef,
  report: ReportDef,
  options: { policy: AccessPolicy; env: EvalEnv; locale?: Locale; extraFilter?: unknown },
): CompileContext {
  const filters = [report.filter, options.extraFilter].filter((f) => f !== undefined && f !== null);
  const { policy, env } = options;
  return { app, object, report, policy, env, timezone: env.timezone ?? DEFAULT_TIMEZONE, locale: options.locale ?? 'zh', joins: new Joins(policy), filters };
}

/** Text in the viewer's language, else the other one, else `fallback`. */
export function localized(text: LocalizedText | undefined, locale: Locale, fallback: string): string {
  if (!text) return fallback;
  return text[locale] ?? text.en ?? text.zh ?? fallback;
}
