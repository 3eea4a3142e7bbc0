import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_GAP_MS, sessionise } from '../../src/events';

const MIN = 60_000;

function run(events: [item: number, t: number, sid?: string][], gap?: number) {
  return sessionise(
    {
      items: Int32Array.from(events.map((e) => e[0])),
      times: Float64Array.from(events.map((e) => e[1])),
      sessionIds: events.map((e) => e[2]),
      numItems: 10,
    },
    gap,
  );
}

function groups(r: ReturnType<typeof run>): number[][] {
  const { items, offsets } = r.sequences;
  const out: number[][] = [];
  for (let s = 0; s + 1 < offsets.length; s++)
    out.push([...items.subarray(offsets[s], offsets[s + 1])]);
  return out;
}

describe('sessionise', () => {
  it('cuts id-less events by a 30-minute inactivity gap by default', () => {
    expect(DEFAULT_SESSION_GAP_MS).toBe(30 * MIN);
    const r = run([
      [1, 0],
      [2, 30 * MIN], // exactly the gap: same session
      [3, 61 * MIN], // 31 min later: new session
      [4, 62 * MIN],
    ]);
    expect(groups(r)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(r.sessionIds).toEqual([null, null]);
    expect([...r.sequences.times]).toEqual([0, 30 * MIN, 61 * MIN, 62 * MIN]);
    expect(r.sequences.numItems).toBe(10);
  });

  it('uses a configurable gap', () => {
    expect(
      groups(
        run(
          [
            [1, 0],
            [2, 5 * MIN],
          ],
          4 * MIN,
        ),
      ),
    ).toEqual([[1], [2]]);
    expect(
      groups(
        run(
          [
            [1, 0],
            [2, 5 * MIN],
          ],
          6 * MIN,
        ),
      ),
    ).toEqual([[1, 2]]);
  });

  it('groups by sessionId whatever the gaps, interleaved with id-less sessions, ordered by first event', () => {
    const r = run([
      [1, 0, 'A'],
      [5, 1 * MIN],
      [2, 2 * MIN, 'B'],
      [3, 500 * MIN, 'A'],
      [6, 501 * MIN],
    ]);
    expect(groups(r)).toEqual([[1, 3], [5], [2], [6]]);
    expect(r.sessionIds).toEqual(['A', null, 'B', null]);
  });

  it('sorts unsorted input by time, keeping ties in input order', () => {
    const r = run([
      [3, 20],
      [1, 10],
      [7, 10],
      [2, 15],
    ]);
    expect(groups(r)).toEqual([[1, 7, 2, 3]]);
    expect([...r.sequences.times]).toEqual([10, 10, 15, 20]);
  });

  it('handles no events', () => {
    const r = run([]);
    expect([...r.sequences.offsets]).toEqual([0]);
    expect(r.sequences.items.length).toBe(0);
  });

  it('property: a partition of the events, each session time-ordered, ids consistent', () => {
    const ev = fc.tuple(
      fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
    );
    fc.assert(
      fc.property(
        fc.array(ev, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3000 }),
        (events, gap) => {
          const r = run(events, gap);
          const { items, offsets, times } = r.sequences;
          expect(offsets[offsets.length - 1]).toBe(events.length);
          expect(items.length).toBe(events.length);
          // Same multiset of (item, time).
          const key = (i: number, t: number) => `${i}@${t}`;
          expect([...items].map((it, k) => key(it, times[k])).sort()).toEqual(
            events.map((e) => key(e[0], e[1])).sort(),
          );
          const named = r.sessionIds.filter((s) => s !== null);
          expect(new Set(named).size).toBe(named.length);
          for (let s = 0; s + 1 < offsets.length; s++) {
            expect(offsets[s + 1]).toBeGreaterThan(offsets[s]);
            for (let k = offsets[s] + 1; k < offsets[s + 1]; k++) {
              expect(times[k]).toBeGreaterThanOrEqual(times[k - 1]);
              if (r.sessionIds[s] === null)
                expect(times[k] - times[k - 1]).toBeLessThanOrEqual(gap);
            }
            if (s > 0) expect(times[offsets[s]]).toBeGreaterThanOrEqual(times[offsets[s - 1]]);
          }
        },
      ),
    );
  });
});
