import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../src/load/import-feed.ts';
import { tempDir } from '../support/files.ts';

describe("the ledger's file hash", () => {
  it('is the SHA-256 of every byte, across the reads it is made of', async () => {
    const dir = tempDir();
    // Over two 4 MB reads and a part, and the empty file.
    for (const size of [0, 1, 4 * 2 ** 20, 9 * 2 ** 20 + 7]) {
      const bytes = randomBytes(size);
      const path = join(dir, `f-${size}.bin`);
      writeFileSync(path, bytes);
      expect(await sha256File(path)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});
