import { describe, expect, it } from 'vitest';
import { FINE_TUNE_DEFAULTS, resolveFineTune, trainingSlice } from '../../src/runtime/fine-tune';

// Three sessions: [1 2 3] ending at t=12, [4] at t=20, [5 6 7 8] ending at t=33; the
// store's sequence numbers (keys) in write order.
const seqs = {
  items: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  offsets: Int32Array.from([0, 3, 4, 8]),
  times: Float64Array.from([10, 11, 12, 20, 30, 31, 32, 33]),
  keys: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
};

describe('trainingSlice', () => {
  it('keeps sessions with a next-item pair, all of them by default', () => {
    const s = trainingSlice(seqs);
    expect(s.sessions).toBe(2);
    expect([...s.items]).toEqual([1, 2, 3, 5, 6, 7, 8]);
    expect([...s.offsets]).toEqual([0, 3, 7]);
  });
  it('keeps only sessions with events written after `afterKey`', () => {
    const s = trainingSlice(seqs, { afterKey: 3 });
    expect([...s.items]).toEqual([5, 6, 7, 8]);
  });
  it('finds new events by sequence number whatever their timestamps say', () => {
    // The first session was stamped far in the future (t = 5e12) and written first; a
    // time-based "newer than the newest seen" would hide the later session for good.
    const clockSkewed = { ...seqs, times: Float64Array.from([10, 11, 5e12, 20, 30, 31, 32, 33]) };
    expect([...trainingSlice(clockSkewed, { afterKey: 3 }).items]).toEqual([5, 6, 7, 8]);
    // A back-dated event written last (key 9) makes its older session new again.
    const backDated = { ...seqs, keys: Float64Array.from([1, 9, 3, 4, 5, 6, 7, 8]) };
    expect([...trainingSlice(backDated, { afterKey: 8 }).items]).toEqual([1, 2, 3]);
    expect(trainingSlice(seqs, { afterKey: 8 }).sessions).toBe(0);
  });
  it('caps at the most recent maxEvents, cutting the older session at its front', () => {
    expect([...trainingSlice(seqs, { maxEvents: 6 }).items]).toEqual([2, 3, 5, 6, 7, 8]);
    // a remainder of one event is no pair: that session is dropped
    const s = trainingSlice(seqs, { maxEvents: 5 });
    expect([...s.items]).toEqual([5, 6, 7, 8]);
    expect(s.sessions).toBe(1);
    expect([...trainingSlice(seqs, { maxEvents: 3 }).items]).toEqual([6, 7, 8]);
  });
});

describe('resolveFineTune', () => {
  it('fills the defaults and refuses bad values with the field named', () => {
    expect(resolveFineTune()).toEqual(FINE_TUNE_DEFAULTS);
    expect(resolveFineTune({ blend: 0.2 }).blend).toBe(0.2);
    for (const bad of [{ blend: 1.5 }, { blend: Number.NaN }, { base: 'x' }, { maxEvents: 1 }]) {
      expect(() => resolveFineTune(bad as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    }
    try {
      resolveFineTune({ blend: -1 });
    } catch (e) {
      expect((e as { details?: { field?: string } }).details?.field).toBe(
        'training.fineTune.blend',
      );
    }
  });
});
