// @ts-check
/**
 * The second thread's side of src/load/hash-worker.ts: XXH3-128 of each record of a batch, with the seed the
 * main thread hashes with. Plain JavaScript, type-checked through JSDoc (tsconfig includes it): a worker thread
 * in Node 20 gets no TypeScript loader (tsx's hooks do not reach it), and this way the same file runs from the
 * sources (tsx, vitest) and, put by scripts/bundle.js (which npm run build runs) beside the command's bundle as dist/hash-thread.mjs.
 * @import { HashDone, HashJob, HashThreadData } from './hash-worker.ts'
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

// Required, not imported: an ES import of hash-wasm's CommonJS build has Node scan all of it for its export
// names first, which took ~100 ms of the thread's start (measured under load; a require ~10 ms). Resolved from
// here, as from dist/ for the bundle: the package stays in node_modules.
/** @type {typeof import('hash-wasm')} */
const { createXXHash128 } = createRequire(import.meta.url)('hash-wasm');

/** XXH3-128: 16 bytes a record (RAW_HASH_BYTES in raw-hash-set.ts). */
const HASH_BYTES = 16;

const port = parentPort;
if (!port) throw new Error('hash-thread.mjs runs as a worker thread (src/load/hash-worker.ts)');
const { seed } = /** @type {HashThreadData} */ (workerData);
const ready = createXXHash128(seed[0], seed[1]);

port.on('message', async (/** @type {HashJob} */ { id, bytes, starts, ends }) => {
  const h = await ready;
  const out = new Uint8Array(HASH_BYTES * starts.length);
  for (let i = 0; i < starts.length; i++) {
    h.init();
    h.update(bytes.subarray(starts[i], ends[i]));
    out.set(h.digest('binary'), HASH_BYTES * i);
  }
  // The bytes go back too, to be filled with the next batch: a buffer per batch left to this thread's garbage
  // collector piled up (~100 MB for a 2M-row file).
  /** @type {HashDone} */
  const done = { id, out, bytes };
  port.postMessage(done, [out.buffer, bytes.buffer]);
});
