/**
 * The bulk path's normalization in Node (src/load/normalize-bulk.ts, row-normalizer.ts) must make normalized
 * staging exactly as the SQL statement does from raw staging (normalize-staged.ts): the same rows, values,
 * problems, skip marks and row hash bytes — publish, the plan and the recognition of the next load read them. Each
 * file here goes both ways on the same server and the two tables are compared whole, row by row, as text.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulkSource } from '../../connectors/connector.ts';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { writeRoster } from '../../src/demo/bulk-roster.ts';
import { KeySet } from '../../src/load/key-set.ts';
import { LineHasher } from '../../src/load/line-hasher.ts';
import { stageNormalized } from '../../src/load/normalize-bulk.ts';
import { buildNormalize } from '../../src/load/normalize-staged.ts';
import type { RecognitionCounts } from '../../src/load/recognize.ts';
import { copyBulk, createRawTable } from '../../src/load/stage.ts';
import { mapHeader } from '../../src/normalize/header-map.ts';
import { idCheckChar } from '../../src/normalize/id-number.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
let dir: string;
beforeAll(async () => {
  wh = await testWarehouse('normalize_bulk');
  dir = mkdtempSync(join(tmpdir(), 'rh-normalize-bulk-'));
});
afterAll(async () => {
  await wh?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TODAY = '2026-11-24';
const TZ = 'Asia/Shanghai';
const feedOf = (id: string) => (FEEDS as Readonly<Record<string, FeedDefinition>>)[id]!;

/** A deterministic stream of choices (no dependence on Math.random). */
function chooser(seed: number) {
  let s = seed >>> 0;
  // mulberry32
  return <T>(list: readonly T[]): T => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    return list[Math.floor(u * list.length)]!;
  };
}

const ids = (() => {
  const out: string[] = [];
  for (let n = 0; n < 40; n++) {
    const first17 = `5201021${String(950 + n).padStart(3, '0')}0${1 + (n % 9)}1${n % 10}${String(n).padStart(3, '0')}`;
    out.push(first17 + idCheckChar(first17));
  }
  return out;
})();

/** Values of each kind, clean and dirty, the ones the twin tests use among them. */
const VALUES: Record<string, readonly string[]> = {
  id_number: [
    ...ids,
    ids[1]!.toLowerCase(),
    `'${ids[2]}`,
    ` ${ids[3]!.slice(0, 9)}\u3000${ids[3]!.slice(9)} `,
    '４.30102E+17',
    '4.30102e+17',
    '110105491231002',
    `${ids[4]}42`,
    '99010519491231002042',
    '110105203001010010',
    '',
    ' ',
    'abc',
  ],
  name: [
    '张三',
    ' 张 三 ',
    '买买提•艾力',
    '买买提-艾力',
    'Anna-Lena',
    '莊 國強',
    '𠮷野',
    '  ',
    '',
    '!王',
    'a,b',
    'x"y',
    '(李)',
  ],
  text: [
    '白云村',
    ' 白云村 ',
    '\u3000',
    '',
    'a\\b',
    'line\nbreak',
    'tab\there',
    'q"uote',
    '合计',
    '(x)',
    '𠀀',
    'é',
  ],
  date: [
    '2023-05-01',
    '2023/5/1',
    '20230501',
    '2023年5月1日',
    '２０２３年５月１日',
    '45047',
    '45047.75',
    '2023/5/1 0:00',
    '2023-04-30T20:00:00Z',
    '2026-05-31 18:30:00+08',
    '05/01/2023',
    '2023-02-29',
    '2024-02-29',
    '明年',
    '60',
    '',
  ],
  money: [
    '¥1,234.50',
    '1234.5元',
    'RMB 800',
    '￥１，２００',
    '-35.00',
    '12..5',
    '0',
    '-0',
    '-0.004',
    '007.125',
    '5000元整',
    '12,00',
    '999999999999.995',
    '0000000000001',
    '1234.5600000000001',
    '',
  ],
  year: ['2026', '2026年', ' 2026年度 ', '２０２６', '2026.0', '26', '1899', '2026.5', ''],
  boolean: ['是', ' 否 ', 'yes', 'N', 'True', '0', '√', '×', '已 消除', '有', '', '\u3000', 'É', 'yeſ'],
  integer: ['12', ' 1 2 ', '-0', '007', '1234567890', ''],
};

/** The file's cell for a value: quoted when it must be, and sometimes when it need not. */
function cell(v: string, pick: <T>(l: readonly T[]) => T): string {
  if (v === '') return pick(['', '', '""']);
  if (/[",\n\r]/.test(v) || pick([false, false, true])) return `"${v.replaceAll('"', '""')}"`;
  return v;
}

/** A file of `rows` rows for the feed: every field's first alias as the header, values drawn from VALUES. */
function writeFeedFile(feed: FeedDefinition, name: string, rows: number, seed: number, extra: string[] = []) {
  const pick = chooser(seed);
  const fields = Object.entries(feed.fields);
  const header = fields.map(([, s]) => s.aliases[0]!);
  const lines = [header.join(',')];
  for (let r = 0; r < rows; r++) {
    const cells = fields.map(([fieldName, spec]) => {
      const kind = spec.type.kind;
      let v: string;
      if (kind === 'enum') {
        const spellings = Object.values(spec.type.kind === 'enum' ? spec.type.values : {}).flat();
        v = pick([...spellings, ` ${spellings[0]} `, String(spellings[1] ?? '').toLowerCase(), '未知', '']);
      } else if (fieldName === 'township') v = pick(['城关镇', '河西镇', '重名镇', '无此镇', '']);
      else if (fieldName === 'village') v = pick(['白云村', '红星村', '重名村', '无此村', '']);
      else if (fieldName === 'village_code') v = pick(['520102001001', '520102001002', '999999999999', '']);
      else v = pick(VALUES[kind] ?? VALUES.text!);
      return cell(v, pick);
    });
    lines.push(cells.join(','));
  }
  const width = fields.length;
  lines.push(...extra.map((e) => e.replace('{blanks}', ','.repeat(width - 1))));
  const path = join(dir, name);
  writeFileSync(path, `${lines.join(pick(['\n', '\r\n']))}\n`);
  return path;
}

async function bulkOf(path: string): Promise<BulkSource> {
  const b = await csvConnector.bulk!({ path });
  if (!b) throw new Error('no bulk source');
  return b;
}

const counts = (): RecognitionCounts => ({ records: 0, recognized: 0, again: 0 });

/** Normalized staging both ways: SQL from raw staging (as before) and Node; each table's rows as text. */
async function bothWays(feed: FeedDefinition, path: string, tag: string, threadQueue = 0) {
  const bulk = await bulkOf(path);
  const { columns } = mapHeader(feed, bulk.columns, 'test');
  const fingerprint = `fp-${tag}`;
  const base = {
    feed,
    columns,
    width: bulk.columns.length,
    headerRow: 1,
    today: TODAY,
    timeZone: TZ,
    fingerprint,
    lookupKnown: false,
  };
  const sqlRaw = `t_${tag}_sql_raw`;
  const sqlNorm = `t_${tag}_sql_norm`;
  await createRawTable(wh.db, sqlRaw, bulk.columns.length);
  const hasher = await LineHasher.create(fingerprint, false);
  await copyBulk(wh.db, wh.pool, sqlRaw, bulk, { set: null, counts: counts(), hasher, pass: null });
  await buildNormalize({ ...base, rawTable: sqlRaw, normTable: sqlNorm }).execute(wh.db);

  const nodeRaw = `t_${tag}_node_raw`;
  const nodeNorm = `t_${tag}_node_norm`;
  await createRawTable(wh.db, nodeRaw, bulk.columns.length);
  const keys = new KeySet();
  const staged = await stageNormalized(wh.db, wh.pool, {
    keys,
    feed,
    source: bulk,
    raw: nodeRaw,
    norm: nodeNorm,
    columns,
    today: TODAY,
    timeZone: TZ,
    fingerprint,
    recognition: { set: null, counts: counts(), hasher, pass: null },
    threadQueue,
  });
  await hasher.close();
  const rowsOf = async (t: string) =>
    (
      await sql<{ r: string }>`SELECT n::text AS r FROM ${sql.id(t)} n ORDER BY rec_no`.execute(wh.db)
    ).rows.map((x) => x.r);
  // The raw rows publish and identity linking read: the rejected ones (not skipped, not ok).
  const rejectedRaw = async (raw: string, norm: string) =>
    (
      await sql<{ r: string }>`SELECT r::text AS r FROM ${sql.id(raw)} r JOIN ${sql.id(norm)} n USING (rec_no)
        WHERE n.skip IS NULL AND NOT n.ok ORDER BY rec_no`.execute(wh.db)
    ).rows.map((x) => x.r);
  // Whether SQL finds a business key on two valid rows: what the ranking statement would rank.
  const key = sql.join(feed.key.map((k) => sql.ref(k)));
  const repeated = await sql<{ n: string }>`SELECT count(*) AS n FROM (SELECT ${key} FROM ${sql.id(sqlNorm)}
      WHERE ok GROUP BY ${key} HAVING count(*) > 1) d`.execute(wh.db);
  return {
    staged,
    keysRepeated: keys.maybeRepeated,
    sqlKeysRepeated: Number(repeated.rows[0]!.n) > 0,
    sql: await rowsOf(sqlNorm),
    node: await rowsOf(nodeNorm),
    sqlRejected: await rejectedRaw(sqlRaw, sqlNorm),
    nodeRejected: await rejectedRaw(nodeRaw, nodeNorm),
    nodeRawRows: Number(
      (await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(nodeRaw)}`.execute(wh.db)).rows[0]!.n,
    ),
  };
}

describe('normalized staging made in Node is the one SQL makes', () => {
  it.each(['roster', 'insurance', 'water', 'settlements', 'assistance'])(
    'for %s: values, problems, skip marks, row hashes; raw staging holds the rejected rows',
    async (id) => {
      const feed = feedOf(id);
      const path = writeFeedFile(feed, `${id}.csv`, 3000, id.length * 7919, [
        '',
        '{blanks}',
        `合计${','.repeat(Object.keys(feed.fields).length - 1)}`,
        `制表人：张三${','.repeat(Object.keys(feed.fields).length - 1)}`,
      ]);
      // roster's and water's batches on the normalizing thread too (by default none on two cores)
      const r = await bothWays(feed, path, `${id}_plain`, id === 'roster' || id === 'water' ? 2 : 0);
      expect(r.staged).toBe(3004);
      expect(r.node.length).toBe(3004);
      // Ranking is skipped exactly when SQL would find no key on two valid rows.
      expect(r.keysRepeated).toBe(r.sqlKeysRepeated);
      expect(r.node).toEqual(r.sql);
      expect(r.nodeRejected).toEqual(r.sqlRejected);
      expect(r.sqlRejected.length).toBeGreaterThan(0);
      expect(r.sql.some((row) => row.includes(',blank,'))).toBe(true);
    },
  );

  it('a roster whose every ID is another person: no key on two valid rows, so no ranking to run', async () => {
    const path = join(dir, 'unique-roster.csv');
    await writeRoster(path, 5000);
    const r = await bothWays(feedOf('roster'), path, 'unique_roster');
    expect(r.staged).toBe(5000);
    expect(r.node).toEqual(r.sql);
    expect(r.sqlKeysRepeated).toBe(false);
    expect(r.keysRepeated).toBe(false);
  });

  it('with the region checks active, ambiguous and unknown names among them', async () => {
    await sql`INSERT INTO regions (code, name, level, parent_code) VALUES
      ('520102000000', '示范县', 'county', NULL),
      ('520102001000', '城关镇', 'township', '520102000000'),
      ('520102002000', '河西镇', 'township', '520102000000'),
      ('520102003000', '重名镇', 'township', '520102000000'),
      ('520102004000', '重名镇', 'township', '520102000000'),
      ('520102001001', '白云村', 'village', '520102001000'),
      ('520102001002', '重名村', 'village', '520102001000'),
      ('520102001003', '重名村', 'village', '520102001000'),
      ('520102002001', '红星村', 'village', '520102002000'),
      ('520102003001', '白云村', 'village', '520102003000')`.execute(wh.db);
    try {
      for (const id of ['roster', 'water']) {
        const feed = feedOf(id);
        const r = await bothWays(feed, writeFeedFile(feed, `${id}-regions.csv`, 2000, 17), `${id}_regions`);
        expect(r.node).toEqual(r.sql);
        expect(r.nodeRejected).toEqual(r.sqlRejected);
        expect(r.sql.join('\n')).toMatch(id === 'roster' ? /region_ambiguous/ : /region_unknown/);
      }
    } finally {
      await sql`DELETE FROM regions`.execute(wh.db);
    }
  });

  it('leaves a vocabulary lookup of letters with case outside ASCII to SQL, with the same result', async () => {
    const feed = feedOf('water');
    const r = await bothWays(feed, writeFeedFile(feed, 'water-case.csv', 500, 3), 'water_case');
    expect(r.node).toEqual(r.sql);
    // The rows left to SQL are in raw staging besides the rejected ones.
    expect(r.nodeRawRows).toBeGreaterThan(r.nodeRejected.length);
  });
});

let bad = 0;
describe('a file COPY would refuse, or would read dropping quotes, is refused by both bulk paths, with a data exception', () => {
  it.each<[string, string | Buffer]>([
    ['a row with a column too many', '1,2,3\n4,5,6,7\n'],
    ['a row with a column too few', '1,2,3\n4,5\n'],
    ['a quote never closed', '1,2,3\n4,"5,6\n'],
    // Both would be read by COPY, dropping the quotes (5x7): refused, for the record reader to keep them.
    ['a quote inside an unquoted field', '1,5"x7",3\n'],
    ['text after a closing quote', '1,"5"x,3\n'],
    ['a carriage return outside quotes', '1,2\r,3\n'],
    [
      'bytes that are no UTF-8',
      Buffer.concat([Buffer.from('1,'), Buffer.from([0xff, 0xfe]), Buffer.from(',3\n')]),
    ],
    ['a NUL byte', '1,\u0000,3\n'],
  ])('%s', async (_, rows) => {
    const feed = feedOf('water');
    const path = join(dir, `bad-${++bad}.csv`);
    // water has three fields: its first aliases as the header
    const header = Object.values(feed.fields)
      .map((s) => s.aliases[0])
      .join(',');
    writeFileSync(path, Buffer.concat([Buffer.from(`${header}\n`), Buffer.from(rows)]));
    // As the CSV connector offers a file (whose sniffing would refuse the bad bytes of so short a file itself).
    const bulk: BulkSource = {
      encoding: 'UTF8',
      delimiter: ',',
      columns: header.split(','),
      open: () => createReadStream(path),
    };
    const { columns } = mapHeader(feed, bulk.columns, 'test');
    const hasher = await LineHasher.create('fp-bad', false);
    const recognition = { set: null, counts: counts(), hasher, pass: null };
    const codeOf = (e: { code?: string }) => e.code ?? 'none';
    await createRawTable(wh.db, `t_bad_${bad}_copy`, bulk.columns.length);
    const byCopy = await copyBulk(wh.db, wh.pool, `t_bad_${bad}_copy`, bulk, recognition).then(
      () => null,
      codeOf,
    );
    await createRawTable(wh.db, `t_bad_${bad}_raw`, bulk.columns.length);
    const inNode = await stageNormalized(wh.db, wh.pool, {
      feed,
      source: bulk,
      raw: `t_bad_${bad}_raw`,
      norm: `t_bad_${bad}_norm`,
      columns,
      today: TODAY,
      timeZone: TZ,
      fingerprint: 'fp-bad',
      recognition: { ...recognition, counts: counts() },
    }).then(() => null, codeOf);
    await hasher.close();
    expect(byCopy?.slice(0, 2)).toBe('22');
    expect(inNode?.slice(0, 2)).toBe('22');
  });
});
