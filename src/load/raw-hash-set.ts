/**
 * The raw hashes (16 bytes: XXH3-128 of a line, or MD5 of the cells on the record path) of a feed's current
 * versions, held in typed arrays so that a 2M-row feed costs ~80 MB instead of the ~200 MB a Map of strings
 * would: open addressing with linear probing, four 32-bit words per slot. Each slot also remembers the first
 * record of the incoming file that carried its hash (0: none yet), which is what "recognised" means — that line
 * is byte for byte the one the current version was loaded from — and the version's id, so that SQL is told the
 * versions the file did not carry by their primary key.
 */

export const RAW_HASH_BYTES = 16;
/** A hash and its version's id (int8), as PostgreSQL packs them. */
export const PAIR_BYTES = RAW_HASH_BYTES + 8;

/** An int8 id, big-endian as PostgreSQL's int8send (ids stay below 2^53). */
export function writeId(buf: Buffer, at: number, id: number): void {
  buf.writeInt32BE(Math.floor(id / 2 ** 32), at);
  buf.writeUInt32BE(id % 2 ** 32, at + 4);
}

/** What `see` found for one record's hash. */
export type Sighting = 'first' | 'again' | 'absent';

/** Marks the start of an image (written in the platform's byte order, as the typed arrays hold it). */
const IMAGE_MAGIC = 0x52484831;
const IMAGE_HEADER = 8;

export class RawHashSet {
  private words: Uint32Array;
  /** Per slot: 0 empty, 1 holds a hash no record carried yet, 2 carried by a record of the file. */
  private state: Uint8Array;
  private firstRecord: Int32Array;
  private ids: Float64Array;
  private capacity: number;
  private filled = 0;

  /**
   * `expected`: about how many hashes will be added (the set grows past it, at the cost of a rehash); room is
   * left for a few more, so that a set read back from its image takes a load's new versions without a rehash.
   */
  constructor(expected: number, capacity = capacityFor(expected * 1.03)) {
    this.capacity = capacity;
    this.words = new Uint32Array(this.capacity * 4);
    this.state = new Uint8Array(this.capacity);
    this.firstRecord = new Int32Array(this.capacity);
    this.ids = new Float64Array(this.capacity);
  }

  /**
   * The set's memory as it is — a header, the slots' hashes, their ids (0: empty) — for the recognition cache:
   * read back (`ImageReader`) it is the set again without hashing or probing (measured for 2M hashes: ~0.05 s
   * of copying against 0.45–0.5 s of adding them one by one). Views, not copies.
   */
  image(): Buffer[] {
    const header = Buffer.alloc(IMAGE_HEADER);
    new Uint32Array(header.buffer, header.byteOffset, 2).set([IMAGE_MAGIC, this.capacity]);
    const view = (a: Uint32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    return [header, view(this.words), view(this.ids)];
  }

  /**
   * Removes the hashes of the versions in `ids`; returns how many. By shifting back the hashes after each one
   * removed (linear probing's deletion without markers), so that the set holds no more slots than hashes.
   */
  remove(ids: ReadonlySet<number>): number {
    if (ids.size === 0) return 0;
    const has = membership(ids);
    let n = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      // A hash shifted into this slot is looked at again: it came from further on, not yet looked at.
      while (this.state[slot] !== 0 && has(this.ids[slot]!)) {
        this.removeAt(slot);
        n++;
      }
    }
    return n;
  }

  private removeAt(at: number): void {
    const cap = this.capacity;
    let hole = at;
    for (let j = (hole + 1) % cap; this.state[j] !== 0; j = (j + 1) % cap) {
      const home = this.words[j * 4]! % cap;
      // The hash at j stays if its home is cyclically within (hole, j]: its probe sequence does not cross the hole.
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.words.copyWithin(hole * 4, j * 4, j * 4 + 4);
      this.state[hole] = this.state[j]!;
      this.firstRecord[hole] = this.firstRecord[j]!;
      this.ids[hole] = this.ids[j]!;
      hole = j;
    }
    this.state[hole] = 0;
    this.ids[hole] = 0;
    this.filled--;
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
    this.capacity = capacityFor(capacity * 1.5);
    this.filled = 0;
    this.words = new Uint32Array(this.capacity * 4);
    this.state = new Uint8Array(this.capacity);
    this.firstRecord = new Int32Array(this.capacity);
    this.ids = new Float64Array(this.capacity);
    const bytes = new Uint8Array(words.buffer);
    for (let slot = 0; slot < capacity; slot++) {
      if (state[slot] === 0) continue;
      const to = -this.find(bytes, slot * 16) - 1;
      this.filled++;
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

  /** The byte views an image is read into (ImageReader): the hashes, then the ids. */
  raw(): Uint8Array[] {
    return [new Uint8Array(this.words.buffer), new Uint8Array(this.ids.buffer)];
  }

  /** After an image was read into `raw()`: each slot's state from its id (positive; 0 is empty); returns the size. */
  afterImage(): number {
    this.filled = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.ids[slot] === 0) continue;
      this.filled++;
      this.state[slot] = 1;
    }
    return this.filled;
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

/**
 * An image this code cannot read as it is: written where the byte order is the other one, or not the length its
 * capacity gives (a slice missing). The load reads the feed's table instead.
 */
export class UnreadableImageError extends Error {}

/**
 * A set read back from its image as the bytes arrive (`push` any pieces, then `finish`). Throws
 * UnreadableImageError on an image this code cannot read.
 */
export class ImageReader {
  private set: RawHashSet | null = null;
  private bytes: Uint8Array[] = [];
  private header = Buffer.alloc(IMAGE_HEADER);
  private at = 0;

  push(buf: Uint8Array): void {
    let from = 0;
    if (this.at < IMAGE_HEADER) {
      const k = Math.min(IMAGE_HEADER - this.at, buf.length);
      this.header.set(buf.subarray(0, k), this.at);
      this.at += k;
      from = k;
      if (this.at < IMAGE_HEADER) return;
      const [magic, capacity] = new Uint32Array(this.header.buffer, this.header.byteOffset, 2);
      if (magic !== IMAGE_MAGIC) throw new UnreadableImageError('a recognition image of another byte order');
      this.set = new RawHashSet(0, capacity);
      this.bytes = this.set.raw();
    }
    for (let i = from; i < buf.length; ) {
      let pos = this.at - IMAGE_HEADER;
      const part = this.bytes.find((b) => {
        if (pos < b.length) return true;
        pos -= b.length;
        return false;
      });
      if (!part) throw new UnreadableImageError('a recognition image longer than its capacity');
      const k = Math.min(part.length - pos, buf.length - i);
      part.set(buf.subarray(i, i + k), pos);
      i += k;
      this.at += k;
    }
  }

  /** The set, and how many hashes it holds. */
  finish(): { set: RawHashSet; live: number } {
    if (!this.set) throw new Error('an empty recognition image');
    // Read in slices (src/load/recognize.ts): one missing would leave slots empty without a word.
    if (this.at !== IMAGE_HEADER + this.bytes.reduce((n, b) => n + b.length, 0))
      throw new UnreadableImageError('a recognition image shorter than its capacity');
    return { set: this.set, live: this.set.afterImage() };
  }
}

/**
 * A test of membership in `ids` for every slot of a set: a bitmap over the ids' range when it is not too wide
 * (version ids are a sequence), where Set.has on each of 2M slots took ~150 ms of a load's first pass.
 */
function membership(ids: ReadonlySet<number>): (id: number) => boolean {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const id of ids) {
    if (id < lo) lo = id;
    if (id > hi) hi = id;
  }
  const span = hi - lo + 1;
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || span > 2 ** 30) return (id) => ids.has(id);
  const bits = new Uint8Array(Math.ceil(span / 8));
  for (const id of ids) if (Number.isInteger(id)) bits[(id - lo) >>> 3]! |= 1 << ((id - lo) & 7);
  return (id) => {
    const at = id - lo;
    return at >= 0 && at < span && (bits[at >>> 3]! & (1 << (at & 7))) !== 0;
  };
}

const capacityFor = (n: number) => Math.max(16, Math.ceil(n / 0.75) + 1);

/** Little-endian, as the typed array stores it (so a stored hash reads back through `find` unchanged). */
export function word(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}
