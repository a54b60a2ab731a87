/**
 * A second thread for the recognizer's MD5s, used when most records of a large file are expected to be
 * recognised (a re-sent snapshot): PostgreSQL then has little to do, and its core can hash. Each batch is split:
 * this thread hashes one part while the main thread hashes the other. Both use hash-wasm (two threads calling
 * node:crypto in one process ran at half speed each: the OpenSSL calls contend). The worker is plain JavaScript
 * evaluated from a string, so it runs the same from the bundle and through tsx.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createMD5 } = require(workerData.hashWasm);
const salt = Buffer.from(workerData.salt, 'utf8');
const ready = createMD5();
parentPort.on('message', async ({ id, bytes, starts, ends }) => {
  const md5 = await ready;
  const out = new Uint8Array(16 * starts.length);
  for (let i = 0; i < starts.length; i++) {
    md5.init();
    md5.update(salt);
    md5.update(bytes.subarray(starts[i], ends[i]));
    out.set(md5.digest('binary'), 16 * i);
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

export class HashWorker {
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (h: Uint8Array) => void; reject: (e: Error) => void }
  >();

  constructor(salt: string) {
    const hashWasm = createRequire(import.meta.url).resolve('hash-wasm');
    this.worker = new Worker(SOURCE, { eval: true, workerData: { salt, hashWasm } });
    this.worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      this.waiting.get(id)?.resolve(out);
      this.waiting.delete(id);
    });
    this.worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** MD5 of salt + bytes[starts[i], ends[i]) for each i, 16 bytes each; `bytes` is handed over (transferred). */
  hash(
    bytes: Uint8Array<ArrayBuffer>,
    starts: Int32Array<ArrayBuffer>,
    ends: Int32Array<ArrayBuffer>,
  ): Promise<Uint8Array> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, bytes, starts, ends }, [bytes.buffer, starts.buffer, ends.buffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
