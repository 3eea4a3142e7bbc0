import type { Sequences } from '../core/scorer';

/** Default inactivity gap that ends a session without a sessionId: 30 minutes. */
export const DEFAULT_SESSION_GAP_MS = 30 * 60 * 1000;

export interface SessioniseInput {
  /** Dense item index of each event. */
  items: Int32Array;
  /** Epoch ms of each event. */
  times: Float64Array;
  /** The event's sessionId, or undefined/null to cut by inactivity. */
  sessionIds: ReadonlyArray<string | undefined | null>;
  /** Size of the vocabulary (becomes `Sequences.numItems`). */
  numItems: number;
  /** Optional per-event keys (the store's sequence numbers), carried into the output. */
  keys?: Float64Array;
}

export interface SessionisedSequences {
  /** One sequence per session, oldest event first; `times` (and `keys`, when given) aligned with `items`. */
  sequences: Sequences & { times: Float64Array; keys?: Float64Array };
  /** Per sequence: the sessionId it came from, or null for an inactivity-cut session. */
  sessionIds: (string | null)[];
}

/**
 * Groups events into sessions, O(n) after an (usually skipped) sort:
 *
 * - events with a `sessionId` form one session per id, whatever the gaps between them;
 * - events without one are cut into sessions by inactivity: a new session starts when
 *   more than `gapMs` passed since the previous id-less event.
 *
 * Sessions are ordered by their first event's time; events inside a session by time,
 * ties kept in input order (the store passes events ordered by time then insertion).
 */
export function sessionise(
  input: SessioniseInput,
  gapMs: number = DEFAULT_SESSION_GAP_MS,
): SessionisedSequences {
  const { items, times, sessionIds, numItems, keys } = input;
  const n = items.length;
  if (times.length !== n || sessionIds.length !== n || (keys && keys.length !== n)) {
    throw new RangeError('sessionise: items, times, sessionIds and keys must have the same length');
  }

  // Visit order: by time, stable. The store already hands sorted input; check first.
  let order: Int32Array | undefined;
  for (let k = 1; k < n; k++) {
    if (times[k] < times[k - 1]) {
      order = new Int32Array(n);
      for (let j = 0; j < n; j++) order[j] = j;
      order.sort((a, b) => times[a] - times[b] || a - b);
      break;
    }
  }

  // Pass 1: session index of each event, in order of first appearance.
  const sessionOf = new Int32Array(n);
  const byId = new Map<string, number>();
  const ids: (string | null)[] = [];
  const counts: number[] = [];
  let anon = -1;
  let lastAnonTime = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    const e = order === undefined ? k : order[k];
    const sid = sessionIds[e];
    let s: number;
    if (sid !== undefined && sid !== null) {
      const known = byId.get(sid);
      if (known === undefined) {
        s = ids.length;
        byId.set(sid, s);
        ids.push(sid);
        counts.push(0);
      } else {
        s = known;
      }
    } else {
      const t = times[e];
      if (anon < 0 || t - lastAnonTime > gapMs) {
        anon = ids.length;
        ids.push(null);
        counts.push(0);
      }
      lastAnonTime = t;
      s = anon;
    }
    sessionOf[k] = s;
    counts[s]++;
  }

  // Pass 2: counting sort into CSR.
  const numSessions = ids.length;
  const offsets = new Int32Array(numSessions + 1);
  for (let s = 0; s < numSessions; s++) offsets[s + 1] = offsets[s] + counts[s];
  const cursor = offsets.slice(0, numSessions);
  const outItems = new Int32Array(n);
  const outTimes = new Float64Array(n);
  const outKeys = keys ? new Float64Array(n) : undefined;
  for (let k = 0; k < n; k++) {
    const e = order === undefined ? k : order[k];
    const pos = cursor[sessionOf[k]]++;
    outItems[pos] = items[e];
    outTimes[pos] = times[e];
    if (outKeys) outKeys[pos] = (keys as Float64Array)[e];
  }
  const sequences = { items: outItems, offsets, times: outTimes, numItems };
  return { sequences: outKeys ? { ...sequences, keys: outKeys } : sequences, sessionIds: ids };
}
