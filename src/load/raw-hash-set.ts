/**
 * The raw hashes (16 bytes: XXH3-128 of a line, or MD5 of the cells on the record path) of a feed's current
 * versions, held in typed arrays so that a 2M-row feed costs ~80 MB instead of the ~200 MB a Map of strings
 * would: open addressing with linear probing, four 32-bit words per slot. Each slot also remembers the first
 * record of the incoming file that carried its hash (0: none yet), which is what "recognised" means — that line
 * is byte for byte the one the current version was loaded from — and the version's id, so that SQL is told the
 * versions the file did not carry by their primary key.
 */

export const RAW_HASH_BYTES = 16;

/** What `see` found for one record's hash. */
export type Sighting = 'first' | 'again' | 'absent';

export class RawHashSet {
  private words: Uint32Array;
  /** Per slot: 0 empty, 1 holds a hash no record carried yet, 2 carried by a record of the file. */
  private state: Uint8Array;
  private firstRecord: Int32Array;
  private ids: Float64Array;
  private capacity: number;
  private filled = 0;

  /** `expected`: about how many hashes will be added (the set grows past it, at the cost of a rehash). */
  constructor(expected: number) {
    this.capacity = capacityFor(expected);
    this.words = new Uint32Array(this.capacity * 4);
    this.state = new Uint8Array(this.capacity);
    this.firstRecord = new Int32Array(this.capacity);
    this.ids = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.filled;
  }

  /** Adds a version's hash (bytes at `offset` of `buf`); a hash already present is not added twice. */
  add(buf: Uint8Array, offset: number, id: number): void {
    // 0.75 load factor at most: linear probing stays short at that fill.
    if (this.filled + 1 > this.capacity * 0.75) this.grow();
    const slot = this.find(buf, offset);
    if (slot >= 0) return;
    const free = -slot - 1;
    for (let i = 0; i < 4; i++) this.words[free * 4 + i] = word(buf, offset + i * 4);
    this.state[free] = 1;
    this.ids[free] = id;
    this.filled++;
  }

  private grow(): void {
    const { words, state, firstRecord, ids, capacity } = this;
    this.capacity = capacityFor(capacity * 2);
    this.words = new Uint32Array(this.capacity * 4);
    this.state = new Uint8Array(this.capacity);
    this.firstRecord = new Int32Array(this.capacity);
    this.ids = new Float64Array(this.capacity);
    const bytes = new Uint8Array(words.buffer);
    for (let slot = 0; slot < capacity; slot++) {
      if (state[slot] === 0) continue;
      const to = -this.find(bytes, slot * 16) - 1;
      this.words.set(words.subarray(slot * 4, slot * 4 + 4), to * 4);
      this.state[to] = state[slot]!;
      this.firstRecord[to] = firstRecord[slot]!;
      this.ids[to] = ids[slot]!;
    }
  }

  /** Records that record `recNo` (1-based) of the incoming file has the hash at `offset` of `hash`. */
  see(hash: Uint8Array, recNo: number, offset = 0): Sighting {
    const slot = this.find(hash, offset);
    if (slot < 0) return 'absent';
    if (this.state[slot] === 2) return 'again';
    this.state[slot] = 2;
    this.firstRecord[slot] = recNo;
    return 'first';
  }

  /** The record that first carried `hash`, 0 if none did or the hash is not in the set. */
  recordOf(hash: Uint8Array): number {
    const slot = this.find(hash, 0);
    return slot < 0 ? 0 : (this.firstRecord[slot] ?? 0);
  }

  /** The ids of the versions whose hash no record of the file carried. */
  *unseen(): Generator<number> {
    for (let slot = 0; slot < this.capacity; slot++) if (this.state[slot] === 1) yield this.ids[slot]!;
  }

  /** The slot holding the hash (≥ 0), or −(free slot) − 1 where it would go. */
  private find(buf: Uint8Array, offset: number): number {
    const w0 = word(buf, offset);
    const w1 = word(buf, offset + 4);
    const w2 = word(buf, offset + 8);
    const w3 = word(buf, offset + 12);
    // Both hashes are uniform: the first word is already a good slot index.
    let slot = w0 % this.capacity;
    for (;;) {
      if (this.state[slot] === 0) return -slot - 1;
      const w = slot * 4;
      if (
        this.words[w] === w0 &&
        this.words[w + 1] === w1 &&
        this.words[w + 2] === w2 &&
        this.words[w + 3] === w3
      ) {
        return slot;
      }
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
  }
}

const capacityFor = (n: number) => Math.max(16, Math.ceil(n / 0.75) + 1);

/** Little-endian, as the typed array stores it (so a stored hash reads back through `find` unchanged). */
function word(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}
