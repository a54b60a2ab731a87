/**
 * One GB18030 decoder on every path (connectors/gb18030.ts): the same bytes are the same text in the warehouse
 * whether a CSV goes through COPY (the bulk path, transcoded to UTF-8 in Node — PostgreSQL's own GB18030
 * conversion is GB18030-2000's and differs in 20 two-byte codes), is read row by row (a ragged row sends it
 * there), or arrives as a GB2312-labelled HTML ".xls" or an Excel 5/95 workbook in code page 936 — and that text is what TextDecoder('gb18030') decodes.
 * Sending the three in turn makes no new version (the tester's flip-flop: A8BC was U+E7C7 through COPY and ḿ
 * U+1E3F through the others). Undecodable bytes are still quarantined as text_damaged, naming file, row, field.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as XLSX from '@e965/xlsx';
import iconv from 'iconv-lite';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { water } from '../../pipelines/feeds/water.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { LineHasher } from '../../src/load/line-hasher.ts';
import { copyBulk, createRawTable } from '../../src/load/stage.ts';
import { idCheckChar } from '../../src/normalize/id-number.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-gb18030-');
const decoder = new TextDecoder('gb18030');
/** Common characters, the same in every GB18030 mapping: iconv-lite writes them. */
const gb = (s: string) => iconv.encode(s, 'gb18030');
const hex = (h: string) => Buffer.from(h.replaceAll(' ', ''), 'hex');

/** Distinct valid IDs: a birth day per thousand. */
const id = (i: number) => {
  const day = new Date(Date.UTC(1950, 0, 1 + Math.floor(i / 1000)))
    .toISOString()
    .slice(0, 10)
    .replaceAll('-', '');
  const first17 = `520102${day}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
};

/** Every two-byte code, 95 a row, between two 村 (a text field trims white space at its ends only). */
const CODES_PER_ROW = 95;
const codeRows: Buffer[] = (() => {
  const all: number[] = [];
  for (let a = 0x81; a <= 0xfe; a++) for (let b = 0x40; b <= 0xfe; b++) if (b !== 0x7f) all.push(a, b);
  const rows: Buffer[] = [];
  for (let i = 0; i < all.length; i += 2 * CODES_PER_ROW)
    rows.push(Buffer.from(all.slice(i, i + 2 * CODES_PER_ROW)));
  return rows;
})();
/** Names with the codes the mappings disagree on, and a four-byte character (𠀾 U+2003E) — 张 before each. */
const hardNames = [
  hex('d5c5 a8bc'), // 张ḿ — PostgreSQL: U+E7C7
  hex('d5c5 fe59'), // 张 U+9FB4 — PostgreSQL, iconv-lite: U+E81E
  hex('d5c5 a6d9 c8fd'), // 张︐三 — PostgreSQL, iconv-lite: U+E78D
  hex('d5c5 95328838'), // 张𠀾
  hex('d5c5 a8bc fe59 a6d9 95328838'),
];

interface Row {
  name: Buffer;
  id: string;
  village: Buffer;
}
const rows: Row[] = [
  ...codeRows.map((codes, i) => ({
    name: gb(`张${i}`),
    id: id(i),
    village: Buffer.concat([gb('村'), codes, gb('村')]),
  })),
  ...hardNames.map((name, k) => ({ name, id: id(900 + k), village: gb('新村') })),
];
const N = rows.length;
const HEADER = '户主姓名,户主身份证号,村,饮水是否安全,问题类型';

function csv(path: string, body: Row[], extra: Buffer[] = []): string {
  const lines = [
    gb(`${HEADER}\r\n`),
    ...body.map((r) => Buffer.concat([r.name, gb(`,${r.id},`), r.village, gb(',是,\r\n')])),
    ...extra,
  ];
  writeFileSync(path, Buffer.concat(lines));
  return path;
}

/** The same rows as the HTML table a GBK system saves as ".xls", labelled gb2312. */
function htmlXls(path: string, body: Row[]): string {
  const td = (b: Buffer) => Buffer.concat([gb('<td>'), b, gb('</td>')]);
  const parts = [
    gb(
      '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><table>\r\n',
    ),
    gb(
      `<tr>${HEADER.split(',')
        .map((h) => `<td>${h}</td>`)
        .join('')}</tr>\r\n`,
    ),
    ...body.map((r) =>
      Buffer.concat([
        gb('<tr>'),
        td(r.name),
        td(gb(r.id)),
        td(r.village),
        td(gb('是')),
        gb('<td></td></tr>\r\n'),
      ]),
    ),
    gb('</table></body></html>\r\n'),
  ];
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/**
 * The same rows as an Excel 5/95 workbook (BIFF5) in code page 936, whose strings are GBK bytes: SheetJS writes
 * the workbook with ASCII stand-ins of the same lengths, which are then replaced by the rows' bytes and the
 * code page record set to 936 (SheetJS's own writer cannot write code page 936 strings).
 */
function biff5(path: string, body: Row[]): string {
  const stand = new Map<string, string>();
  let n = 0;
  const cell = (b: Buffer): string => {
    if (!b.some((x) => x >= 0x80)) return b.toString('latin1');
    const key = b.toString('hex');
    if (!stand.has(key)) {
      let tag = '';
      for (let k = n++; tag.length < b.length - 1; k = Math.floor(k / 26))
        tag += String.fromCharCode(65 + (k % 26));
      stand.set(key, `\x01${tag}`);
    }
    return stand.get(key)!;
  };
  const aoa = [
    HEADER.split(',').map((h) => cell(gb(h))),
    ...body.map((r) => [cell(r.name), r.id, cell(r.village), cell(gb('是'))]),
  ];
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(aoa), '饮水');
  const out = XLSX.write(wb, { type: 'buffer', bookType: 'biff5' }) as Buffer;
  // longest first: a shorter stand-in may begin a longer one
  for (const [key, ph] of [...stand].sort((a, b) => b[1].length - a[1].length)) {
    const bytes = Buffer.from(key, 'hex');
    for (let at = out.indexOf(ph, 0, 'latin1'); at >= 0; at = out.indexOf(ph, at + 1, 'latin1'))
      bytes.copy(out, at);
  }
  const codepage = out.indexOf(Buffer.from([0x42, 0x00, 0x02, 0x00, 0xe4, 0x04])); // CODEPAGE 1252
  expect(codepage).toBeGreaterThan(0);
  out.writeUInt16LE(936, codepage + 4);
  writeFileSync(path, out);
  return path;
}

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('gb18030');
});
afterAll(async () => wh?.close());

/** Imports a whole snapshot; `lines` collects the log, to tell the bulk path from the row-by-row one. */
async function load(path: string) {
  const lines: string[] = [];
  const s = await importFeed({
    wh,
    feed: water,
    path,
    confirmShrink: true,
    log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
  });
  const bulk = lines.some((l) => l.includes('"path":"bulk"'));
  return { ...s, path: bulk ? 'bulk' : 'records' };
}

/** Every version of the water feed, as hex of its UTF-8 bytes (no JS string in between). */
const versions = () =>
  wh.db
    .selectFrom('water')
    .select((eb) => [
      'head_id_number',
      'valid_to',
      eb.fn<string>('encode', [eb.fn('convert_to', ['head_name', eb.val('UTF8')]), eb.val('hex')]).as('name'),
      eb
        .fn<string>('encode', [eb.fn('convert_to', ['village', eb.val('UTF8')]), eb.val('hex')])
        .as('village'),
    ])
    .orderBy('head_id_number')
    .orderBy('valid_from')
    .execute();

const utf8Hex = (bytes: Buffer) => Buffer.from(decoder.decode(bytes), 'utf8').toString('hex');
const expected = () =>
  rows
    .map((r) => ({
      head_id_number: r.id,
      valid_to: null,
      name: utf8Hex(r.name),
      village: utf8Hex(r.village),
    }))
    .sort((a, b) => a.head_id_number.localeCompare(b.head_id_number));

describe('GB18030 text, whichever way the file is read', () => {
  it('the bulk path hands COPY UTF-8, decoded in Node: PostgreSQL converts nothing', async () => {
    const path = csv(join(dir, 'bulk-source.csv'), rows);
    const bulk = await csvConnector.bulk!({ path });
    // 'UTF8' is also what enters the recognizer's line fingerprint (import-feed.ts): its hashes are of the
    // decoded text, so a record recognised is one whose text is the same — never one a former decoder (or
    // PostgreSQL's GB18030-2000 conversion) made other text of, whose hashes were of the GB18030 bytes.
    expect(bulk).toMatchObject({ encoding: 'UTF8', columns: HEADER.split(',') });
    const chunks: Buffer[] = [];
    for await (const c of bulk!.open()) chunks.push(c);
    const file = readFileSync(path);
    expect(Buffer.concat(chunks).equals(Buffer.from(decoder.decode(file), 'utf8'))).toBe(true);
  });

  it('COPY into raw staging (the route normalized in SQL) stores TextDecoder’s text; PostgreSQL is told UTF-8', async () => {
    const bulk = (await csvConnector.bulk!({ path: csv(join(dir, 'copy.csv'), rows) }))!;
    await createRawTable(wh.db, 't_gb_copy', bulk.columns.length);
    const hasher = await LineHasher.create('gb18030-copy', false);
    const counts = { records: 0, recognized: 0, again: 0 };
    expect(await copyBulk(wh.db, wh.pool, 't_gb_copy', bulk, { set: null, counts, hasher, pass: null })).toBe(
      N,
    );
    await hasher.close();
    const { rows: staged } = await wh.pool.query<{ name: string; village: string }>(
      "SELECT encode(convert_to(c1, 'UTF8'), 'hex') AS name, encode(convert_to(c3, 'UTF8'), 'hex') AS village FROM t_gb_copy ORDER BY rec_no",
    );
    expect(staged).toEqual(rows.map((r) => ({ name: utf8Hex(r.name), village: utf8Hex(r.village) })));
    // a bulk source in another encoding is refused rather than converted by PostgreSQL
    await expect(
      copyBulk(
        wh.db,
        wh.pool,
        't_gb_copy',
        { ...bulk, encoding: 'GB18030' },
        { set: null, counts, hasher, pass: null },
      ),
    ).rejects.toThrow(/hand UTF-8/);
  });

  it('the record reader: a GB18030 cell of 600 KB with no comma, space or newline is read whole', async () => {
    const cell = Buffer.concat(Array.from({ length: 100_000 }, () => hex('b4e5 95328838')));
    const path = join(dir, 'long-cell.csv');
    writeFileSync(path, Buffer.concat([gb('姓名,备注\r\n张三,'), cell, gb('\r\n')]));
    const records = [];
    for await (const m of csvConnector.read({ path })) if (m.type === 'record') records.push(m.cells);
    expect(records).toHaveLength(1);
    expect(records[0]![1] === decoder.decode(cell)).toBe(true);
  });

  it('every two-byte code and the hard names: bulk, row by row, HTML .xls and BIFF5 (cp936) give TextDecoder’s text, and no new version', async () => {
    // 1. The bulk path: COPY, the bytes transcoded to UTF-8 in Node.
    const a = await load(csv(join(dir, 'a.csv'), rows));
    expect(a).toMatchObject({ status: 'succeeded', path: 'bulk' });
    expect(a.counts).toMatchObject({ rows_read: N, rows_loaded: N, rows_quarantined: 0 });
    expect(await versions()).toEqual(expected());

    // 2. The same rows with one ragged row: COPY refuses it, the file is read row by row.
    const ragged = gb(`李四,${id(950)},新村,是,,多一列\r\n`);
    const b = await load(csv(join(dir, 'b.csv'), rows, [ragged]));
    expect(b).toMatchObject({ status: 'succeeded', path: 'records' });
    expect(b.counts).toMatchObject({ rows_new: 0, rows_changed: 0, rows_unchanged: N, rows_ended: 0 });

    // 3. The same rows as an HTML ".xls" labelled gb2312.
    const c = await load(htmlXls(join(dir, 'c.xls'), rows));
    expect(c).toMatchObject({ status: 'succeeded', path: 'records' });
    expect(c.counts).toMatchObject({ rows_new: 0, rows_changed: 0, rows_unchanged: N, rows_ended: 0 });

    // 4. The same rows as an Excel 5/95 workbook in code page 936 (its GBK strings decoded by the same decoder).
    const x5 = await load(biff5(join(dir, 'd.xls'), rows));
    expect(x5).toMatchObject({ status: 'succeeded', path: 'records' });
    expect(x5.counts).toMatchObject({ rows_new: 0, rows_changed: 0, rows_unchanged: N, rows_ended: 0 });

    // 5. The bulk file again.
    const again = await load(csv(join(dir, 'a-again.csv'), rows));
    expect(again).toMatchObject({ status: 'succeeded', path: 'bulk' });
    expect(again.counts).toMatchObject({ rows_new: 0, rows_changed: 0, rows_unchanged: N, rows_ended: 0 });

    // One version each, byte for byte TextDecoder's text.
    expect(await versions()).toEqual(expected());
    const ms = await wh.db
      .selectFrom('water')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('head_id_number', '=', id(904))
      .executeTakeFirstOrThrow();
    expect(Number(ms.n)).toBe(1);
  });

  it('the hard names are the characters GB18030-2022 gives them, not PostgreSQL’s Private Use ones', async () => {
    const got = await wh.db
      .selectFrom('water')
      .select(['head_name'])
      .where('head_id_number', 'in', [900, 901, 902, 903, 904].map(id))
      .where('valid_to', 'is', null)
      .orderBy('head_id_number')
      .execute();
    expect(got.map((r) => r.head_name)).toEqual([
      '张ḿ',
      '张\u9fb4',
      '张\ufe10三',
      '张𠀾',
      '张ḿ\u9fb4\ufe10𠀾',
    ]);
    // and PostgreSQL's own conversion of the same bytes would have been other text
    const { rows: pg } = await wh.pool.query<{ t: string }>(
      "SELECT convert_from('\\xd5c5a8bcfe59a6d9'::bytea, 'GB18030') AS t",
    );
    expect(pg[0]!.t).toBe('张\ue7c7\ue81e\ue78d');
  });

  it('undecodable bytes are still quarantined as text_damaged, with file, row and field — CSV, HTML .xls and BIFF5', async () => {
    // 0xFF where a code's lead byte was, in the 11th data row's village (spreadsheet row 12).
    const broken = rows.map((r, i) =>
      i === 10 ? { ...r, village: Buffer.concat([gb('村'), hex('ff'), r.village.subarray(3)]) } : r,
    );
    const d = await load(csv(join(dir, 'damaged.csv'), broken));
    expect(d.status).toBe('succeeded');
    expect(d.path).toBe('records'); // the transcoding stream failed the COPY as PostgreSQL's would have
    expect(d.counts).toMatchObject({ rows_quarantined: 1, rows_new: 0, rows_changed: 0 });
    const e = await load(htmlXls(join(dir, 'damaged.xls'), broken));
    expect(e.status).toBe('succeeded');
    expect(e.counts).toMatchObject({ rows_quarantined: 1, rows_new: 0, rows_changed: 0 });
    const f = await load(biff5(join(dir, 'damaged-biff5.xls'), broken));
    expect(f.status).toBe('succeeded');
    expect(f.counts).toMatchObject({ rows_quarantined: 1, rows_new: 0, rows_changed: 0 });
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['source', 'row_number', 'field', 'problem'])
      .where('run_id', 'in', [d.runId, e.runId, f.runId])
      .orderBy('run_id')
      .execute();
    expect(q).toEqual([
      { source: 'damaged.csv', row_number: 12, field: 'village', problem: 'text_damaged' },
      { source: 'damaged.xls', row_number: 12, field: 'village', problem: 'text_damaged' },
      { source: 'damaged-biff5.xls', row_number: 12, field: 'village', problem: 'text_damaged' },
    ]);
    // the version loaded before is untouched
    expect(await versions()).toEqual(expected());
  });
});
