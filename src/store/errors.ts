import { isLocalRecErrorLike, LocalRecError } from '../core/errors';

/**
 * The one place DOMExceptions of IndexedDB become LocalRecError codes. Everything
 * leaving src/store/ goes through it, so callers only ever see codes.
 */
export function toStoreError(error: unknown, operation: string): LocalRecError {
  if (error instanceof LocalRecError) return error;
  if (isLocalRecErrorLike(error)) return LocalRecError.fromJSON(error)!;
  const name =
    typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const msg = error instanceof Error ? error.message : String(error);
  const opts = { cause: error };
  // Quota: the standard name is QuotaExceededError (legacy code 22). Old Firefox
  // reported NS_ERROR_DOM_QUOTA_REACHED (code 1014). Chromium reports quota at commit:
  // it arrives as the transaction's abort error, not from `put` (handled by the caller
  // passing `tx.error` here).
  if (
    name === 'QuotaExceededError' ||
    name === 'NS_ERROR_DOM_QUOTA_REACHED' ||
    code === 22 ||
    code === 1014
  ) {
    return new LocalRecError(
      'QUOTA_EXCEEDED',
      `${operation}: storage quota exceeded (${msg})`,
      opts,
    );
  }
  switch (name) {
    case 'VersionError':
      // open() asked for a lower version than the database has: a newer localrec
      // wrote it. The open fails before anything is touched.
      return new LocalRecError(
        'SCHEMA_TOO_NEW',
        `${operation}: the database was written by a newer version of localrec; it is left untouched`,
        opts,
      );
    case 'InvalidStateError':
      // transaction() on a closed connection (closed by us on versionchange, or by the
      // browser). The next call reopens.
      return new LocalRecError(
        'DB_CLOSED',
        `${operation}: the database connection was closed`,
        opts,
      );
    case 'AbortError':
      // An abort we did not ask for and without an error: the connection was closed
      // under the transaction (forced close: storage cleared, Safari's "connection to
      // Indexed Database server lost").
      return new LocalRecError(
        'DB_CLOSED',
        `${operation}: the transaction was aborted (connection closed)`,
        opts,
      );
    case 'DataCloneError':
      return new LocalRecError(
        'INVALID_INPUT',
        `${operation}: value cannot be stored (${msg})`,
        opts,
      );
    default:
      return new LocalRecError(
        'STORAGE_UNAVAILABLE',
        `${operation}: IndexedDB failed: ${name || 'Error'}: ${msg}`,
        opts,
      );
  }
}

export function domName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null
    ? String((error as { name?: unknown }).name)
    : undefined;
}
