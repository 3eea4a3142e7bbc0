import { describe, expect, it } from 'vitest';
import {
  clusteredMeanSE,
  inRange,
  replayMetrics,
  replayPaired,
  replaySplit,
  selectSequences,
  servedRank,
  userHash,
} from '../../src/eval/replay';

describe('clusteredMeanSE', () => {
  it('clusters by user: two users with opposite outcomes have a larger SE than positions say', () => {
    const r = clusteredMeanSE([1, 1, 0, 0], [7, 7, 9, 9]);
    expect(r.mean).toBe(0.5);
    // user sums of deviations: +1, −1 → √(2/1 · 2) / 4
    expect(r.se).toBeCloseTo(0.5, 12);
    // std over positions √(1/3), / √4
    expect(r.sePositions).toBeCloseTo(Math.sqrt(1 / 3) / 2, 12);
  });

  it('equals the plain SE when every user has one position', () => {
    const values = [0.3, 0, 1, 0.5, 0.25];
    const r = clusteredMeanSE(values, [1, 2, 3, 4, 5]);
    expect(r.se).toBeCloseTo(r.sePositions, 12);
    expect(r.sePositions).toBeGreaterThan(0);
  });

  it('positions of one user need not be adjacent; empty gives NaN', () => {
    const a = clusteredMeanSE([1, 0, 1, 0], [1, 2, 1, 2]);
    const b = clusteredMeanSE([1, 1, 0, 0], [1, 1, 2, 2]);
    expect(a.se).toBeCloseTo(b.se, 12);
    expect(Number.isNaN(clusteredMeanSE([], []).mean)).toBe(true);
  });
});

describe('replaySplit', () => {
  // 30 users, user u has 10 + u interactions: users 10.. are eligible at minLength 20
  const ids = Array.from({ length: 30 }, (_, u) => 1000 + u * 7);
  const offsets = [0];
  for (let u = 0; u < 30; u++) offsets.push(offsets[u] + 10 + u);

  it('draws held-out and validation users from the eligible ones, disjoint, by seeded hash', () => {
    const s = replaySplit(ids, offsets, { users: 6, validationUsers: 4, minLength: 20, seed: 3 });
    expect(s.test).toHaveLength(6);
    expect(s.validation).toHaveLength(4);
    const out = [...s.test, ...s.validation];
    expect(new Set(out).size).toBe(10);
    for (const u of out) expect(u).toBeGreaterThanOrEqual(10);
    // everyone else is the population, and only they
    expect([...s.population].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, u) => u).filter((u) => !out.includes(u)),
    );
    // the order is the hash order
    const keys = [...s.test, ...s.validation].map((u) => userHash(ids[u], 3));
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(
      replaySplit(ids, offsets, { users: 6, validationUsers: 4, minLength: 20, seed: 3 }),
    ).toEqual(s);
    const other = replaySplit(ids, offsets, {
      users: 6,
      validationUsers: 4,
      minLength: 20,
      seed: 4,
    });
    expect([...other.test]).not.toEqual([...s.test]);
  });

  it('refuses to hold out more users than are eligible', () => {
    expect(() =>
      replaySplit(ids, offsets, { users: 15, validationUsers: 6, minLength: 20 }),
    ).toThrow(/needs 21 users/);
  });
});

describe('servedRank', () => {
  const list = [
    { itemId: 'a', score: 3 },
    { itemId: 'b', score: 2 },
    { itemId: 'c', score: 2 },
    { itemId: 'd', score: 2 },
    { itemId: 'e', score: 1 },
  ];
  it('counts items placed before and equal scores after (pessimistic ties)', () => {
    expect(servedRank(list, 'a', 100)).toBe(1);
    expect(servedRank(list, 'b', 100)).toBe(4);
    expect(servedRank(list, 'c', 100)).toBe(4);
    expect(servedRank(list, 'e', 100)).toBe(5);
  });
  it('ranks a target missing from the list after every candidate', () => {
    expect(servedRank(list, 'zz', 100)).toBe(100);
    expect(servedRank(list, 'zz', 3)).toBe(6);
  });
});

describe('replay metrics', () => {
  const at = { users: Int32Array.from([0, 0, 1, 1]), positions: Int32Array.from([5, 12, 5, 50]) };
  it('metrics by range and paired differences on the same positions', () => {
    const a = Int32Array.from([1, 30, 1, 2]);
    const b = Int32Array.from([1, 1, 30, 30]);
    const all = replayMetrics(a, at);
    expect(all['HR@10'].mean).toBe(0.75);
    const early = replayMetrics(a, at, inRange(at, { from: 5, to: 9 }));
    expect(early['HR@10'].mean).toBe(1);
    const d = replayPaired(a, b, at);
    expect(d['HR@10'].mean).toBeCloseTo(0.25, 12);
    const same = replayPaired(a, a, at);
    expect(same['NDCG@10'].mean).toBe(0);
    expect(same['NDCG@10'].se).toBe(0);
  });
});

describe('selectSequences', () => {
  it('copies the chosen users in the order given, with times', () => {
    const seqs = {
      items: Int32Array.from([1, 2, 3, 4, 5, 6]),
      offsets: Int32Array.from([0, 2, 3, 6]),
      times: Float64Array.from([10, 11, 20, 30, 31, 32]),
      numItems: 7,
    };
    const s = selectSequences(seqs, [2, 0]);
    expect([...s.items]).toEqual([4, 5, 6, 1, 2]);
    expect([...s.offsets]).toEqual([0, 3, 5]);
    expect([...(s.times as Float64Array)]).toEqual([30, 31, 32, 10, 11]);
    expect(s.numItems).toBe(7);
  });
});
