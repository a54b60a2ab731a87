/**
 * The zip layer of a workbook, checked before and while any XML parser sees it (an .xlsx is a zip of XML
 * parts, and both layers can be weaponised). yauzl reads the central directory (random access, so parts are
 * opened in any order, whatever order the writer laid them out in) and inflates one part at a time as a stream.
 * Refused with a data error naming the file:
 *   - not a zip at all (a CSV, or an .xls renamed .xlsx);
 *   - too many entries, or too much uncompressed data declared in total;
 *   - an entry whose declared compression ratio is implausible for a spreadsheet;
 *   - a part that inflates to more than it declared: yauzl counts the bytes it really inflates against the
 *     declared size and fails the stream the moment they exceed it, so the declared sizes checked above bound
 *     what is inflated — a forged directory cannot make the reader hold more than the limits allow.
 * DOCTYPE/ENTITY declarations are refused by the XML layer (xml.ts), which sees every part it parses.
 */
import { basename } from 'node:path';
import yauzl from 'yauzl';
import { dataError, RuralHubError } from '../../core/errors.ts';

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

export interface ZipArchive {
  /** The file's base name, for messages. */
  file: string;
  /** Whether a part exists (names compared case-insensitively, as Excel does). */
  has(name: string): boolean;
  /** A part's uncompressed size as declared (never exceeded: inflating more fails the read); 0 when absent. */
  size(name: string): number;
  /** The whole archive's declared uncompressed size. */
  readonly totalSize: number;
  /** The part inflated, chunk by chunk; nothing when absent. */
  chunks(name: string): AsyncGenerator<Buffer>;
  close(): void;
}

/** Part names as the package writes them: forward slashes, no leading slash, case folded for lookup. */
export const partKey = (name: string) => name.replace(/\\/g, '/').replace(/^\/+/, '').toLowerCase();

export async function openZip(path: string, limits: WorkbookLimits = DEFAULT_LIMITS): Promise<ZipArchive> {
  const file = basename(path);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, strictFileNames: false });
  } catch {
    throw dataError(
      `${file}: not an .xlsx workbook (no zip structure); save it from Excel as .xlsx, or as CSV`,
    );
  }
  const entries = new Map<string, yauzl.Entry>();
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw dataError(
        `${file}: refused: ${zip.entryCount} parts in the workbook (limit ${limits.maxEntries})`,
      );
    }
    let total = 0;
    for await (const e of zip.eachEntry()) {
      total += e.uncompressedSize;
      const ratio = e.uncompressedSize / Math.max(1, e.compressedSize);
      if (e.uncompressedSize > 1024 ** 2 && ratio > limits.maxRatio) {
        throw dataError(
          `${file}: refused: part ${e.fileName} inflates ${Math.round(ratio)}× (limit ${limits.maxRatio}×), a zip bomb`,
        );
      }
      entries.set(partKey(e.fileName), e);
    }
    if (total > limits.maxUncompressedBytes) {
      throw dataError(
        `${file}: refused: ${Math.round(total / 1024 ** 2)} MiB uncompressed (limit ${Math.round(limits.maxUncompressedBytes / 1024 ** 2)} MiB)`,
      );
    }
  } catch (err) {
    zip.close();
    if (err instanceof RuralHubError) throw err;
    throw dataError(
      `${file}: a damaged workbook (its zip directory cannot be read: ${(err as Error).message})`,
    );
  }
  return {
    file,
    has: (name) => entries.has(partKey(name)),
    size: (name) => entries.get(partKey(name))?.uncompressedSize ?? 0,
    totalSize: [...entries.values()].reduce((n, e) => n + e.uncompressedSize, 0),
    async *chunks(name) {
      const entry = entries.get(partKey(name));
      if (!entry) return;
      if (entry.isEncrypted()) {
        throw dataError(`${file}: part ${entry.fileName} is encrypted; save the workbook without a password`);
      }
      try {
        // Leaving the loop early (a reader that found what it wanted) destroys the stream.
        for await (const chunk of await zip.openReadStreamPromise(entry)) yield chunk as Buffer;
      } catch (err) {
        if (err instanceof RuralHubError) throw err;
        throw dataError(
          /too many bytes/.test((err as Error).message)
            ? `${file}: refused: part ${entry.fileName} inflates beyond the size it declares (a zip bomb, or a damaged workbook)`
            : `${file}: part ${entry.fileName} cannot be inflated (${(err as Error).message}); the workbook is damaged`,
        );
      }
    },
    close: () => zip.close(),
  };
}
