/**
 * The one error type of localrec. Callers test `error.code`, never `instanceof`: the
 * code survives every boundary (the worker's, see worker/error-transfer.ts; a cloned or
 * JSON copy), while the class differs between copies of the library (a page that loads
 * both the ESM bundle and the script-tag one).
 */
export type LocalRecErrorCode =
  | 'INVALID_INPUT'
  | 'STORAGE_UNAVAILABLE'
  | 'QUOTA_EXCEEDED'
  | 'SCHEMA_TOO_NEW'
  | 'UPGRADE_BLOCKED'
  | 'DB_CLOSED'
  | 'TRAINING_DIVERGED'
  | 'TRAINING_ABORTED'
  | 'BACKEND_UNAVAILABLE'
  | 'WORKER_CRASHED'
  | 'WORKER_TIMEOUT'
  | 'CONSENT_REQUIRED'
  | 'MODEL_CORRUPT'
  | 'MODEL_MISMATCH'
  | 'NOT_TRAINED'
  | 'SCORE_NAN'
  | 'ENVIRONMENT';

export const ERROR_CODES: readonly LocalRecErrorCode[] = [
  'INVALID_INPUT',
  'STORAGE_UNAVAILABLE',
  'QUOTA_EXCEEDED',
  'SCHEMA_TOO_NEW',
  'UPGRADE_BLOCKED',
  'DB_CLOSED',
  'TRAINING_DIVERGED',
  'TRAINING_ABORTED',
  'BACKEND_UNAVAILABLE',
  'WORKER_CRASHED',
  'WORKER_TIMEOUT',
  'CONSENT_REQUIRED',
  'MODEL_CORRUPT',
  'MODEL_MISMATCH',
  'NOT_TRAINED',
  'SCORE_NAN',
  'ENVIRONMENT',
];

export interface LocalRecErrorDetails {
  /** Offending field of an input, e.g. `itemId` or `events[3].type`. */
  field?: string;
  /** Index of the failing element in a batch. */
  index?: number;
  [key: string]: unknown;
}

export class LocalRecError extends Error {
  readonly code: LocalRecErrorCode;
  readonly details: LocalRecErrorDetails;

  constructor(
    code: LocalRecErrorCode,
    message: string,
    options: { cause?: unknown; details?: LocalRecErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LocalRecError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Plain object for crossing a worker / postMessage boundary. */
  toJSON(): {
    name: 'LocalRecError';
    code: LocalRecErrorCode;
    message: string;
    details: LocalRecErrorDetails;
  } {
    return { name: 'LocalRecError', code: this.code, message: this.message, details: this.details };
  }

  static fromJSON(value: unknown): LocalRecError | undefined {
    if (!isLocalRecErrorLike(value)) return undefined;
    return new LocalRecError(value.code, value.message, { details: value.details ?? {} });
  }
}

export function isLocalRecErrorLike(
  value: unknown,
): value is { code: LocalRecErrorCode; message: string; details?: LocalRecErrorDetails } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { code?: unknown; message?: unknown };
  return (
    typeof v.message === 'string' &&
    typeof v.code === 'string' &&
    (ERROR_CODES as readonly string[]).includes(v.code)
  );
}

/** True when `error` is a LocalRecError (or its cloned shape) with the given code. */
export function hasCode(error: unknown, code: LocalRecErrorCode): boolean {
  return isLocalRecErrorLike(error) && error.code === code;
}

/** The INVALID_INPUT error for bad caller input, naming the field (and batch index). */
export function invalidInput(field: string, message: string, index?: number): LocalRecError {
  const details: LocalRecErrorDetails = { field };
  if (index !== undefined) details.index = index;
  return new LocalRecError('INVALID_INPUT', `${field}: ${message}`, { details });
}
