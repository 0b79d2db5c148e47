import { ProblemError } from '@tessera/metadata';

/** `If-Match: 3`, `"3"` or `W/"3"`: the version the client last saw. */
export function expectedVersion(header: string | string[] | undefined): number {
  if (header === undefined || header === '') {
    throw new ProblemError('precondition_required', 'Send If-Match with the version you are editing', [
      { field: 'If-Match', code: 'required', message: 'the record version (its ETag) you last read' },
    ]);
  }
  const raw = (Array.isArray(header) ? header[0] ?? '' : header).trim();
  const match = /^(?:W\/)?"?([1-9][0-9]{0,9})"?$/.exec(raw);
  const version = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(version) || version > 2_147_483_647) {
    throw new ProblemError('bad_request', 'If-Match must be a record version', [
      { field: 'If-Match', code: 'format', message: 'expected a positive integer version such as "3"' },
    ]);
  }
  return version;
}

export function etag(version: number): string {
  return `"${version}"`;
}
