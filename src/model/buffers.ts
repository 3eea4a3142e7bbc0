/**
 * Where a training step's temporary arrays come from. A fresh `Float32Array` of a few
 * hundred kilobytes is expensive in a hot loop: allocations above malloc's mmap
 * threshold are fresh pages each time (zeroed by the OS, page faults on first touch), so
 * a `slice` of 150 KB took ~190 µs in Chromium's worker and ~43 µs in Node here against
 * ~2-4 µs to `set` the same numbers into an existing array. A step makes dozens of them.
 *
 * `StepBuffers` hands out views into one reused ArrayBuffer instead: `reset()` at the
 * start of a step (or of a BPTT window) makes all earlier views free again, so every
 * array taken from it is valid until the next reset and must not be kept longer (copy
 * what must outlive it, e.g. the carried hidden state). When the buffer runs out, a
 * larger one is allocated for the rest of the step (views into the old one stay valid:
 * plain JS memory is never detached) and kept from the next reset on.
 */
export interface Buffers {
  /** n float32, zeroed unless `zero` is false (for arrays the caller overwrites whole). */
  f32(n: number, zero?: boolean): Float32Array;
  /** n int32, zeroed. */
  i32(n: number): Int32Array;
}

/** Fresh arrays every time (the default outside a training step). */
export const freshBuffers: Buffers = {
  f32: (n) => new Float32Array(n),
  i32: (n) => new Int32Array(n),
};

export class StepBuffers implements Buffers {
  private buf: ArrayBuffer;
  private at = 0;
  /** Bytes handed out since the last reset (the next buffer's size when it outgrew this). */
  private used = 0;

  constructor(bytes = 1 << 20) {
    this.buf = new ArrayBuffer(bytes);
  }

  /** Every array handed out before is free again. */
  reset(): void {
    if (this.used > this.buf.byteLength) this.buf = new ArrayBuffer(this.used + (this.used >> 2));
    this.at = 0;
    this.used = 0;
  }

  private take(bytes: number): number {
    const size = (bytes + 15) & ~15;
    this.used += size;
    if (this.at + size > this.buf.byteLength) {
      this.buf = new ArrayBuffer(Math.max(size, this.buf.byteLength * 2));
      this.at = 0;
    }
    const at = this.at;
    this.at += size;
    return at;
  }

  f32(n: number, zero = true): Float32Array {
    const at = this.take(n * 4); // (first: it may replace this.buf)
    const v = new Float32Array(this.buf, at, n);
    if (zero) v.fill(0);
    return v;
  }

  i32(n: number): Int32Array {
    const at = this.take(n * 4);
    return new Int32Array(this.buf, at, n).fill(0);
  }
}
