/**
 * A worksheet part streamed into rows of cell text. Each cell is turned into what a person reading the sheet
 * would type, nothing invented: shared and inline strings (rich-text runs joined), numbers as written, booleans,
 * error values, a formula's cached result (never the formula), and date-formatted numbers as dates in either
 * date system. Rows and cells without an `r` reference (some writers omit them) follow the previous one.
 */
import { numberText, serialText, textOrNull } from '../cell-text.ts';
import type { SheetRow } from '../workbook.ts';
import type { SharedStrings } from './package.ts';
import { localName, streamPart, unescapeXstring } from './xml.ts';
import type { ZipArchive } from './zip.ts';

export interface SheetContext {
  archive: ZipArchive;
  strings: SharedStrings;
  dateStyles: boolean[];
  date1904: boolean;
}

/** Column letters of a cell reference (`AB12` → 27), 0-based; -1 when the reference has none. */
function columnOf(ref: string): number {
  let col = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    const up = c >= 97 ? c - 32 : c;
    if (up < 65 || up > 90) break;
    col = col * 26 + (up - 64);
  }
  return i === 0 ? -1 : col - 1;
}

export async function* sheetRows(ctx: SheetContext, part: string): AsyncGenerator<SheetRow> {
  const { strings, dateStyles, date1904 } = ctx;
  const done: SheetRow[] = [];
  let row: SheetRow | null = null;
  let lastRow = 0;
  let nextCol = 0;
  // the cell being read
  let col = 0;
  let type = 'n';
  let style = 0;
  let value = '';
  let inline = '';
  let collecting: 'v' | 't' | null = null;
  let inInline = false;
  let phonetic = 0;
  let damagedPart: { readonly damaged: boolean } = { damaged: false };

  const finishCell = () => {
    if (!row) return;
    let text: string | null;
    let damaged = false;
    switch (type) {
      case 's': {
        // an index into the shared strings; a cell without one (no <v>) is empty, not string 0
        const i = value.trim() === '' ? -1 : Number(value);
        text = textOrNull(strings.strings[i] ?? '');
        damaged = strings.damaged.has(i);
        break;
      }
      case 'inlineStr':
        text = textOrNull(unescapeXstring(inline));
        break;
      case 'str': // a formula's text result
        text = textOrNull(unescapeXstring(value));
        break;
      case 'b':
        text = value === '' ? null : value === '1' || value === 'true' ? 'TRUE' : 'FALSE';
        break;
      case 'e':
        text = textOrNull(value);
        break;
      case 'd': // ISO 8601 date cell (strict OOXML, some writers)
        text = textOrNull(value.endsWith('T00:00:00') ? value.slice(0, 10) : value.replace('T', ' '));
        break;
      default: {
        if (value.trim() === '') {
          text = null;
          break;
        }
        const n = Number(value);
        if (Number.isNaN(n)) text = value;
        else text = dateStyles[style] ? serialText(n, date1904) : numberText(n);
      }
    }
    if (text !== null && !damaged && damagedPart.damaged && text.includes('\uFFFD')) damaged = true;
    if (text !== null) {
      while (row.cells.length < col) row.cells.push(null);
      row.cells[col] = text;
      if (damaged) row.damaged = [...(row.damaged ?? []), col];
    }
  };

  const setup = (p: import('saxes').SaxesParser, reader: { readonly damaged: boolean }) => {
    damagedPart = reader;
    p.on('opentag', (t) => {
      switch (localName(t)) {
        case 'row': {
          const r = Number(t.attributes.r);
          const number = Number.isInteger(r) && r > lastRow ? r : lastRow + 1;
          row = { number, cells: [] };
          lastRow = number;
          nextCol = 0;
          break;
        }
        case 'c': {
          const ref = t.attributes.r;
          const c = ref ? columnOf(ref) : -1;
          col = c >= 0 ? c : nextCol;
          nextCol = col + 1;
          type = t.attributes.t ?? 'n';
          style = Number(t.attributes.s ?? 0);
          value = '';
          inline = '';
          break;
        }
        case 'v':
          collecting = 'v';
          break;
        case 'is':
          inInline = true;
          break;
        case 'rPh':
          phonetic++;
          break;
        case 't':
          if (inInline && phonetic === 0) collecting = 't';
          break;
      }
    });
    p.on('text', (s) => {
      if (collecting === 'v') value += s;
      else if (collecting === 't') inline += s;
    });
    p.on('closetag', (t) => {
      switch (localName(t)) {
        case 'v':
        case 't':
          collecting = null;
          break;
        case 'is':
          inInline = false;
          break;
        case 'rPh':
          phonetic--;
          break;
        case 'c':
          finishCell();
          break;
        case 'row':
          if (row) done.push(row);
          row = null;
          break;
      }
    });
  };
  yield* streamPart(ctx.archive, part, setup, () => done.splice(0));
}
