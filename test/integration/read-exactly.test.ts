/**
 * Text survives reading byte for byte, and text that cannot survive is never loaded silently. Generated files
 * with thousands of random strings — common and rare CJK (extension B), 々, middle dots, emoji, combining marks
 * — large enough that characters fall across every chunk boundary of the inflated XML or the file, read back
 * identical from .xlsx (shared strings and inline strings), CSV in UTF-8 and GB18030. In files with undecodable
 * bytes exactly the damaged cells are marked, for the loader to quarantine as text_damaged.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { connectorFor } from '../../connectors/registry.ts';
import { loadExcel } from '../../src/delivery/excel.ts';
import { tempDir } from '../support/files.ts';
import { buildXlsx } from '../support/xlsx-builder.ts';

const dir = tempDir('ruralhub-exact-');
const HEADER = ['姓名', '备注'];
const isHeader = (cells: readonly string[]) => cells[0] === '姓名';

const range = (lo: number, hi: number) =>
  fc.integer({ min: lo, max: hi }).map((c) => String.fromCodePoint(c));
/** One "character" a department's text may hold. */
const glyph = fc.oneof(
  { weight: 6, arbitrary: range(0x4e00, 0x9fff) }, // CJK unified ideographs
  { weight: 2, arbitrary: range(0x20000, 0x2a6df) }, // extension B: surrogate pairs in JS, 4 bytes in UTF-8
  { weight: 1, arbitrary: fc.constantFrom('々', '·', '•', '‧', '・', '〇', '㐀', '𠀀', '𪚥') },
  { weight: 1, arbitrary: range(0x1f600, 0x1f64f) }, // emoji
  { weight: 1, arbitrary: fc.constantFrom('e\u0301', 'a\u0308', '\u0915\u094d') }, // combining marks
  { weight: 2, arbitrary: range(0x21, 0x7e) },
);
/**
 * A value with no white space at either end (white space alone is an empty cell in every reader), of two glyphs
 * or more: a lone 注 or 备注 in the first column of a two-column sheet is, by design, a footer line.
 */
const value = fc.array(glyph, { minLength: 2, maxLength: 12 }).map((g) => g.join(''));
const table = fc.array(fc.tuple(value, value), { minLength: 2000, maxLength: 4000 });

async function records(path: string): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of connectorFor(path).read({ path }, { isHeader })) out.push(m);
  return out;
}
const cellsOf = (ms: ReadMessage[]) => ms.flatMap((m) => (m.type === 'record' ? [m.cells] : []));

const csvLine = (cells: readonly string[]) =>
  `${cells.map((c) => `"${c.replaceAll('"', '""')}"`).join(',')}\r\n`;

let n = 0;
const fresh = (ext: string) => join(dir, `t${n++}.${ext}`);

describe('text read byte for byte', () => {
  it('from .xlsx shared strings (workbook part last, as openpyxl lays it out) and inline strings', async () => {
    await fc.assert(
      fc.asyncProperty(table, async (rows) => {
        const sheet = { name: '名册', rows: [HEADER, ...rows] };
        for (const options of [
          { sharedStrings: true, workbookLast: true },
          { sharedStrings: false, prefix: 'x', noRefs: true },
        ]) {
          const path = fresh('xlsx');
          await buildXlsx(path, [sheet], options);
          expect(cellsOf(await records(path))).toEqual(rows);
        }
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });

  it('from CSV in UTF-8 (with and without BOM) and in GB18030', async () => {
    await fc.assert(
      fc.asyncProperty(table, async (rows) => {
        const text = csvLine(HEADER) + rows.map(csvLine).join('');
        for (const bytes of [
          Buffer.from(text, 'utf8'),
          Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
          iconv.encode(text, 'gb18030'),
        ]) {
          const path = fresh('csv');
          writeFileSync(path, bytes);
          expect(cellsOf(await records(path))).toEqual(rows);
        }
      }),
      { numRuns: 6, endOnFailure: true },
    );
  });

  it('workbooks RuralHub writes (exceljs through loadExcel) keep characters outside the BMP whole', async () => {
    await fc.assert(
      fc.asyncProperty(table, async (rows) => {
        const Excel = await loadExcel();
        const wb = new Excel.Workbook();
        const ws = wb.addWorksheet('名册');
        ws.addRow(HEADER);
        for (const r of rows) ws.addRow(r);
        const path = fresh('xlsx');
        await wb.xlsx.writeFile(path);
        expect(cellsOf(await records(path))).toEqual(rows);
      }),
      { numRuns: 3, endOnFailure: true },
    );
  });

  it('a U+FFFD the file really holds is text, and is read as such', async () => {
    const path = fresh('csv');
    writeFileSync(path, `${csvLine(HEADER)}${csvLine(['张\uFFFD三', '原文如此'])}`);
    expect(cellsOf(await records(path))).toEqual([['张\uFFFD三', '原文如此']]);
  });
});

describe('undecodable bytes are marked on their cells (the loader quarantines them as text_damaged)', () => {
  /** The records with damaged cells: their row and the damaged columns. */
  const damagedOf = (ms: ReadMessage[]) =>
    ms.flatMap((m) =>
      m.type === 'record' && m.damaged ? [{ row: m.position.row, damaged: m.damaged }] : [],
    );
  /** The text of the undamaged records. */
  const cleanText = (ms: ReadMessage[]) =>
    ms.flatMap((m) => (m.type === 'record' && !m.damaged ? m.cells : [])).join('');

  it('in a UTF-8 CSV: a character cut in one row marks that cell alone', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => [`松林村${i}`, '正常']);
    const good = Buffer.from(csvLine(HEADER) + rows.map(csvLine).join(''), 'utf8');
    const at = good.indexOf(Buffer.from('松林村57'));
    // the last byte of 林 replaced by an ASCII letter: the character cannot be decoded
    const bad = Buffer.from(good);
    bad[at + 5] = 0x41;
    const path = fresh('csv');
    writeFileSync(path, bad);
    const ms = await records(path);
    expect(damagedOf(ms)).toEqual([{ row: 59, damaged: [0] }]);
    // the damaged cell shows U+FFFD where the bytes were, one for the cut character (E6 9E, as TextDecoder reads
    // them: the maximal subpart), the letter after it kept; nothing else is touched
    expect(cellsOf(ms)[57]).toEqual(['松\uFFFDA村57', '正常']);
    expect(new TextDecoder().decode(bad.subarray(at, at + 11))).toBe('松\uFFFDA村57');
    expect(cellsOf(ms)).toHaveLength(200);
    expect(cleanText(ms)).not.toMatch(/[\uFFFD\uFFFF]/);
  });

  it('in a GB18030 CSV: an undecodable pair in one row marks that cell alone', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => [`松林村${i}`, '正常']);
    const good = iconv.encode(csvLine(HEADER) + rows.map(csvLine).join(''), 'gb18030');
    const at = good.indexOf(iconv.encode('松林村120', 'gb18030'));
    const bad = Buffer.from(good);
    bad[at + 2] = 0xff; // 林's lead byte: 0xFF leads nothing in GB18030
    const path = fresh('csv');
    writeFileSync(path, bad);
    const ms = await records(path);
    expect(damagedOf(ms)).toEqual([{ row: 122, damaged: [0] }]);
    expect(cellsOf(ms)).toHaveLength(200);
    expect(cleanText(ms)).not.toMatch(/[\uFFFD\uFFFF]/);
  });

  it('in an .xlsx: an invalid byte in a shared string marks the one cell showing it, with its sheet and row', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名册');
    ws.addRow(HEADER);
    for (let i = 0; i < 50; i++) ws.addRow([`松林村${i}`, '正常']);
    const path = fresh('xlsx');
    await wb.xlsx.writeFile(path);
    // Damage one string inside the archive: the zip stays valid, the XML holds a byte that is not UTF-8.
    const zip = await JSZip.loadAsync(await import('node:fs').then((fs) => fs.readFileSync(path)));
    const sst = await zip.file('xl/sharedStrings.xml')!.async('nodebuffer');
    const at = sst.indexOf(Buffer.from('松林村17<'));
    sst[at + 3] = 0xc0; // 林's first byte becomes a lead byte no decoder accepts
    zip.file('xl/sharedStrings.xml', sst);
    writeFileSync(path, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    const ms = await records(path);
    expect(damagedOf(ms)).toEqual([{ row: 19, damaged: [0] }]);
    const damagedRecord = ms.find((m) => m.type === 'record' && m.damaged);
    const position = damagedRecord?.type === 'record' ? damagedRecord.position : undefined;
    expect(position).toEqual({ source: expect.stringMatching(/\.xlsx$/), sheet: '名册', row: 19 });
    expect(cellsOf(ms)).toHaveLength(50);
    expect(cleanText(ms)).not.toMatch(/\uFFFD/);
  });
});
