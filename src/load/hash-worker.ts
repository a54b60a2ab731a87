/**
 * A second thread for the recognizer's record hashes (src/load/line-hasher.ts) and the bulk path's row
 * normalization (src/load/row-normalizer.ts, from src/load/normalize-bulk.ts). For hashes, used when most records of a
 * large file are expected to be recognised (a re-sent snapshot): PostgreSQL then has little to do, and its core
 * can hash. Each batch is split: this thread hashes one part while the main thread hashes the other. Both use
 * hash-wasm (two threads calling node:crypto in one process ran at half speed each: the OpenSSL calls contend).
 * The thread runs src/load/hash-thread.mjs: from the sources beside this file, from the bundle as
 * dist/hash-thread.mjs beside the bundle's chunks (scripts/bundle.js), the same relative address either way.
 */
import { Worker } from 'node:worker_threads';
import type { RowBatch, RowOutput, RowPlan } from './row-normalizer.ts';
import { CopyFormatError } from './row-normalizer.ts';

/** A batch for the hashing thread: the records bytes[starts[i], ends[i]). */
export interface HashJob {
  id: number;
  bytes: Uint8Array<ArrayBuffer>;
  starts: Int32Array;
  ends: Int32Array;
}

/** A batch hashed: 16 bytes a record in `out`, and the batch's bytes handed back for reuse. */
export interface HashDone {
  id: number;
  out: Uint8Array<ArrayBuffer>;
  bytes: Uint8Array<ArrayBuffer>;
}

/** The plan of the bulk path's rows (src/load/row-normalizer.ts), sent before the first batch of rows. */
export interface PlanJob {
  plan: RowPlan;
}

/** A batch of records to normalize on the thread. */
export interface RowsJob {
  id: number;
  batch: RowBatch;
}

/** A batch normalized, or why not (a CopyFormatError's SQLSTATE as `code`). */
export type RowsDone =
  | { id: number; out: RowOutput }
  | { id: number; error: { message: string; code: string | undefined } };

/** What the hashing thread starts with. */
export interface HashThreadData {
  /** The hash's 64-bit seed as low and high word (src/load/line-hasher.ts). */
  seed: readonly [number, number];
}

/** The thread's module: the same name beside the sources and beside the bundle. */
const THREAD = new URL('./hash-thread.mjs', import.meta.url);

export class HashWorker {
  private readonly worker: Worker;
  private next = 0;
  /** Byte buffers back from the worker, for the next batches. */
  private readonly spare: ArrayBuffer[] = [];
  private readonly jobs = new Map<number, { resolve: (h: Uint8Array) => void; reject: (e: Error) => void }>();

  /** `seed`: the hash's 64-bit seed as low and high word (src/load/line-hasher.ts). */
  constructor(seed: readonly [number, number]) {
    const workerData: HashThreadData = { seed };
    this.worker = new Worker(THREAD, { workerData });
    this.worker.on('message', (done: HashDone | RowsDone) => {
      if ('bytes' in done) {
        this.spare.push(done.bytes.buffer);
        this.jobs.get(done.id)?.resolve(done.out);
        this.jobs.delete(done.id);
        return;
      }
      const waiting = this.rowJobs.get(done.id);
      this.rowJobs.delete(done.id);
      if (!waiting) return;
      if ('out' in done) waiting.resolve(done.out);
      else
        waiting.reject(
          done.error.code === '22P04' || done.error.code === '22021'
            ? new CopyFormatError(done.error.code, done.error.message)
            : new Error(done.error.message),
        );
    });
    this.worker.on('error', (err) => this.fail(err));
    // Ended (closed, or crashed without an error event): nothing waits for ever on a batch it will not hash.
    this.worker.on('exit', () => {
      this.ended = true;
      this.fail(new Error('the hashing thread ended'));
    });
  }

  private ended = false;

  private readonly rowJobs = new Map<
    number,
    { resolve: (o: RowOutput) => void; reject: (e: Error) => void }
  >();

  private fail(err: Error): void {
    for (const w of this.jobs.values()) w.reject(err);
    this.jobs.clear();
    for (const w of this.rowJobs.values()) w.reject(err);
    this.rowJobs.clear();
  }

  /** Readies the thread to normalize rows under `plan` (it loads the normalizers meanwhile). */
  plan(plan: RowPlan): void {
    const job: PlanJob = { plan };
    this.worker.postMessage(job);
  }

  /** Normalizes a batch on the thread; its buffers are handed over (unusable here afterwards). */
  rows(batch: RowBatch): Promise<RowOutput> {
    if (this.ended) return Promise.reject(new Error('the hashing thread ended'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.rowJobs.set(id, { resolve, reject });
      const job: RowsJob = { id, batch };
      const transfer: ArrayBuffer[] = [
        batch.bytes.buffer,
        batch.starts.buffer,
        batch.ends.buffer,
        batch.recNos.buffer,
      ];
      if (batch.hashes) transfer.push(batch.hashes.buffer);
      this.worker.postMessage(job, transfer);
    });
  }

  /** Batches of rows handed over and not normalized yet. */
  get rowsWaiting(): number {
    return this.rowJobs.size;
  }

  /**
   * The hash of src[starts[i], ends[i]) for each i, 16 bytes each. The bytes are copied into a buffer of the
   * worker's (the chunk they come from stays with the caller).
   */
  hash(src: Uint8Array, starts: readonly number[], ends: readonly number[]): Promise<Uint8Array> {
    if (this.ended) return Promise.reject(new Error('the hashing thread ended'));
    const id = this.next++;
    const base = starts[0] ?? 0;
    const length = (ends.at(-1) ?? base) - base;
    let buffer = this.spare.pop();
    if (!buffer || buffer.byteLength < length) buffer = new ArrayBuffer(Math.max(length, 2 ** 20));
    const bytes = new Uint8Array(buffer, 0, length);
    bytes.set(src.subarray(base, base + length));
    // A plain loop: Int32Array.from with a mapping function goes through the iterator protocol (measured: a
    // quarter of the main thread's time in a 2M-row file's first pass).
    const n = starts.length;
    const from = new Int32Array(n);
    const to = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      from[i] = starts[i]! - base;
      to[i] = ends[i]! - base;
    }
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      const job: HashJob = { id, bytes, starts: from, ends: to };
      this.worker.postMessage(job, [buffer, from.buffer, to.buffer]);
    });
  }

  /** Batches handed over and not hashed yet. */
  get waiting(): number {
    return this.jobs.size;
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }
}
