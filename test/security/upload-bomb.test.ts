/**
 * A department's upload that inflates far beyond its size (issue 24, item 4): refused from the zip's directory
 * before any part is parsed, through the API as through the CLI — with many small parts, each under the
 * per-part ratio check, as with one large one. The server's memory stays where it was.
 */

import type { FastifyInstance } from 'fastify';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { multipart } from '../support/multipart.ts';
import { testWarehouse } from '../support/warehouse.ts';
import { buildXlsx } from '../support/xlsx-builder.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const dir = tempDir('ruralhub-bomb-');
let wh: Warehouse;
let app: FastifyInstance;

beforeAll(async () => {
  wh = await testWarehouse('sec_bomb');
  app = await buildServer({ wh, config, log: silentLogger(), today: () => '2026-11-24' });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await wh?.close();
});

describe('an upload that inflates to hundreds of MB', () => {
  it('is refused in one line before anything is inflated, and the server stays small', async () => {
    const path = `${dir}/answers.xlsx`;
    await buildXlsx(path, [
      {
        name: '清单',
        rows: [
          ['清单编号', '核实结果'],
          ['1', '整改中'],
        ],
      },
    ]);
    const zip = await JSZip.loadAsync(await import('node:fs').then((fs) => fs.readFileSync(path)));
    // 300 parts of 1 MiB of zeros: each under the per-part ratio check (applied above 1 MiB), 300 MiB in all.
    const mib = Buffer.alloc(1024 ** 2);
    for (let i = 0; i < 300; i++) zip.file(`xl/media/pad${i}.bin`, mib);
    const bomb = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
    expect(bomb.length).toBeLessThan(10 * 1024 ** 2);

    const { token } = await createToken(wh, { role: 'department', department: '教育局', label: 'bomb' });
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const r = await app.inject({
      method: 'POST',
      url: '/api/lists/feedback',
      ...multipart('教育局-问题清单.xlsx', bomb),
      headers: { ...multipart('x', bomb).headers, authorization: `Bearer ${token}` },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(r.statusCode).toBeLessThan(500);
    expect(r.json().error.message).toBe(
      '教育局-问题清单.xlsx：拒绝处理：工作簿解压后有300兆字节（退回的清单通常只有几兆字节，上限为128兆字节）',
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 ** 2);
  });
});
