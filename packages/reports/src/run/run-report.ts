import { CompiledQuery, type Kysely } from 'kysely';
import type { PublishedApp } from '@tessera/metadata';
import type { SystemDatabase } from '@tessera/store';
import type { ReportDef } from '../model/report';
import type { ReportResult } from '../model/result';
import { compileReport, type RunOptions } from '../compile/compile-report';

/**
 * Runs a report as the viewer in `options.policy`: one statement, aggregated by the
 * database, read into a ReportResult whose every row carries its drill-down filter.
 */
export async function runReport(db: Kysely<SystemDatabase>, app: PublishedApp, report: ReportDef, options: RunOptions): Promise<ReportResult> {
  const compiled = compileReport(app, report, options);
  const result = await db.executeQuery(CompiledQuery.raw(compiled.text, compiled.values));
  return compiled.read(result.rows as Record<string, unknown>[]);
}
