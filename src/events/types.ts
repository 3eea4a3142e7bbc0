/**
 * Event shapes of localrec. `TrackEvent` is what a site passes to `track()`;
 * `NormalizedEvent` is what validation returns and the store keeps (timestamps as
 * epoch milliseconds, no unknown keys).
 */

/** The built-in interaction types. Any other type must match `CUSTOM_EVENT_TYPE`. */
export const BUILTIN_EVENT_TYPES = ['view', 'click', 'add_to_cart', 'purchase'] as const;
export type BuiltinEventType = (typeof BUILTIN_EVENT_TYPES)[number];

/**
 * Custom types: a letter then up to 63 letters, digits, `_`, `-`, `.` or `:`
 * (e.g. `wishlist`, `video:play`). Short and code-like so they can be used as keys.
 */
export const CUSTOM_EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** A JSON value as `properties` may hold it (finite numbers only, plain objects only). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface TrackEvent {
  /** The site's id of the item (product, article, video). 1..256 characters. */
  itemId: string;
  /** `view | click | add_to_cart | purchase` or a custom type (see `CUSTOM_EVENT_TYPE`). */
  type: BuiltinEventType | (string & {});
  /**
   * Epoch milliseconds or a Date. Defaults to now. Must lie between the retention
   * window's start (default 365 days ago) and one day ahead of the store's clock, and
   * not be negative; seconds or microseconds are rejected (INVALID_INPUT).
   */
  timestamp?: number | Date;
  /** Groups events into one session. Without it, sessions are cut by inactivity. */
  sessionId?: string;
  /** Small JSON object (serialised ≤ 1024 characters) kept with the event. */
  properties?: { [key: string]: JsonValue };
}

export interface NormalizedEvent {
  itemId: string;
  type: string;
  /** Epoch milliseconds. */
  timestamp: number;
  sessionId?: string;
  properties?: { [key: string]: JsonValue };
}

/** Limits of validation. Exported so tests and docs quote the same numbers. */
export const EVENT_LIMITS = {
  itemIdMaxLength: 256,
  sessionIdMaxLength: 128,
  /** Length of `JSON.stringify(properties)`. */
  propertiesMaxChars: 1024,
  /** Nesting depth of `properties` (the object itself is depth 1). */
  propertiesMaxDepth: 8,
  /** Largest batch `trackMany` accepts in one transaction. */
  batchMaxEvents: 100_000,
  /** |timestamp| bound: the range of a JavaScript Date. */
  maxAbsTimestamp: 8.64e15,
} as const;
