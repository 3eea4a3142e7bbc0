import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng';
import { countEvents, SessionStream, sessionParallelSteps } from '../../src/train/batcher';
import { NegativeSampler } from '../../src/train/sampler';
import { seqs } from './fixtures';

describe('session-parallel batcher', () => {
  it('feeds each session in order, resets on new sessions, shrinks at the end', () => {
    // items encode (session, position): 10*s + p
    const list = [[0, 1, 2, 3], [10, 11], [20, 21, 22], [30], [40, 41, 42, 43, 44]];
    const data = {
      ...seqs(list, 50),
      times: Float64Array.from([5, 5, 5, 5, 1, 1, 3, 3, 3, 9, 2, 2, 2, 2, 2]),
    };
    // buffers are reused between steps: copy inside the loop
    const steps: {
      inputs: number[];
      targets: number[];
      keep: number[] | null;
      resets: number[] | null;
    }[] = [];
    for (const s of sessionParallelSteps(data, 2)) {
      steps.push({
        inputs: Array.from(s.inputs),
        targets: Array.from(s.targets),
        keep: s.keep && Array.from(s.keep),
        resets: s.resets && Array.from(s.resets),
      });
    }
    // order by start time: s1 (t=1), s4 (t=2), s2 (t=3), s0 (t=5); s3 has 1 item: skipped
    expect(steps[0]).toEqual({ inputs: [10, 40], targets: [11, 41], keep: null, resets: null });
    expect(steps[1]).toEqual({ inputs: [20, 41], targets: [21, 42], keep: null, resets: [0] });
    expect(steps[2]).toEqual({ inputs: [21, 42], targets: [22, 43], keep: null, resets: null });
    expect(steps[3]).toEqual({ inputs: [0, 43], targets: [1, 44], keep: null, resets: [0] });
    // slot 1's session ends and nothing is left: the batch shrinks to row 0
    expect(steps[4]).toEqual({ inputs: [1], targets: [2], keep: [0], resets: null });
    expect(steps[5]).toEqual({ inputs: [2], targets: [3], keep: null, resets: null });
    expect(steps.length).toBe(6);
    const events = steps.reduce((a, s) => a + s.inputs.length, 0);
    expect(events).toBe(countEvents(data));
  });
});

describe('negative sampler', () => {
  it('draws in proportion to popularity^alpha', () => {
    const counts = [1, 4, 0, 16];
    const s = new NegativeSampler(counts, 0.5, new Rng(1), 1000);
    const hist = [0, 0, 0, 0];
    for (let i = 0; i < 200; i++) for (const v of s.next(100)) hist[v]++;
    const total = 20000;
    // weights 1, 2, 0, 4 -> 1/7, 2/7, 0, 4/7
    expect(hist[2]).toBe(0);
    expect(hist[0] / total).toBeCloseTo(1 / 7, 1);
    expect(hist[1] / total).toBeCloseTo(2 / 7, 1);
    expect(hist[3] / total).toBeCloseTo(4 / 7, 1);
    expect(Math.exp(s.logProb[3])).toBeCloseTo(4 / 7, 5);
  });

  it('gives the random stream in order, whatever the cache size (no draw dropped at a refill)', () => {
    const counts = [3, 1, 4, 1, 5, 9, 2, 6];
    const draw = (cacheSize: number) => {
      const s = new NegativeSampler(counts, 0.75, new Rng(7), cacheSize);
      const out: number[] = [];
      // 3 does not divide 7 or 64: every refill of the small cache leaves draws over
      for (let i = 0; i < 40; i++) out.push(...s.next(3));
      return out;
    };
    const big = draw(1 << 12);
    expect(draw(7)).toEqual(big);
    expect(draw(64)).toEqual(big);
    expect(new Set(big).size).toBeGreaterThan(4);
  });

  it("tail 'wrap': the batch stays full, slots carry on across epochs, every event trained equally often", () => {
    // items encode (session, position): 10*s + p; lengths 4, 2, 3, 1 (skipped), 5
    const list = [[0, 1, 2, 3], [10, 11], [20, 21, 22], [30], [40, 41, 42, 43, 44]];
    const data = {
      ...seqs(list, 50),
      times: Float64Array.from([5, 5, 5, 5, 1, 1, 3, 3, 3, 9, 2, 2, 2, 2, 2]),
    };
    const stream = new SessionStream(data, 2);
    expect(stream.rows).toBe(2);
    expect(stream.stepsPerEpoch).toBe(Math.ceil(countEvents(data) / 2)); // 10 events → 5 steps
    const count = new Map<number, number>();
    let prevTargets: number[] | null = null;
    for (let epoch = 0; epoch < 20; epoch++) {
      let steps = 0;
      for (const s of stream.epoch()) {
        steps++;
        expect(s.inputs.length).toBe(2);
        expect(s.keep).toBeNull();
        const resets = new Set(s.resets ?? []);
        for (let r = 0; r < 2; r++) {
          const inp = s.inputs[r];
          // same session, next position (no reset) or a session's first item (reset)
          if (prevTargets && !resets.has(r)) expect(inp).toBe(prevTargets[r]);
          if (resets.has(r)) expect(inp % 10).toBe(0);
          expect(s.targets[r]).toBe(inp + 1);
          count.set(inp, (count.get(inp) ?? 0) + 1);
        }
        prevTargets = Array.from(s.targets);
      }
      expect(steps).toBe(5);
    }
    // 200 trained events over the 10 distinct ones: each ~20 times (only the run's last
    // unfinished sessions make it uneven), and item 30 (a 1-item session) never
    const inputs = [0, 1, 2, 10, 20, 21, 40, 41, 42, 43];
    for (const i of inputs) {
      expect(count.get(i)).toBeGreaterThanOrEqual(18);
      expect(count.get(i)).toBeLessThanOrEqual(22);
    }
    expect(count.has(30)).toBe(false);
    expect([...count.values()].reduce((a, b) => a + b, 0)).toBe(200);
  });
});
