/**
 * A CSV's bulk source reads into two buffers by turns (connectors/csv/csv-connector.ts): every byte after the BOM
 * arrives once, in order, and a chunk stays as it was until the one after it is asked for (while the next one is
 * being read).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { tempDir } from '../support/files.ts';

const dir = tempDir('ruralhub-bulk-chunks-');

describe('a CSV bulk source', () => {
  it('hands every byte after the BOM in order, each chunk intact until the next is asked for', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `${i},张${i}堃,${'x'.repeat(i % 50)}\n`);
    const body = Buffer.from(`编号,姓名,备注\n${rows.join('')}`);
    const path = join(dir, 'big.csv');
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]));
    const bulk = (await csvConnector.bulk!({ path }))!;
    expect(body.length).toBeGreaterThan(3 * 2 ** 20); // several chunks
    const copies: Buffer[] = [];
    for await (const chunk of bulk.open()) {
      const copy = Buffer.from(chunk);
      copies.push(copy);
      // Meanwhile the next chunk is read, into the other buffer: this one is still what it was when it came.
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(chunk.equals(copy)).toBe(true);
    }
    expect(copies.length).toBeGreaterThan(3);
    expect(Buffer.concat(copies).equals(body)).toBe(true);
    // A reader that stops early closes the file without an error left behind.
    for await (const chunk of bulk.open()) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
  });
});
