import { describe, expect, it } from 'vitest';
import { StepBuffers } from '../../src/model/buffers';

describe('StepBuffers', () => {
  it('hands out zeroed, non-overlapping views, reused after a reset', () => {
    const b = new StepBuffers(256);
    const x = b.f32(10);
    x.fill(7);
    const y = b.f32(3);
    expect(Array.from(y)).toEqual([0, 0, 0]);
    expect(y.byteOffset).toBeGreaterThanOrEqual(x.byteOffset + x.byteLength);
    b.reset();
    const z = b.f32(10);
    expect(z.buffer).toBe(x.buffer);
    expect(Array.from(z)).toEqual(new Array(10).fill(0)); // zeroed again
    const w = b.f32(10, false);
    expect(w.length).toBe(10);
  });

  it('grows without invalidating earlier views, and keeps the larger buffer from the next reset', () => {
    const b = new StepBuffers(64);
    const small = b.f32(8);
    small.fill(1);
    const big = b.f32(100); // does not fit: a new buffer
    big.fill(2);
    expect(big.buffer).not.toBe(small.buffer);
    expect(Array.from(small)).toEqual(new Array(8).fill(1)); // still readable, unchanged
    b.reset();
    const again = b.f32(100);
    const next = b.f32(8);
    expect(next.buffer).toBe(again.buffer); // one buffer holds a whole step now
    expect(b.i32(4)).toBeInstanceOf(Int32Array);
  });
});
