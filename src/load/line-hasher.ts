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
import type { RecordBatch } from './record-splitter.ts';

/** The 64-bit seed (low, high word) of a settings fingerprint. */
export function lineSeed(fingerprint: string): [number, number] {
  const d = createHash('md5').update(fingerprint).digest();
  return [d.readUInt32LE(0), d.readUInt32LE(4)];
}

export class LineHasher {
  private constructor(
    private readonly hasher: IHasher,
    /** Null once closed: later batches are hashed here. */
    private worker: HashWorker | null,
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
  async hash(batch: Pick<RecordBatch, 'buf' | 'starts' | 'ends'>, offload = false): Promise<Uint8Array> {
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
    const worker = this.worker;
    this.worker = null;
    await worker?.close();
  }
}
