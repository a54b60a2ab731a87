/**
 * The old binary workbooks many department systems still export: Excel 97–2003 .xls (BIFF8, and BIFF5 with
 * its code page), WPS .et (the same compound-file format), and the ".xls" files that are really an HTML table
 * or an XML Spreadsheet 2003 — read by SheetJS (its community build, republished to the npm registry as
 * `@e965/xlsx`; the registry's own `xlsx` 0.18 is unmaintained). SheetJS reads a whole file into memory, so the
 * file's size is bounded (MAX_BYTES): a BIFF8 sheet holds at most 65,536 rows, and real exports are a few MB.
 * Rows then go through the same sheet reading as .xlsx (connectors/workbook.ts).
 */
import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { dataError } from '../../core/errors.ts';
import { isDateFormat, isDateFormatId, numberText, serialText, textOrNull } from '../cell-text.ts';
import { decodeGb18030 } from '../gb18030.ts';
import { decodingDamaged, REPLACEMENT } from '../text-damage.ts';
import { type SheetRow, type SheetSource, type WorkbookSource, workbookConnector } from '../workbook.ts';

/**
 * SheetJS parses the whole file into cell objects: measured here, a 19 MiB .xls (60k rows × 13 columns) peaks at
 * ~590 MiB and a 31 MiB one (100k rows) at ~860 MiB — about 25 times the file. Files above this bound (roughly
 * 50k rows of a dozen columns) are refused with what to do instead: .xlsx and CSV are read as a stream.
 */
export const MAX_BYTES = 16 * 1024 ** 2;

/**
 * Stands in the decoded GB18030 text for bytes that could not be decoded (as in the CSV reader): a noncharacter,
 * so that a U+FFFD the file really holds stays text and only the cells showing this are marked damaged.
 */
const UNDECODABLE = '\uFFFF';

type SheetJS = typeof import('@e965/xlsx');
let sheetjs: Promise<SheetJS> | null = null;

/** Loaded on first use (a 1 MB module), with the code pages BIFF5 files and HTML exports need. */
function loadSheetJS(): Promise<SheetJS> {
  sheetjs ??= (async () => {
    const x = await import('@e965/xlsx');
    const cp = await import('@e965/xlsx/dist/cpexcel.full.mjs');
    x.set_cptable(withOurGb18030(cp));
    return x;
  })();
  return sheetjs;
}

/** Windows code pages that are GBK (936) and GB18030 (54936). */
const GB_CODEPAGES = new Set([936, 54936]);

/**
 * SheetJS's code pages with 936 and 54936 decoded by the project's one GB18030 decoder (connectors/gb18030.ts):
 * a BIFF5 workbook's strings in code page 936 are then the same text as the same bytes in a CSV. Its own cp936
 * table is Microsoft's GBK: 2,149 two-byte codes (A8BC ḿ, A3A0, FE59, A6D9 among them, and every undecodable
 * pair) came out as U+FDFF, silently; here undecodable bytes are UNDECODABLE, and the cell is marked damaged.
 */
function withOurGb18030(cp: object): object {
  type Data = string | number[] | Uint8Array;
  const { utils } = cp as { utils: { decode(page: number | string, data: Data): string } };
  const decode = (page: number | string, data: Data): string =>
    GB_CODEPAGES.has(Number(page)) && typeof data !== 'string'
      ? decodeGb18030(data instanceof Uint8Array ? data : Uint8Array.from(data), UNDECODABLE).text
      : utils.decode(page, data);
  return { ...cp, utils: { ...utils, decode } };
}

type Cell = { t: string; v?: unknown; w?: string; z?: string | number };

const isDate = (z: string | number) => (typeof z === 'number' ? isDateFormatId(z) : isDateFormat(z));

function cellText(cell: Cell | undefined, date1904: boolean) {
  if (!cell || cell.v === undefined || cell.v === null) return null;
  switch (cell.t) {
    case 's':
      return textOrNull(String(cell.v));
    case 'b':
      return cell.v ? 'TRUE' : 'FALSE';
    case 'e':
      return cell.w ?? null;
    case 'n': {
      const n = Number(cell.v);
      return cell.z !== undefined && isDate(cell.z) ? serialText(n, date1904) : numberText(n);
    }
    default:
      return textOrNull(String(cell.v));
  }
}

/** How the bytes of an HTML or XML ".xls" are turned into text before SheetJS parses them. */
function decodeMarkup(bytes: Buffer): { text: string; damaged: boolean; marker: string } {
  const head = bytes.subarray(0, 2048).toString('latin1');
  const declared =
    /charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1] ?? /encoding\s*=\s*["']([\w-]+)/i.exec(head)?.[1];
  // A GB label (gb2312, gbk, gb18030) is read as GB18030, the superset every such file fits in; no label, and
  // bytes that are not UTF-8, mean a Chinese Windows program wrote it.
  const gb = declared ? /^gb|^x-gbk|^cp936$/i.test(declared) : !isUtf8(bytes);
  if (gb) {
    // The project's one GB18030 decoder (connectors/gb18030.ts), as for CSV: the same bytes, the same text.
    const { text, errors } = decodeGb18030(bytes, UNDECODABLE);
    return { text, damaged: errors > 0, marker: UNDECODABLE };
  }
  const text = new TextDecoder('utf-8').decode(bytes); // a BOM dropped; undecodable bytes as U+FFFD
  return { text, damaged: decodingDamaged(text, bytes, 'utf8'), marker: REPLACEMENT };
}

/**
 * Numeric character references (`&#x2A6A5;`, `&#183537;`) as the characters they stand for: a GBK system writes
 * every character outside GBK that way (the rare characters of people's names), and SheetJS's HTML reader
 * decodes named references only. `<` and `&` become the named references SheetJS does decode.
 */
function withCharacterReferences(text: string): string {
  return text.replace(
    /&#(?:x([0-9a-f]{1,6})|([0-9]{1,7}));/gi,
    (ref, hex: string | undefined, dec: string | undefined) => {
      const cp = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
      // U+FFFF stands for undecodable bytes here (UNDECODABLE): a reference to it stays as written.
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0 || cp === 0xffff) return ref;
      const ch = String.fromCodePoint(cp);
      return ch === '<' ? '&lt;' : ch === '&' ? '&amp;' : ch;
    },
  );
}

/** Excel's own HTML names its sheet in a conditional comment SheetJS does not read. */
const htmlSheetName = (text: string) => /<x:Name>([^<]+)<\/x:Name>/.exec(text)?.[1]?.trim();

export async function openXls(path: string): Promise<WorkbookSource> {
  const file = basename(path);
  const { size } = await stat(path);
  if (size > MAX_BYTES) {
    throw dataError(
      `${file}: refused: ${Math.round(size / 1024 ** 2)} MiB is more than an old-format workbook (.xls/.et) may be here (${MAX_BYTES / 1024 ** 2} MiB); save it as .xlsx or CSV, which are read as a stream`,
    );
  }
  const X = await loadSheetJS();
  const bytes = await readFile(path);
  const markup = bytes[0] !== 0xd0; // not a compound file: an HTML table or an XML Spreadsheet 2003
  const decoded = markup ? decodeMarkup(bytes) : null;
  const html = decoded !== null && /^\s*<(!doctype\s+)?html|<table/i.test(decoded.text.slice(0, 4096));
  if (decoded && html) decoded.text = withCharacterReferences(decoded.text);
  let book: ReturnType<SheetJS['read']>;
  try {
    book = X.read(decoded ? decoded.text : bytes, {
      type: decoded ? 'string' : 'buffer',
      dense: true,
      cellNF: true, // number formats, to tell date cells from numbers
      cellText: false, // no formatted copy of every value: memory, and the values are what is loaded
      cellDates: false, // dates as serials: converted here the same way as in .xlsx
      cellFormula: false, // a formula's cached value only
      cellHTML: false,
      cellStyles: false,
      // An HTML cell is text as written: SheetJS would otherwise guess numbers and dates, turning an 18-digit ID
      // into 5.2E+17 and a class "3-1" into a date.
      ...(decoded && /^\s*<(!doctype\s+)?html|<table/i.test(decoded.text.slice(0, 4096))
        ? { raw: true }
        : {}),
    });
  } catch (err) {
    throw dataError(
      `${file}: not a readable .xls/.et workbook (${(err as Error).message}); save it as .xlsx or CSV`,
    );
  }
  const named = decoded ? htmlSheetName(decoded.text) : undefined;
  if (named && book.SheetNames.length === 1 && book.SheetNames[0] !== named) {
    book.Sheets[named] = book.Sheets[book.SheetNames[0]!]!;
    book.SheetNames[0] = named;
  }
  const date1904 = Boolean(book.Workbook?.WBProps?.date1904);
  // Markup: as its decoding found. A compound file: its strings in code page 936 are decoded by withOurGb18030
  // (UNDECODABLE where bytes were not GB18030); UTF-16 strings hold no such noncharacter.
  const damagedText = decoded ? decoded.damaged : true;
  const marker = decoded?.marker ?? UNDECODABLE;
  const sheets: SheetSource[] = book.SheetNames.map((name, i) => {
    const hidden = (book.Workbook?.Sheets?.[i]?.Hidden ?? 0) !== 0;
    return {
      name,
      hidden,
      async *rows(): AsyncGenerator<SheetRow> {
        const sheet = book.Sheets[name];
        const data = (sheet?.['!data'] ?? []) as (Cell[] | undefined)[];
        for (let r = 0; r < data.length; r++) {
          const row = data[r];
          if (!row) continue;
          const cells: (string | null)[] = [];
          for (let c = 0; c < row.length; c++) cells.push(cellText(row[c], date1904));
          while (cells.length && cells.at(-1) === null) cells.pop();
          if (!cells.length) continue;
          const damaged = damagedText ? cells.flatMap((c, k) => (c?.includes(marker) ? [k] : [])) : [];
          if (damaged.length && marker !== REPLACEMENT)
            for (const k of damaged) cells[k] = cells[k]!.replaceAll(marker, REPLACEMENT);
          yield damaged.length ? { number: r + 1, cells, damaged } : { number: r + 1, cells };
        }
      },
    };
  });
  if (!sheets.length) throw dataError(`${file}: the workbook has no sheets`);
  return { sheets, close: () => {} };
}

export const xlsConnector = workbookConnector('xls', openXls);
