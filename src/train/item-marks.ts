/**
 * Per-item scratch for grouping ids within one pass without clearing an [N] array each
 * time: `stamp[v] === pass` marks item v as seen in the current pass, `where[v]` holds
 * what the pass recorded for it (a slot, a row). Used to sum a step's gradient rows per
 * unique item (the JS optimiser and the resident kernel alike) and to find accidental
 * hits.
 */
export class ItemMarks {
  readonly stamp: Int32Array;
  readonly where: Int32Array;
  private pass = 0;

  constructor(items: number) {
    this.stamp = new Int32Array(items).fill(-1);
    this.where = new Int32Array(items);
  }

  /** Starts a pass: marks from earlier passes no longer count. Returns its number. */
  next(): number {
    return ++this.pass;
  }

  /**
   * The unique ids of `list` in first-seen order, written to `ids` (from index 0), and
   * each entry's slot among them in `pos` [list.length]. Returns how many are unique.
   */
  unique(list: Int32Array, ids: Int32Array, pos: Int32Array): number {
    const no = this.next();
    let u = 0;
    for (let k = 0; k < list.length; k++) {
      const v = list[k];
      if (this.stamp[v] !== no) {
        this.stamp[v] = no;
        this.where[v] = u;
        ids[u++] = v;
      }
      pos[k] = this.where[v];
    }
    return u;
  }
}
