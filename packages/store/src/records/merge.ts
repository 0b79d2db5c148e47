import type { Kysely } from 'kysely';
import type { PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '../db/schema';
import type { Actor } from '../common/actor';
import { RecordRepository, type ApiRecord, type RecordRepositoryOptions } from './record-repository';
import type { MergeChoices } from './merge-steps';

export type { MergeChoice, MergeChoices } from './merge-steps';

/**
 * Merges `mergedId` into `survivorId`, in one transaction: the survivor takes the chosen
 * values (a field left unchosen keeps the survivor's value, or the merged record's when
 * the survivor has none), every relation in the app that pointed at the merged record
 * points at the survivor, and the merged record is soft-deleted. Nothing is removed
 * from record_history: both records keep their past, and the new rows say who absorbed
 * whom under the `$merge` key (no field id can start with `$`).
 *
 * Every write goes through the record repository's pipeline, so with `options.hooks`
 * (the rule engine) a merge runs formulas, rollups and automations like any write:
 * see `RecordRepository.merge`.
 */
export async function mergeRecords(
  db: Kysely<SystemDatabase>,
  app: PublishedApp,
  actor: Actor,
  objectKey: string,
  survivorId: string,
  mergedId: string,
  choices: MergeChoices,
  options: RecordRepositoryOptions = {},
): Promise<ApiRecord> {
  return new RecordRepository(db, app, options).merge(actor, objectKey, survivorId, mergedId, choices);
}
