/**
 * The recognizer's hash of a record: XXH3-128 of the record's bytes (line ending left out), seeded from the
 * load's settings fingerprint (normalizer code, field types, time zone, regions, header, mapping, encoding,
 * delimiter), so the same bytes hash alike only under the same settings.
 *
 * Why not MD5: for records of ~150 bytes the cost is the call, not the bytes; XXH3-128 from hash-wasm costs
 * 0.36 µs a record against MD5's 0.8 µs (measured on 2M roster lines). The hash only ever meets hashes this
 * code computed (the record path's cell hashes are another kind, computed in SQL), and a department is not an
 * adversary forging collisions; 128 bits make an accidental one negligible.
 */
import { createHash } from 'node:crypto';
import { createXXHash128, type IHasher } from 'hash-wasm';
import { HashWorker } from './hash-worker.ts';
import { RAW_HASH_BYTES } from './raw-hash-set.ts';
import { type RecordBatch, RecordSplitter } from './record-splitter.ts';

/** The 64-bit seed (low, high word) of a settings fingerprint. */
export function lineSeed(fingerprint: string): [number, number] {
  const d = createHash('md5').update(fingerprint).digest();
  return [d.readUInt32LE(0), d.readUInt32LE(4)];
}

export class LineHasher {
  private constructor(
    private readonly hasher: IHasher,
    private readonly worker: HashWorker | null,
    /** The hash's seed: the bulk path's row normalizer hashes records with it too (src/load/normalize-bulk.ts). */
    readonly seed: readonly [number, number],
  ) {}

  /** `parallel`: hash part of each batch on a second thread (src/load/hash-worker.ts). */
  static async create(fingerprint: string, parallel: boolean): Promise<LineHasher> {
    const seed = lineSeed(fingerprint);
    return new LineHasher(await createXXHash128(...seed), parallel ? new HashWorker(seed) : null, seed);
  }

  /**
   * The hashes of a batch's records, 16 bytes each, in order. `offload`: all of them on the second thread (if
   * any) while it keeps up, leaving this one free for other work, and here when it has two batches waiting
   * already; else half there, half here.
   */
  async hash(batch: RecordBatch, offload = false): Promise<Uint8Array> {
    const { buf, starts, ends } = batch;
    const n = starts.length;
    if (n === 0) return new Uint8Array(0);
    const behind = (this.worker?.waiting ?? 0) >= 2;
    // Below a few hundred records the round trip to the worker costs more than it saves.
    const split = !this.worker || n < 512 ? n : offload ? (behind ? n : 0) : n >> 1;
    if (split === 0) return this.worker!.hash(buf, starts, ends);
    const theirs = split < n ? this.worker!.hash(buf, starts.slice(split), ends.slice(split)) : null;
    const out = new Uint8Array(RAW_HASH_BYTES * n);
    const h = this.hasher;
    for (let i = 0; i < split; i++) {
      h.init();
      h.update(buf.subarray(starts[i]!, ends[i]!));
      out.set(h.digest('binary'), RAW_HASH_BYTES * i);
    }
    if (theirs) out.set(await theirs, RAW_HASH_BYTES * split);
    return out;
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }
}

/**
 * The hashes of a file's records in order, as the first of the recognizer's two passes leaves them (16 bytes a
 * record: 32 MB for 2M records), read back in order by the second.
 */
export class RecordHashes {
  private readonly parts: Uint8Array[] = [];
  private part = 0;
  private at = 0;

  push(hashes: Uint8Array): void {
    if (hashes.length) this.parts.push(hashes);
  }

  /** The next n records' hashes; null when fewer than n are left (the file has more records than then). */
  take(n: number): Uint8Array | null {
    const want = RAW_HASH_BYTES * n;
    const cur = this.parts[this.part];
    if (cur && cur.length - this.at >= want) {
      const out = cur.subarray(this.at, this.at + want);
      this.advance(want);
      return out;
    }
    const out = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const p = this.parts[this.part];
      if (!p) return null;
      const k = Math.min(want - got, p.length - this.at);
      out.set(p.subarray(this.at, this.at + k), got);
      got += k;
      this.advance(k);
    }
    return out;
  }

  /** True once every hash was taken. */
  get done(): boolean {
    return this.part >= this.parts.length;
  }

  private advance(k: number): void {
    this.at += k;
    if (this.at === this.parts[this.part]!.length) {
      // Read once: let the part go.
      this.parts[this.part] = new Uint8Array(0);
      this.part++;
      this.at = 0;
    }
  }
}

/**
 * First pass: every record of the file hashed, in order. It runs while the main
 * thread also reads the current versions, so the hashing is left to the second thread where there is one, with a
 * few batches in flight so that it never waits for the next.
 */
export async function hashRecords(source: AsyncIterable<Buffer>, hasher: LineHasher): Promise<RecordHashes> {
  const IN_FLIGHT = 3;
  const splitter = new RecordSplitter();
  const hashes = new RecordHashes();
  const queue: Promise<Uint8Array>[] = [];
  const enqueue = (batch: RecordBatch) => {
    const hashed = hasher.hash(batch, true);
    hashed.catch(() => undefined); // awaited in turn below; the first failure is the one reported
    queue.push(hashed);
  };
  for await (const chunk of source) {
    enqueue(splitter.push(chunk));
    if (queue.length >= IN_FLIGHT) hashes.push(await queue.shift()!);
  }
  enqueue(splitter.end());
  for (const h of queue) hashes.push(await h);
  return hashes;
}
