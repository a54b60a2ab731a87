/**
 * File drops: complete files are taken (a .done marker, or unchanged long enough), loaded and moved to
 * processed/; a file with the same content as one already loaded is skipped as a duplicate; a file that
 * cannot be loaded goes to failed/ with the reason; a file still being written waits; links are never
 * followed out of the root, and a folder with `..` is refused by the config.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_EXTENSIONS } from '../../connectors/registry.ts';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { takeDrops } from '../../src/drop/take-drops.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const log = silentLogger();
const root = tempDir('ruralhub-drop-');
const outside = tempDir('ruralhub-outside-');
const id = (n: number) => testId(n);
const HEADER = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
const config = parseConfig(
  `county: { name: 示范县, code: "520102" }
drop: { root: "${root}", folders: { roster: 乡村振兴局/名册, water: 水利局 }, stable_seconds: 60 }
feeds: { roster: { max_shrink: 1 } }`,
  'inline',
);
const NOW = new Date();
const old = (path: string) =>
  utimesSync(path, new Date(NOW.getTime() - 3_600_000), new Date(NOW.getTime() - 3_600_000));
let wh: Warehouse;

beforeAll(async () => {
  wh = await testWarehouse('drop');
  mkdirSync(join(root, '乡村振兴局/名册'), { recursive: true });
  mkdirSync(join(root, '水利局'), { recursive: true });
});
afterAll(async () => wh?.close());

describe('file drops', () => {
  it('take complete files, skip duplicates, fail bad ones, wait for files still being written', async () => {
    const folder = join(root, '乡村振兴局/名册');
    const a = writeCsv(join(folder, '名册-11月.csv'), [HEADER, ['H1', '张三', id(1), '户主', '监测户']]);
    old(a);
    const fresh = writeCsv(join(folder, '名册-写入中.csv'), [
      HEADER,
      ['H2', '李四', id(2), '户主', '监测户'],
    ]);
    const marked = writeCsv(join(folder, '名册-已完成.csv'), [
      HEADER,
      ['H3', '王五', id(3), '户主', '监测户'],
    ]);
    writeFileSync(`${marked}.done`, '');
    const bad = writeCsv(join(folder, '名册-错表.csv'), [
      ['姓名', '电话'],
      ['赵六', '123'],
    ]);
    old(bad);
    const r1 = await takeDrops({ wh, config, log, today: '2026-11-24', now: NOW });
    const byFile = Object.fromEntries(r1.map((r) => [r.file.split('/').pop(), r.outcome]));
    expect(byFile).toEqual({
      '名册-11月.csv': 'loaded',
      '名册-写入中.csv': 'waiting',
      '名册-已完成.csv': 'loaded',
      '名册-错表.csv': 'failed',
    });
    expect(r1.find((r) => r.outcome === 'failed')!.message).toMatch(
      /required columns missing for feed roster/,
    );
    expect(readdirSync(join(folder, 'processed'))).toHaveLength(2);
    expect(readdirSync(join(folder, 'failed'))).toHaveLength(1);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(`${marked}.done`)).toBe(false);
    const loaded = await wh.db.selectFrom('roster').select('name').where('valid_to', 'is', null).execute();
    expect(loaded.map((l) => l.name)).toEqual(['王五']); // a snapshot feed: the last file is the picture

    // The same bytes again under another name: reported as a duplicate, moved away, not loaded twice.
    const again = writeCsv(join(folder, '名册-11月-重发.csv'), [
      HEADER,
      ['H1', '张三', id(1), '户主', '监测户'],
    ]);
    old(again);
    const r2 = await takeDrops({ wh, config, log, today: '2026-11-24', now: NOW, feed: 'roster' });
    expect(r2.find((r) => r.file.endsWith('重发.csv'))).toMatchObject({ outcome: 'duplicate' });
    expect(r2.find((r) => r.file.endsWith('重发.csv'))!.message).toMatch(/same content as run \d+/);
    const runs = await wh.db.selectFrom('runs').select('id').where('feed', '=', 'roster').execute();
    expect(runs).toHaveLength(3); // 11月, 已完成, 错表 (failed) — the duplicate made no run
  });

  it('never follows a link out of the root', async () => {
    const secret = writeCsv(join(outside, 'secret.csv'), [
      ['户主姓名', '户主身份证号', '是否安全'],
      ['x', id(9), '是'],
    ]);
    const link = join(root, '水利局', '饮水.csv');
    symlinkSync(secret, link);
    const r = await takeDrops({ wh, config, log, today: '2026-11-24', now: NOW, feed: 'water' });
    expect(r).toEqual([
      expect.objectContaining({
        file: '水利局/饮水.csv',
        outcome: 'refused',
        message: 'not a regular file (links are never followed)',
      }),
    ]);
    const water = await wh.db.selectFrom('runs').select('id').where('feed', '=', 'water').execute();
    expect(water).toHaveLength(0);
  });

  it('fails a file of a type no connector reads, naming the types there are, without a run', async () => {
    const folder = join(root, '水利局');
    const note = join(folder, '填报说明.docx');
    writeFileSync(note, 'PK\x03\x04 not a table');
    old(note);
    const r = await takeDrops({ wh, config, log, today: '2026-11-24', now: NOW, feed: 'water' });
    expect(r.find((x) => x.file === '水利局/填报说明.docx')).toEqual({
      feed: 'water',
      file: '水利局/填报说明.docx',
      outcome: 'failed',
      message: `unsupported file type '.docx'; expected one of ${FILE_EXTENSIONS.join(', ')}`,
    });
    expect(existsSync(note)).toBe(false);
    expect(readdirSync(join(folder, 'failed'))).toEqual([expect.stringMatching(/-填报说明\.docx$/)]);
    const water = await wh.db.selectFrom('runs').select('id').where('feed', '=', 'water').execute();
    expect(water).toHaveLength(0);
  });

  it('refuses a configured folder that climbs out of the root', () => {
    expect(() =>
      parseConfig(
        `county: { name: 示范县, code: "520102" }\ndrop: { root: /srv, folders: { roster: ../etc } }`,
        'inline',
      ),
    ).toThrow(/drop\.folders\.roster: a folder relative to drop\.root, without \.\./);
  });
});
