import type { PublishedApp } from '@tessera/metadata';
import type { RecordRepositoryOptions } from '@tessera/store';
import { ruleEngineFor } from '@tessera/rules';

/** The write pipeline of a published version: its hooks (rules, flow triggers) and how automations start flows. */
export type WriteOptions = Pick<RecordRepositoryOptions, 'hooks' | 'startFlow'>;

/** Rules only: what a record write runs when no flow engine is wired in. */
export function rulesOnly(app: PublishedApp): WriteOptions {
  return { hooks: ruleEngineFor(app) };
}
