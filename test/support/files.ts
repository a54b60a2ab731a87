import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { csvLine } from '../../src/delivery/csv.ts';

export function tempDir(prefix = 'ruralhub-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes rows as a CSV the way a department's Excel would: CRLF, quoting where needed, chosen encoding. */
export function writeCsv(
  path: string,
  rows: readonly (readonly (string | number | null)[])[],
  opts: { encoding?: 'utf8' | 'utf8-bom' | 'gb18030'; delimiter?: string; eol?: string } = {},
): string {
  const eol = opts.eol ?? '\r\n';
  const text = rows.map((r) => csvLine(r, opts.delimiter).replace(/\r\n$/, eol)).join('');
  const enc = opts.encoding ?? 'utf8';
  const bytes =
    enc === 'gb18030'
      ? iconv.encode(text, 'gb18030')
      : Buffer.concat([
          enc === 'utf8-bom' ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0),
          Buffer.from(text),
        ]);
  writeFileSync(path, bytes);
  return path;
}
