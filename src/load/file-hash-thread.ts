/**
 * A file's SHA-256 computed on a thread of its own, started by the import command before it loads the loader
 * and opens the warehouse: the ~0.2 s of hashing a 250 MB file (the same-file no-op check, the ledger's hash)
 * then runs on the second core while the first one loads modules and connects, instead of after them. This
 * module imports nothing of the loader, so that the command can start it first.
 *
 * The thread stats the file before it reads it; the load takes the hash only for the file it opens itself
 * (same inode, size and modification time — import-start.ts), else hashes the file again.
 */
import { Worker } from 'node:worker_threads';

/** The hash of a file and the file as the thread found it before reading it. */
export interface FileHashed {
  sha: string;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * Plain JavaScript evaluated as the thread's code (a CommonJS script): nothing to bundle or resolve beside the
 * command. 4 MB reads, as sha256File's.
 */
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const st = fs.statSync(workerData);
const fd = fs.openSync(workerData, 'r');
try {
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const hash = createHash('sha256');
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
  }
  parentPort.postMessage({ sha: hash.digest('hex'), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
} finally {
  fs.closeSync(fd);
}
`;

/**
 * Starts hashing `path` on a thread; resolves to null when the thread could not (a missing or unreadable file is
 * left to the import, which reports it in its own words). The thread does not keep the process alive.
 */
export function hashFileInThread(path: string): Promise<FileHashed | null> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(CODE, { eval: true, workerData: path });
    } catch {
      resolve(null);
      return;
    }
    worker.unref();
    worker.once('message', (m: FileHashed) => resolve(m));
    worker.once('error', () => resolve(null));
    worker.once('exit', () => resolve(null)); // after a message: already resolved
  });
}
