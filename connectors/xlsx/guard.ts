/**
 * Checks a workbook before any XML parser sees it: an .xlsx is a zip of XML parts, and both layers can be
 * weaponised. Refused, with a data error naming the file:
 *   - not a zip at all (a CSV or an old binary .xls renamed .xlsx);
 *   - too many entries, or too much uncompressed data in total (zip bombs), read from the central directory
 *     without inflating anything;
 *   - an entry whose compression ratio is implausible for a spreadsheet;
 *   - any XML part with a DOCTYPE or ENTITY declaration (entity expansion, external entities). A DOCTYPE can
 *     only stand in the prolog, so each part is read up to its first element and no further.
 */
import { basename } from 'node:path';
import unzipper from 'unzipper';
import { dataError } from '../../src/errors.ts';

export interface WorkbookLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  /** Applied to entries above 1 MiB uncompressed; real sheets compress about 5–20×. */
  maxRatio: number;
}

export const DEFAULT_LIMITS: WorkbookLimits = {
  maxEntries: 10_000,
  maxUncompressedBytes: 2 * 1024 ** 3,
  maxRatio: 200,
};

const PROLOG_LIMIT = 64 * 1024;

export async function inspectWorkbook(path: string, limits: WorkbookLimits = DEFAULT_LIMITS): Promise<void> {
  const file = basename(path);
  let dir: unzipper.CentralDirectory;
  try {
    dir = await unzipper.Open.file(path);
  } catch {
    throw dataError(
      `${file}: not an .xlsx workbook (no zip structure); save it from Excel as .xlsx, or as CSV`,
    );
  }
  if (dir.files.length > limits.maxEntries) {
    throw dataError(
      `${file}: refused: ${dir.files.length} parts in the workbook (limit ${limits.maxEntries})`,
    );
  }
  let total = 0;
  for (const f of dir.files) {
    total += f.uncompressedSize;
    if (
      f.uncompressedSize > 1024 ** 2 &&
      f.uncompressedSize / Math.max(1, f.compressedSize) > limits.maxRatio
    ) {
      throw dataError(
        `${file}: refused: part ${f.path} inflates ${Math.round(f.uncompressedSize / Math.max(1, f.compressedSize))}× (limit ${limits.maxRatio}×), a zip bomb`,
      );
    }
  }
  if (total > limits.maxUncompressedBytes) {
    throw dataError(
      `${file}: refused: ${Math.round(total / 1024 ** 2)} MiB uncompressed (limit ${Math.round(limits.maxUncompressedBytes / 1024 ** 2)} MiB)`,
    );
  }
  if (!dir.files.some((f) => f.path === 'xl/workbook.xml')) {
    throw dataError(`${file}: not an .xlsx workbook (no xl/workbook.xml); save it from Excel as .xlsx`);
  }
  for (const f of dir.files) {
    if (!/\.(xml|rels)$/i.test(f.path)) continue;
    if (await prologDeclares(f)) {
      throw dataError(
        `${file}: refused: part ${f.path} declares a DOCTYPE or ENTITY (not allowed in a workbook)`,
      );
    }
  }
}

/** Reads an XML part up to its first element (or 64 KiB) and says whether a DOCTYPE/ENTITY is declared. */
async function prologDeclares(entry: unzipper.File): Promise<boolean> {
  let text = '';
  const stream = entry.stream();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      if (/<!(DOCTYPE|ENTITY)/i.test(text)) return true;
      // The root element has started: no declaration can follow.
      if (/<[A-Za-z_]/.test(text.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''))) return false;
      if (text.length > PROLOG_LIMIT) return false;
    }
    return false;
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
