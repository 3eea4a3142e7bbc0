import { invalidInput as invalid } from '../core/errors';
import { DAY_MS, DEFAULT_RETENTION } from './retention';
import {
  BUILTIN_EVENT_TYPES,
  CUSTOM_EVENT_TYPE,
  EVENT_LIMITS,
  type JsonValue,
  type NormalizedEvent,
} from './types';

// Pure validation: no clocks read except through `now`, no storage. The error names the
// offending field (`itemId`, or `events[3].itemId` in a batch) in `details.field`, and
// the batch index in `details.index`, so a caller can point at the bad input.

const EVENT_KEYS = new Set(['itemId', 'type', 'timestamp', 'sessionId', 'properties']);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `value` is JSON-clonable: plain objects, arrays, strings, booleans, null
 * and finite numbers. Returns the path of the first offending value, or undefined.
 * Depth-capped, which also stops cycles.
 */
export function findNonJson(
  value: unknown,
  path: string,
  depth: number,
  maxDepth: number,
): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (depth > maxDepth) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // Sparse arrays would not survive JSON (holes become null).
      if (!(i in value)) return `${path}[${i}]`;
      const bad = findNonJson(value[i], `${path}[${i}]`, depth + 1, maxDepth);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      // `__proto__` as an own key would not round-trip through JSON.parse + spread.
      if (key === '__proto__') return `${path}.${key}`;
      const bad = findNonJson(value[key], `${path}.${key}`, depth + 1, maxDepth);
      if (bad !== undefined) return bad;
    }
    // Symbol keys are dropped by JSON and structured clone alike.
    if (Object.getOwnPropertySymbols(value).length > 0) return path;
    return undefined;
  }
  return path;
}

export interface ValidateOptions {
  /** The store's clock (epoch ms): the default timestamp and the accepted range. */
  now: number;
  /**
   * The store's age cap (`retention.maxAgeDays`, default 365): older events would be
   * pruned in the very write that stores them, so they are rejected instead.
   */
  maxAgeDays?: number;
  /** Prefix for field names, e.g. `events[3].`. */
  prefix?: string;
  index?: number;
}

/** Clock skew tolerated between the page that made an event and the store's clock. */
export const MAX_FUTURE_MS = DAY_MS;

/** Epoch seconds of 2001-09-09 .. 5138: what a seconds timestamp of today looks like. */
const looksLikeSeconds = (t: number) => t >= 1e9 && t < 1e11;

function iso(t: number): string {
  return new Date(t).toISOString();
}

/**
 * The contract is epoch milliseconds: a time at most one day ahead of the store's clock
 * (microseconds land far beyond it) and not older than the retention window (seconds
 * land in January 1970), never negative. Events outside would be stored in the wrong
 * place of a sequence or pruned at once, so the call is rejected instead.
 */
function checkTimeRange(
  t: number,
  now: number,
  maxAgeDays: number,
  p: string,
  idx: number | undefined,
): void {
  const field = `${p}timestamp`;
  if (t > now + MAX_FUTURE_MS) {
    const hint =
      t > (now + MAX_FUTURE_MS) * 100
        ? '; timestamps are epoch milliseconds, microseconds were probably given (divide by 1000)'
        : '; timestamps are epoch milliseconds';
    throw invalid(
      field,
      `${t} (${iso(t)}) is more than one day ahead of the store's clock (${iso(now)})${hint}`,
      idx,
    );
  }
  if (t < 0) {
    throw invalid(field, `${t} is negative (before 1970); timestamps are epoch milliseconds`, idx);
  }
  if (Number.isFinite(maxAgeDays) && t < now - maxAgeDays * DAY_MS) {
    const seconds = looksLikeSeconds(t)
      ? '; timestamps are epoch milliseconds, seconds were probably given (multiply by 1000)'
      : '';
    throw invalid(
      field,
      `${t} (${iso(t)}) is older than the retention window of ${maxAgeDays} days ` +
        `(before ${iso(now - maxAgeDays * DAY_MS)}) and would not be stored${seconds}`,
      idx,
    );
  }
}

/** Validates one event and returns its normalized copy; throws INVALID_INPUT. */
export function validateEvent(input: unknown, options: ValidateOptions): NormalizedEvent {
  const p = options.prefix ?? '';
  const idx = options.index;
  if (!isPlainObject(input)) {
    throw invalid(p === '' ? 'event' : p.slice(0, -1), 'must be a plain object', idx);
  }
  for (const key of Object.keys(input)) {
    if (!EVENT_KEYS.has(key)) throw invalid(`${p}${key}`, 'unknown field', idx);
  }

  const { itemId, type, timestamp, sessionId, properties } = input;
  if (typeof itemId !== 'string') throw invalid(`${p}itemId`, 'must be a string', idx);
  if (itemId.length === 0) throw invalid(`${p}itemId`, 'must not be empty', idx);
  if (itemId.length > EVENT_LIMITS.itemIdMaxLength) {
    throw invalid(`${p}itemId`, `longer than ${EVENT_LIMITS.itemIdMaxLength} characters`, idx);
  }

  if (typeof type !== 'string') throw invalid(`${p}type`, 'must be a string', idx);
  if (!(BUILTIN_EVENT_TYPES as readonly string[]).includes(type) && !CUSTOM_EVENT_TYPE.test(type)) {
    throw invalid(
      `${p}type`,
      `must be one of ${BUILTIN_EVENT_TYPES.join(', ')} or match ${CUSTOM_EVENT_TYPE}`,
      idx,
    );
  }

  let t: number;
  if (timestamp === undefined) {
    t = options.now;
  } else if (timestamp instanceof Date) {
    t = timestamp.getTime();
  } else if (typeof timestamp === 'number') {
    t = timestamp;
  } else {
    throw invalid(`${p}timestamp`, 'must be epoch milliseconds or a Date', idx);
  }
  if (!Number.isFinite(t) || Math.abs(t) > EVENT_LIMITS.maxAbsTimestamp) {
    throw invalid(`${p}timestamp`, 'must be a finite time within the Date range', idx);
  }
  checkTimeRange(t, options.now, options.maxAgeDays ?? DEFAULT_RETENTION.maxAgeDays, p, idx);
  // -0 and 0 are the same instant but not the same value under Object.is; store 0.
  if (t === 0) t = 0;

  const out: NormalizedEvent = { itemId, type, timestamp: t };

  if (sessionId !== undefined) {
    if (typeof sessionId !== 'string') throw invalid(`${p}sessionId`, 'must be a string', idx);
    if (sessionId.length === 0) throw invalid(`${p}sessionId`, 'must not be empty', idx);
    if (sessionId.length > EVENT_LIMITS.sessionIdMaxLength) {
      throw invalid(
        `${p}sessionId`,
        `longer than ${EVENT_LIMITS.sessionIdMaxLength} characters`,
        idx,
      );
    }
    out.sessionId = sessionId;
  }

  if (properties !== undefined) {
    if (!isPlainObject(properties)) throw invalid(`${p}properties`, 'must be a plain object', idx);
    const bad = findNonJson(properties, `${p}properties`, 1, EVENT_LIMITS.propertiesMaxDepth);
    if (bad !== undefined) {
      throw invalid(
        bad,
        'must be JSON: plain objects, arrays, strings, booleans, null, finite numbers',
        idx,
      );
    }
    const json = JSON.stringify(properties);
    if (json.length > EVENT_LIMITS.propertiesMaxChars) {
      throw invalid(
        `${p}properties`,
        `larger than ${EVENT_LIMITS.propertiesMaxChars} characters as JSON`,
        idx,
      );
    }
    // A deep copy: the caller may mutate its object after track() returns.
    out.properties = JSON.parse(json) as { [key: string]: JsonValue };
  }
  return out;
}

/**
 * Validates a whole batch before anything is written (all or nothing). The first
 * invalid element throws INVALID_INPUT with `details.field = 'events[i].<field>'` and
 * `details.index = i`.
 */
export function validateEvents(
  input: unknown,
  now: number,
  maxAgeDays?: number,
): NormalizedEvent[] {
  if (!Array.isArray(input)) throw invalid('events', 'must be an array');
  if (input.length > EVENT_LIMITS.batchMaxEvents) {
    throw invalid('events', `more than ${EVENT_LIMITS.batchMaxEvents} events in one batch`);
  }
  const out = new Array<NormalizedEvent>(input.length);
  for (let i = 0; i < input.length; i++) {
    if (!(i in input)) throw invalid(`events[${i}]`, 'missing (sparse array)', i);
    out[i] = validateEvent(input[i], { now, maxAgeDays, prefix: `events[${i}].`, index: i });
  }
  return out;
}
