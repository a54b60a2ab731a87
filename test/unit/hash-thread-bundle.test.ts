/**
 * The hashing thread (src/load/hash-thread.mjs) runs from a bundle made as scripts/build.js makes dist/: the
 * bundle starts it by its address beside the chunks, and its hashes are those the main thread computes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/bundle.js';
import { LineHasher } from '../../src/load/line-hasher.ts';
import { RecordSplitter } from '../../src/load/record-splitter.ts';
import { RowNormalizer } from '../../src/load/row-normalizer.ts';
import { ROWS_PLAN, rowBatchOf } from '../fixtures/bundle/rows-plan.ts';

// Inside the project, as dist/ is: the thread requires hash-wasm from node_modules.
const cache = join(import.meta.dirname, '../../node_modules/.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'ruralhub-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the hashing thread in a bundle', () => {
  it('is started beside the bundle and hashes every record as the main thread does', async () => {
    await bundle({ main: join(import.meta.dirname, '../fixtures/bundle/hash-on-thread.ts') }, dir);
    expect(existsSync(join(dir, 'hash-thread.mjs'))).toBe(true);
    const records = 3000; // above the 512 below which nothing goes to the thread
    const fromBundle = execFileSync(process.execPath, [join(dir, 'main.js'), 'settings', String(records)], {
      encoding: 'utf8',
    });

    const rows = Array.from({ length: records }, (_, i) => `${i},name${i},x\n`);
    const lines = `id,name,mark\n${rows.join('')}`;
    const hasher = await LineHasher.create('settings', false);
    const here = await hasher.hash(new RecordSplitter().push(Buffer.from(lines))[0]!);
    await hasher.close();
    const expected = Buffer.from(here).toString('hex');
    expect(fromBundle).toHaveLength(32 * records);
    expect(fromBundle).toBe(expected);
  });

  it('normalizes rows in the bundle, with the normalizers bundled beside it, as this thread does', async () => {
    const rowsDir = join(dir, 'rows');
    await bundle({ main: join(import.meta.dirname, '../fixtures/bundle/rows-on-thread.ts') }, rowsDir);
    const records = 500;
    const fromBundle = execFileSync(process.execPath, [join(rowsDir, 'main.js'), String(records)], {
      encoding: 'utf8',
    });
    const here = (await RowNormalizer.create(ROWS_PLAN)).normalize(rowBatchOf(records));
    expect(here.rows).toBe(records);
    expect(fromBundle).toBe(Buffer.from(here.norm).toString('hex'));
  });
});
