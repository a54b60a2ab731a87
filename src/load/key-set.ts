/**
 * Whether any two valid rows of a file share a business key, learnt from their keys' 53-bit hashes as the rows are
 * normalized (src/load/row-normalizer.ts keyHash): when none do, every row keeps rn = hrn = 1 and the ranking
 * statement (normalize-staged.ts rankDuplicates: a hash aggregate over every staged row, ~0.6 s for 500k roster
 * rows on PostgreSQL 15) is not run. A repeated hash may be a collision: it only means the statement runs.
 *
 * Open addressing over a Float64Array (0 marks a free slot: a hash of 0 is kept apart), doubled at half full: 16
 * bytes a key at most, 32 MB for 2M keys. Past MAX_KEYS it stops counting and answers "maybe": memory stays
 * bounded whatever the file's size.
 */
const MAX_KEYS = 4_000_000;

export class KeySet {
  private slots = new Float64Array(1 << 12);
  private size = 0;
  private zero = false;
  /** A key seen twice, or too many keys to tell: the ranking statement must run. */
  maybeRepeated = false;

  /** Adds a batch's key hashes (RowOutput.keys). */
  addAll(hashes: Float64Array): void {
    if (this.maybeRepeated) return;
    for (let i = 0; i < hashes.length; i++) {
      if (!this.add(hashes[i]!)) {
        this.repeated();
        return;
      }
    }
  }

  /** False when `h` was there already. */
  private add(h: number): boolean {
    if (h === 0) {
      if (this.zero) return false;
      this.zero = true;
      return true;
    }
    if (++this.size > MAX_KEYS) return false;
    if (this.size * 2 > this.slots.length) this.grow();
    return this.place(this.slots, h);
  }

  private place(slots: Float64Array, h: number): boolean {
    const mask = slots.length - 1;
    // The low 32 bits are the hash's best mixed (cyrb53's h1).
    let i = (h >>> 0) & mask;
    for (;;) {
      const v = slots[i]!;
      if (v === 0) {
        slots[i] = h;
        return true;
      }
      if (v === h) return false;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    for (const v of old) if (v !== 0) this.place(this.slots, v);
  }

  /** Stops counting: the answer is "maybe" from now on, and the memory is let go. */
  repeated(): void {
    this.maybeRepeated = true;
    this.slots = new Float64Array(0);
  }
}
