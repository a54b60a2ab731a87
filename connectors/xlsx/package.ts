/**
 * The parts of an .xlsx package a reader needs before the first row, found the way the format defines them,
 * not where one writer happens to put them: the main part from the package relationships (`_rels/.rels`),
 * its sheets (names, order, visibility) from the workbook part, their files, the shared strings and styles from
 * the workbook's relationships, and the date system (1900 or 1904). Works for any order of the zip entries
 * (openpyxl and pandas write xl/workbook.xml after the sheets; exceljs before them).
 */
import { posix } from 'node:path';
import { dataError } from '../../core/errors.ts';
import { isDateFormat, isDateFormatId } from '../cell-text.ts';
import { localName, readPart, unescapeXstring } from './xml.ts';
import type { ZipArchive } from './zip.ts';

export type SheetState = 'visible' | 'hidden' | 'veryHidden';

export interface SheetPart {
  name: string;
  state: SheetState;
  /** The sheet's XML part; null for a chart sheet or a dangling relationship (read as an empty sheet). */
  part: string | null;
}

export interface PackageInfo {
  sheets: SheetPart[];
  date1904: boolean;
  sharedStrings: string | null;
  styles: string | null;
}

const REL = (kind: string) => new RegExp(`/${kind}$`);

/** Relationship targets are relative to the folder of the part that holds them, or absolute from the root. */
function resolveTarget(fromPart: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  return posix.normalize(posix.join(posix.dirname(fromPart), target));
}

async function relationships(archive: ZipArchive, ofPart: string) {
  const relsPart = posix.join(posix.dirname(ofPart), '_rels', `${posix.basename(ofPart)}.rels`);
  const rels: { id: string; type: string; target: string }[] = [];
  await readPart(archive, relsPart, (p) =>
    p.on('opentag', (t) => {
      if (localName(t) !== 'Relationship' || t.attributes.TargetMode === 'External') return;
      rels.push({
        id: t.attributes.Id ?? '',
        type: t.attributes.Type ?? '',
        target: resolveTarget(ofPart, t.attributes.Target ?? ''),
      });
    }),
  );
  return rels;
}

export async function readPackage(archive: ZipArchive): Promise<PackageInfo> {
  const root = await relationships(archive, '');
  const main = root.find((r) => REL('officeDocument').test(r.type))?.target ?? 'xl/workbook.xml';
  if (!archive.has(main)) {
    throw dataError(`${archive.file}: not an .xlsx workbook (no workbook part); save it from Excel as .xlsx`);
  }
  const rels = await relationships(archive, main);
  const byId = new Map(rels.map((r) => [r.id, r]));
  const sheets: SheetPart[] = [];
  let date1904 = false;
  await readPart(archive, main, (p) =>
    p.on('opentag', (t) => {
      const name = localName(t);
      if (name === 'workbookPr') {
        const v = t.attributes.date1904;
        date1904 = v === '1' || v === 'true';
      } else if (name === 'sheet') {
        // r:id in the relationships namespace, whatever prefix the writer bound it to
        const rid = Object.entries(t.attributes).find(([k]) => k === 'r:id' || k.endsWith(':id'))?.[1];
        const rel = rid ? byId.get(rid) : undefined;
        const state = String(t.attributes.state ?? '');
        sheets.push({
          name: unescapeXstring(t.attributes.name ?? `Sheet${sheets.length + 1}`),
          state: state === 'hidden' || state === 'veryHidden' ? state : 'visible',
          part: rel && REL('worksheet').test(rel.type) && archive.has(rel.target) ? rel.target : null,
        });
      }
    }),
  );
  const find = (kind: string, fallback: string) => {
    const target = rels.find((r) => REL(kind).test(r.type))?.target;
    if (target && archive.has(target)) return target;
    return archive.has(fallback) ? fallback : null;
  };
  return {
    sheets,
    date1904,
    sharedStrings: find('sharedStrings', 'xl/sharedStrings.xml'),
    styles: find('styles', 'xl/styles.xml'),
  };
}

/** For each cell style index (the `s` of a cell), whether its number format shows a date. */
export async function readDateStyles(archive: ZipArchive, part: string | null): Promise<boolean[]> {
  if (!part) return [];
  const custom = new Map<number, string>();
  const xfs: number[] = [];
  let inCellXfs = false;
  await readPart(archive, part, (p) => {
    p.on('opentag', (t) => {
      const name = localName(t);
      if (name === 'numFmt') custom.set(Number(t.attributes.numFmtId), t.attributes.formatCode ?? '');
      else if (name === 'cellXfs') inCellXfs = true;
      else if (name === 'xf' && inCellXfs) xfs.push(Number(t.attributes.numFmtId ?? 0));
    });
    p.on('closetag', (t) => {
      if (localName(t) === 'cellXfs') inCellXfs = false;
    });
  });
  return xfs.map((id) => {
    const code = custom.get(id);
    return code !== undefined ? isDateFormat(code) : isDateFormatId(id);
  });
}

export interface SharedStrings {
  strings: string[];
  /** Indexes of strings that hold a U+FFFD the part's bytes do not (undecodable bytes). */
  damaged: Set<number>;
}

/**
 * The shared string table: each `<si>` is plain text (`<t>`) or rich text (runs `<r><t>`), whose texts are
 * joined; phonetic guides (`<rPh>`, furigana) are not part of the text. Held in memory: cells refer to it by
 * index from anywhere in the sheet.
 */
/**
 * The largest shared string table held in memory. A 250k-row roster's is ~30 MiB; a table past this is a
 * workbook to send as CSV (read as a stream), or a bomb.
 */
export const MAX_SHARED_STRINGS_BYTES = 256 * 1024 ** 2;

export async function readSharedStrings(archive: ZipArchive, part: string | null): Promise<SharedStrings> {
  const out: SharedStrings = { strings: [], damaged: new Set() };
  if (!part) return out;
  const size = archive.size(part);
  if (size > MAX_SHARED_STRINGS_BYTES) {
    throw dataError(
      `${archive.file}: refused: its shared string table is ${Math.round(size / 1024 ** 2)} MiB (limit ${MAX_SHARED_STRINGS_BYTES / 1024 ** 2} MiB); save the sheet as CSV`,
    );
  }
  let depthPh = 0;
  let inT = false;
  let text = '';
  await readPart(archive, part, (p, reader) => {
    p.on('opentag', (t) => {
      const name = localName(t);
      if (name === 'si') text = '';
      else if (name === 'rPh') depthPh++;
      else if (name === 't' && depthPh === 0) inT = true;
    });
    p.on('text', (s) => {
      if (inT) text += s;
    });
    p.on('closetag', (t) => {
      const name = localName(t);
      if (name === 't') inT = false;
      else if (name === 'rPh') depthPh--;
      else if (name === 'si') {
        const value = unescapeXstring(text);
        if (reader.damaged && value.includes('\uFFFD')) out.damaged.add(out.strings.length);
        out.strings.push(value);
      }
    });
  });
  return out;
}
