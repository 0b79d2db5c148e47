/** Who is writing and through which door; recorded with every write for the audit trail. */
export interface Actor {
  workspaceId: string;
  userId: string | null;
  source: 'api' | 'ui' | 'import' | 'flow' | 'system';
  /** where the request came from (client IP), for the audit trail; absent for in-process writers */
  ip?: string | null;
  /** the client's User-Agent, for the audit trail */
  userAgent?: string | null;
}

export function isoString(value: Date | string | null | undefined): string | null {
  if (value == null) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** PostgreSQL's SQLSTATE of a failed statement, from pg or PGlite errors alike. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
