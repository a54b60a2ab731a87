// @ts-check
/**
 * The second thread's side of src/load/hash-worker.ts: XXH3-128 of each record of a batch, with the seed the
 * main thread hashes with. Plain JavaScript, type-checked through JSDoc (tsconfig includes it): a worker thread
 * in Node 20 gets no TypeScript loader (tsx's hooks do not reach it), and this way the same file runs from the
 * sources (tsx, vitest) and, put by scripts/bundle.js (which npm run build runs) beside the command's bundle as dist/hash-thread.mjs.
 * @import { HashDone, HashJob, HashThreadData, RowsDone, RowsJob, PlanJob } from './hash-worker.ts'
 * @import { RowNormalizer } from './row-normalizer.ts'
 *
 * The same thread normalizes the bulk path's rows (src/load/row-normalizer.ts, TypeScript): bundled into this
 * file by scripts/bundle.js; from the sources, where a worker thread has no TypeScript loader, through tsx's
 * tsImport (~0.2 s, while the main thread sets the load up).
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

/** @returns {Promise<typeof import('./row-normalizer.ts')>} */
async function rowModule() {
  try {
    return await import('./row-normalizer.ts');
  } catch (err) {
    if (/** @type {{ code?: string }} */ (err)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    // A name esbuild does not follow: the bundle has the module inlined and never gets here.
    const api = ['tsx', 'esm', 'api'].join('/');
    const { tsImport } = await import(api);
    return tsImport('./row-normalizer.ts', import.meta.url);
  }
}

/** @type {Promise<RowNormalizer> | null} */
let normalizer = null;

port.on('message', async (/** @type {HashJob | RowsJob | PlanJob} */ job) => {
  if ('plan' in job) {
    normalizer = rowModule().then((m) => m.RowNormalizer.create(job.plan));
    normalizer.catch(() => undefined); // reported with the first batch
    return;
  }
  if ('batch' in job) {
    /** @type {RowsDone} */
    let done;
    try {
      if (!normalizer) throw new Error('rows before a plan');
      const out = (await normalizer).normalize(job.batch);
      done = { id: job.id, out };
      port.postMessage(done, [out.norm.buffer, out.raw.buffer, out.keys.buffer]);
    } catch (err) {
      const e = /** @type {Error & { code?: string }} */ (err);
      done = { id: job.id, error: { message: e.message, code: e.code } };
      port.postMessage(done);
    }
    return;
  }
  const { id, bytes, starts, ends } = job;
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
