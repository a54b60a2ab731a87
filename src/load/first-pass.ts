/**
 * The recognizer's first pass over a file whose feed has current versions (src/load/recognize.ts): every record
 * hashed (on the hashing thread while it keeps up) and, as soon as PostgreSQL has sent the current versions'
 * set, looked up in it — recognised, an exact duplicate, or kept. What the pass keeps of a kept record is where
 * it lies in the file (offset, length), its record number and a word of its hash; the second pass
 * (`FirstPass.batches`) reads the file again and copies out only those byte ranges, without splitting or looking
 * up the records it passes over.
 *
 * Why: the second pass used to split the whole file into records again and look each one up (~1 s of a 2M-row
 * re-sent snapshot with 1 % changed, on the critical path); the lookups now run beside the hashing, and the
 * second pass costs the read of the file and the few records it keeps.
 *
 * Memory: records hashed before the set has arrived wait with their hash and place (28 bytes each); past
 * PENDING_MAX of them the file is not read on until the set is there. A kept record costs 20 bytes.
 */

import type { LineHasher } from './line-hasher.ts';
import { RAW_HASH_BYTES, type RawHashSet, word } from './raw-hash-set.ts';
import { fileChanged, type RecognitionCounts, recognizeRecords } from './recognize.ts';
import { type RecordBatch, RecordSplitter } from './record-splitter.ts';
import type { RowBatch } from './row-normalizer.ts';

/** Records hashed and waiting for the set, past which the pass waits for it (~28 MB). */
const PENDING_MAX = 1_000_000;
/** Batches handed to the hashing thread and not back yet, so that it never waits for the next. */
const IN_FLIGHT = 3;
/** Kept records per block of their typed arrays: 2^BLOCK_BITS. */
const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;

/** A batch hashed before the set arrived: its records' hashes and places, until they are looked up. */
interface Waiting {
  hashes: Uint8Array;
  starts: Float64Array;
  lengths: Int32Array;
}

/**
 * Hashes every record of `source` and looks each up in the set `versions` resolves to (null: a feed with no
 * current version after all — every record is kept), counting into `counts`. Rejects with the hashing's or the
 * set's failure, or the splitter's (a stray quote, a record too long: record-splitter.ts). `o.delimiter`: the
 * file's (default a comma); `o.pendingMax`: PENDING_MAX, for tests.
 */
export async function firstPass(
  source: AsyncIterable<Buffer>,
  hasher: LineHasher,
  versions: Promise<RawHashSet | null>,
  counts: RecognitionCounts,
  o: { delimiter?: string; pendingMax?: number } = {},
): Promise<FirstPass> {
  const pendingMax = o.pendingMax ?? PENDING_MAX;
  const pass = new FirstPass();
  let set: RawHashSet | null = null;
  let arrived = false;
  const ready = versions.then((s) => {
    set = s;
    arrived = true;
  });
  ready.catch(() => undefined); // awaited below; its failure is the pass's
  const waiting: Waiting[] = [];
  let waitingRecords = 0;
  const decide = (
    hashes: Uint8Array,
    starts: ArrayLike<number>,
    lengths: ArrayLike<number>,
    base: number,
  ) => {
    recognizeRecords(starts.length, hashes, set, counts, (i, recNo) =>
      pass.keep(base + starts[i]!, lengths[i]!, recNo, hashes, i),
    );
  };
  const settle = () => {
    for (const w of waiting.splice(0)) decide(w.hashes, w.starts, w.lengths, 0);
    waitingRecords = 0;
  };
  /** A batch's hashes are back: looked up now, or kept waiting for the set. */
  const hashed = (batch: RecordBatch, hashes: Uint8Array) => {
    const base = batch.at;
    const n = batch.starts.length;
    const lengths = new Int32Array(n);
    for (let i = 0; i < n; i++) lengths[i] = batch.ends[i]! - batch.starts[i]!;
    if (arrived) {
      settle();
      decide(hashes, batch.starts, lengths, base);
      return;
    }
    const starts = new Float64Array(n);
    for (let i = 0; i < n; i++) starts[i] = base + batch.starts[i]!;
    waiting.push({ hashes, starts, lengths });
    waitingRecords += n;
  };

  const splitter = new RecordSplitter({ delimiter: o.delimiter });
  // The hashing reads a batch's bytes before it returns (copied to the thread or hashed here): the chunk they
  // are in may be reused by the reader once the next one is asked for.
  const queue: { batch: RecordBatch; hashes: Promise<Uint8Array> }[] = [];
  const enqueue = (batch: RecordBatch) => {
    const hashes = hasher.hash(batch, true);
    hashes.catch(() => undefined); // awaited in turn below; the first failure is the one reported
    queue.push({ batch, hashes });
  };
  const take = async () => {
    const q = queue.shift()!;
    hashed(q.batch, await q.hashes);
    if (waitingRecords >= pendingMax) {
      await ready;
      settle();
    }
  };
  let read = 0;
  for await (const chunk of source) {
    read += chunk.length;
    for (const batch of splitter.push(chunk)) enqueue(batch);
    while (queue.length >= IN_FLIGHT) await take();
  }
  for (const batch of splitter.end()) enqueue(batch);
  while (queue.length) await take();
  await ready;
  settle();
  pass.bytes = read;
  return pass;
}

/** What the first pass kept of a file: the records to stage. */
export class FirstPass {
  /** The file's bytes, as the first pass read them. */
  bytes = 0;
  private size = 0;
  private readonly starts: Float64Array[] = [];
  private readonly lengths: Int32Array[] = [];
  private readonly recNos: Int32Array[] = [];
  /** The first 32 bits of each kept record's hash: the second pass checks the bytes it copies against them. */
  private readonly words: Uint32Array[] = [];

  /** Keeps a record: at `start`, `length` bytes, its number, and the hash at `hashes[RAW_HASH_BYTES * i]`. */
  keep(start: number, length: number, recNo: number, hashes: Uint8Array, i: number): void {
    const b = this.size >>> BLOCK_BITS;
    const at = this.size & (BLOCK - 1);
    if (at === 0) {
      this.starts.push(new Float64Array(BLOCK));
      this.lengths.push(new Int32Array(BLOCK));
      this.recNos.push(new Int32Array(BLOCK));
      this.words.push(new Uint32Array(BLOCK));
    }
    this.starts[b]![at] = start;
    this.lengths[b]![at] = length;
    this.recNos[b]![at] = recNo;
    this.words[b]![at] = word(hashes, RAW_HASH_BYTES * i);
    this.size++;
  }

  /**
   * Second pass: the kept records, read from `source` (the same bytes as the first pass's), as batches for the
   * row normalizer or the staging lines (one per chunk read that holds any), hashed again by `hasher`. A file
   * whose bytes are not those the first pass read fails with FileChangedError.
   */
  async *batches(
    source: AsyncIterable<Buffer>,
    hasher: LineHasher,
    onBytes?: (bytes: number) => void,
  ): AsyncGenerator<RowBatch> {
    let k = 0;
    let pos = 0;
    /** A kept record that runs on into the next chunk: its bytes so far. */
    let part: { bytes: Uint8Array; filled: number } | null = null;
    let out = new Collector();
    for await (const chunk of source) {
      const end = pos + chunk.length;
      while (k < this.size) {
        const b = k >>> BLOCK_BITS;
        const at = k & (BLOCK - 1);
        const start = this.starts[b]![at]!;
        const length = this.lengths[b]![at]!;
        if (start >= end) break;
        if (!part && start >= pos && start + length <= end) {
          out.add(
            chunk.subarray(start - pos, start - pos + length),
            this.recNos[b]![at]!,
            this.words[b]![at]!,
          );
          k++;
          continue;
        }
        part ??= { bytes: new Uint8Array(length), filled: 0 };
        const from = Math.max(start, pos) - pos;
        const to = Math.min(start + length, end) - pos;
        part.bytes.set(chunk.subarray(from, to), part.filled);
        part.filled += to - from;
        if (part.filled < length) break; // the rest is in the next chunk
        out.add(part.bytes, this.recNos[b]![at]!, this.words[b]![at]!);
        part = null;
        k++;
      }
      pos = end;
      onBytes?.(pos);
      if (out.count) {
        yield await out.batch(hasher);
        out = new Collector();
      }
    }
    if (k < this.size || pos !== this.bytes) throw fileChanged();
  }
}

/** The kept records of one chunk, gathered into a row batch of their own memory. */
class Collector {
  private readonly parts: Uint8Array[] = [];
  private readonly recNos: number[] = [];
  private readonly words: number[] = [];
  private size = 0;

  get count(): number {
    return this.recNos.length;
  }

  add(bytes: Uint8Array, recNo: number, hashWord: number): void {
    this.parts.push(bytes);
    this.recNos.push(recNo);
    this.words.push(hashWord);
    this.size += bytes.length;
  }

  /** The batch, its records hashed again and checked against the first pass's words. */
  async batch(hasher: LineHasher): Promise<RowBatch> {
    const n = this.count;
    const bytes = new Uint8Array(this.size);
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    let at = 0;
    for (let i = 0; i < n; i++) {
      starts[i] = at;
      bytes.set(this.parts[i]!, at);
      at += this.parts[i]!.length;
      ends[i] = at;
    }
    const hashes = new Uint8Array(
      await hasher.hash({ buf: Buffer.from(bytes.buffer), starts: [...starts], ends: [...ends] }),
    );
    for (let i = 0; i < n; i++) if (word(hashes, RAW_HASH_BYTES * i) !== this.words[i]) throw fileChanged();
    return { bytes, starts, ends, recNos: Float64Array.from(this.recNos), hashes };
  }
}
