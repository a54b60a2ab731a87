import { describe, expect, it } from 'vitest';
import { adviseSettings, sizeBytes } from '../../src/warehouse/server-settings.ts';

describe("the server settings against a warehouse's", () => {
  it("reads pg_settings' units and flags what is below the embedded server's settings", () => {
    expect(sizeBytes('512MB')).toBe(512 * 2 ** 20);
    expect(sizeBytes('4GB')).toBe(4 * 2 ** 30);
    expect(sizeBytes('8kB')).toBe(8192);
    // PostgreSQL's defaults: 16384 blocks of 8 kB, 1024 MB, no compression.
    expect(
      adviseSettings([
        { name: 'shared_buffers', setting: '16384', unit: '8kB' },
        { name: 'max_wal_size', setting: '1024', unit: 'MB' },
        { name: 'wal_compression', setting: 'off', unit: null },
      ]),
    ).toEqual([
      { setting: 'shared_buffers', value: '128MB', recommended: '512MB', ok: false },
      { setting: 'max_wal_size', value: '1GB', recommended: '4GB', ok: false },
      { setting: 'wal_compression', value: 'off', recommended: 'on', ok: false },
    ]);
    // A warehouse's: at least as much, a compression better than pglz when the server offers one.
    expect(
      adviseSettings([
        { name: 'shared_buffers', setting: '131072', unit: '8kB' },
        { name: 'max_wal_size', setting: '8192', unit: 'MB' },
        {
          name: 'wal_compression',
          setting: 'lz4',
          unit: null,
          enumvals: ['pglz', 'lz4', 'zstd', 'on', 'off'],
        },
      ]).map((a) => [a.value, a.ok]),
    ).toEqual([
      ['1GB', true],
      ['8GB', true],
      ['lz4', true],
    ]);
  });

  it('recommends the best WAL compression the server was built with', () => {
    const advise = (setting: string, enumvals: string[] | null) =>
      adviseSettings([{ name: 'wal_compression', setting, unit: null, enumvals }])[0];
    const all = ['pglz', 'lz4', 'zstd', 'on', 'off'];
    expect(advise('pglz', all)).toEqual({
      setting: 'wal_compression',
      value: 'pglz',
      recommended: 'zstd',
      ok: false,
    });
    expect(advise('zstd', all)).toMatchObject({ recommended: 'zstd', ok: true });
    expect(advise('pglz', ['pglz', 'lz4', 'on', 'off'])).toMatchObject({ recommended: 'lz4', ok: false });
    // A build with pglz only (the embedded server's), and PostgreSQL 14's boolean: on is the best.
    expect(advise('pglz', ['pglz', 'on', 'off'])).toMatchObject({ recommended: 'on', ok: true });
    expect(advise('on', null)).toMatchObject({ recommended: 'on', ok: true });
    expect(advise('off', ['pglz', 'on', 'off'])).toMatchObject({ recommended: 'on', ok: false });
  });
});
