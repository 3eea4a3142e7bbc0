import { LocalRecError } from '../core/errors';
import type { Sequences } from '../core/scorer';

/**
 * Session-parallel mini-batches (Hidasi et al. 2016, fig. 2). Each of the B slots
 * follows one session; every step feeds each active slot's current item as input and
 * its next item as target. A slot whose session ends takes the next session (its
 * hidden state is reset). Once no sessions are left, `tail: 'shrink'` drops the slot
 * and the batch shrinks until every session is done; `tail: 'drop'` ends the epoch
 * there; `tail: 'wrap'` (SessionStream below) starts the order again. Sessions are taken in order of their start time (first event time when
 * `times` is given, otherwise their order in the input), not shuffled.
 */
export interface BatchStep {
  /** Input item of each active row. */
  inputs: Int32Array;
  /** Target (next) item of each active row. */
  targets: Int32Array;
  /**
   * When rows were dropped since the previous step: the previous rows to keep, in
   * order (the hidden state is gathered with it). `null` = same rows as before.
   */
  keep: Int32Array | null;
  /** Rows (after `keep`) that start a new session: their hidden state is zeroed. */
  resets: Int32Array | null;
}

export function sessionOrder(data: Sequences): Int32Array {
  const n = data.offsets.length - 1;
  const ids: number[] = [];
  for (let s = 0; s < n; s++) if (data.offsets[s + 1] - data.offsets[s] >= 2) ids.push(s);
  const t = data.times;
  if (t) ids.sort((a, b) => t[data.offsets[a]] - t[data.offsets[b]] || a - b);
  return Int32Array.from(ids);
}

/** Number of training events (input → target pairs) in the data. */
export function countEvents(data: Sequences): number {
  let e = 0;
  for (let s = 0; s + 1 < data.offsets.length; s++) {
    const len = data.offsets[s + 1] - data.offsets[s];
    if (len >= 2) e += len - 1;
  }
  return e;
}

export function checkSequences(data: Sequences): void {
  const { items, offsets, numItems } = data;
  if (!(items instanceof Int32Array) || !(offsets instanceof Int32Array) || offsets.length < 1) {
    throw new LocalRecError('INVALID_INPUT', 'sequences need Int32Array items and offsets');
  }
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== items.length) {
    throw new LocalRecError('INVALID_INPUT', 'offsets must start at 0 and end at items.length');
  }
  for (let s = 1; s < offsets.length; s++) {
    if (offsets[s] < offsets[s - 1]) {
      throw new LocalRecError('INVALID_INPUT', 'offsets must be non-decreasing', {
        details: { field: 'offsets', index: s },
      });
    }
  }
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (v < 0 || v >= numItems) {
      throw new LocalRecError('INVALID_INPUT', `item ${v} outside 0..${numItems - 1}`, {
        details: { field: 'items', index: i },
      });
    }
  }
}

/** Generates one epoch of steps. Buffers are reused between steps: copy to keep. */
export function* sessionParallelSteps(
  data: Sequences,
  batchSize: number,
  order: Int32Array = sessionOrder(data),
  tail: 'drop' | 'shrink' = 'shrink',
): Generator<BatchStep> {
  const { items, offsets } = data;
  let next = 0;
  // Per active row: absolute position of its current input, and its session's end.
  let pos = new Int32Array(batchSize);
  let end = new Int32Array(batchSize);
  let rows = 0;
  while (rows < batchSize && next < order.length) {
    const s = order[next++];
    pos[rows] = offsets[s];
    end[rows] = offsets[s + 1];
    rows++;
  }
  const inputs = new Int32Array(batchSize);
  const targets = new Int32Array(batchSize);
  const resetBuf = new Int32Array(batchSize);
  const keepBuf = new Int32Array(batchSize);
  let first = true;
  while (rows > 0) {
    let nResets = 0;
    let nKeep = 0;
    let dropped = false;
    const newPos = new Int32Array(batchSize);
    const newEnd = new Int32Array(batchSize);
    for (let r = 0; r < rows; r++) {
      if (pos[r] + 1 < end[r]) {
        newPos[nKeep] = pos[r];
        newEnd[nKeep] = end[r];
        keepBuf[nKeep++] = r;
        continue;
      }
      if (next < order.length) {
        const s = order[next++];
        newPos[nKeep] = offsets[s];
        newEnd[nKeep] = offsets[s + 1];
        resetBuf[nResets++] = nKeep;
        keepBuf[nKeep++] = r;
      } else {
        dropped = true;
      }
    }
    // 'drop': the epoch ends when the first slot finds no session left (the tails of
    // the sessions still running are not trained on this epoch), instead of finishing
    // them in ever smaller batches that end each epoch on a few long sessions.
    if (dropped && tail === 'drop') break;
    rows = nKeep;
    pos = newPos;
    end = newEnd;
    if (rows === 0) break;
    for (let r = 0; r < rows; r++) {
      inputs[r] = items[pos[r]];
      targets[r] = items[pos[r] + 1];
      pos[r]++;
    }
    yield {
      inputs: inputs.subarray(0, rows),
      targets: targets.subarray(0, rows),
      keep: dropped ? keepBuf.slice(0, rows) : null,
      resets: nResets > 0 && !first ? resetBuf.slice(0, nResets) : null,
    };
    first = false;
  }
}

/**
 * `tail: 'wrap'`: one continuous session-parallel stream over the whole run. A slot
 * whose session ends takes the next session in start-time order, and after the last
 * session the order starts again from the first, so the batch stays full and the slots
 * carry on across epoch boundaries (hidden states included). An "epoch" is
 * `ceil(events / B)` steps, i.e. as many training events as the data has. Unlike
 * `drop`, no event is left out every epoch (with `drop` the tails of the sessions still
 * running when the order runs out are never trained: 14% of MovieLens's training events
 * at B = 64, 28% at B = 128, because those are the long late users); unlike `shrink`,
 * no epoch ends on ever smaller batches of a few long sessions.
 */
export class SessionStream {
  readonly rows: number;
  readonly stepsPerEpoch: number;
  private readonly pos: Int32Array;
  private readonly end: Int32Array;
  private next = 0;
  private fresh = true;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly resetBuf: Int32Array;

  constructor(
    private readonly data: Sequences,
    batchSize: number,
    private readonly order: Int32Array = sessionOrder(data),
  ) {
    this.rows = Math.min(batchSize, order.length);
    this.pos = new Int32Array(this.rows);
    this.end = new Int32Array(this.rows);
    for (let r = 0; r < this.rows; r++) this.take(r);
    this.inputs = new Int32Array(this.rows);
    this.targets = new Int32Array(this.rows);
    this.resetBuf = new Int32Array(this.rows);
    this.stepsPerEpoch = this.rows > 0 ? Math.ceil(countEvents(data) / this.rows) : 0;
  }

  private take(r: number): void {
    const s = this.order[this.next];
    this.next = (this.next + 1) % this.order.length;
    this.pos[r] = this.data.offsets[s];
    this.end[r] = this.data.offsets[s + 1];
  }

  /** The next epoch's steps. Buffers are reused between steps: copy to keep. */
  *epoch(): Generator<BatchStep> {
    const { items } = this.data;
    const { rows, pos, end } = this;
    for (let step = 0; step < this.stepsPerEpoch; step++) {
      let nResets = 0;
      for (let r = 0; r < rows; r++) {
        if (pos[r] + 1 >= end[r]) {
          this.take(r);
          this.resetBuf[nResets++] = r;
        }
        this.inputs[r] = items[pos[r]];
        this.targets[r] = items[pos[r] + 1];
        pos[r]++;
      }
      const resets = nResets > 0 && !this.fresh ? this.resetBuf.slice(0, nResets) : null;
      this.fresh = false;
      yield { inputs: this.inputs, targets: this.targets, keep: null, resets };
    }
  }
}
