/**
 * The import command hashes its first file on a thread before it opens the warehouse (src/load/file-hash-thread.ts);
 * the load takes that hash only for the very file it opens, and the same-file no-op rests on it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roster } from '../../pipelines/feeds/roster.ts';
import { type FileHashed, hashFileInThread } from '../../src/load/file-hash-thread.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir();
const feed = { ...roster, id: 'roster' as const };
const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
const rows = (k: number) =>
  Array.from({ length: k }, (_, i) => [`H${i}`, `张${i}`, testId(i + 1), '户主', '监测户']);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  wh = await testWarehouse('early_sha');
});
afterAll(async () => wh?.close());

const load = (path: string, earlySha?: Promise<FileHashed | null>) =>
  importFeed({
    log: pino({ level: 'silent' }),
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
    wh,
    feed,
    path,
    confirmShrink: true,
    ...(earlySha ? { earlySha } : {}),
  });

const ledgerSha = async (runId: number) =>
  (await wh.db.selectFrom('runs').select('source_sha256').where('id', '=', runId).executeTakeFirstOrThrow())
    .source_sha256;

describe('a file hashed before the load', () => {
  it('hashes on its thread as the file reads, and gives null for a file it cannot read', async () => {
    const path = writeCsv(join(dir, 'a.csv'), [HEAD, ...rows(3)]);
    const st = statSync(path);
    expect(await hashFileInThread(path)).toEqual({
      sha: sha256(path),
      ino: st.ino,
      size: st.size,
      mtimeMs: st.mtimeMs,
    });
    expect(await hashFileInThread(join(dir, 'missing.csv'))).toBeNull();
  });

  it('is taken for the file the load opens, and the same file then is a no-op', async () => {
    const path = writeCsv(join(dir, 'b.csv'), [HEAD, ...rows(5)]);
    const first = await load(path, hashFileInThread(path));
    expect(first.status).toBe('succeeded');
    expect(await ledgerSha(first.runId)).toBe(sha256(path));
    const again = await load(path, hashFileInThread(path));
    expect(again.status).toBe('noop');
  });

  it("is not taken when it is another file's (inode, size or time differ): the load hashes its own", async () => {
    const path = writeCsv(join(dir, 'c.csv'), [HEAD, ...rows(7)]);
    const st = statSync(path);
    const forged = (d: Partial<FileHashed>) =>
      Promise.resolve({ sha: 'f'.repeat(64), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ...d });
    for (const other of [{ ino: st.ino + 1 }, { size: st.size + 1 }, { mtimeMs: st.mtimeMs - 1000 }]) {
      const s = await load(path, forged(other));
      expect(['succeeded', 'noop']).toContain(s.status);
      expect(await ledgerSha(s.runId)).toBe(sha256(path));
    }
    // Of this very file (as the thread stats it), its hash is what the ledger keeps: it was not computed again.
    const taken = await load(path, forged({}));
    expect(await ledgerSha(taken.runId)).toBe('f'.repeat(64));
  });
});
