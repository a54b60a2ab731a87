/**
 * Excel workbooks (.xlsx, and the .xlsm/.et files that are the same package), streamed: a sheet's rows are read
 * one at a time from its XML part, so a 250k-row sheet never sits in memory whole; only the shared string table
 * does, since any cell may refer to any of its strings. The package is read the way the format defines it
 * (package.ts), so a workbook reads the same whichever program wrote it. No bulk path: records go through the
 * loader's COPY of records.
 */
import { basename } from 'node:path';
import { dataError } from '../../core/errors.ts';
import { type SheetSource, type WorkbookSource, workbookConnector } from '../workbook.ts';
import { readDateStyles, readPackage, readSharedStrings } from './package.ts';
import { sheetRows } from './sheet.ts';
import { openZip } from './zip.ts';

export async function openXlsx(path: string): Promise<WorkbookSource> {
  const archive = await openZip(path);
  try {
    const pkg = await readPackage(archive);
    const [strings, dateStyles] = [
      await readSharedStrings(archive, pkg.sharedStrings),
      await readDateStyles(archive, pkg.styles),
    ];
    const ctx = { archive, strings, dateStyles, date1904: pkg.date1904 };
    const sheets: SheetSource[] = pkg.sheets.map((s) => ({
      name: s.name,
      hidden: s.state !== 'visible',
      rows: () => (s.part ? sheetRows(ctx, s.part) : noRows()),
    }));
    if (!sheets.length) throw dataError(`${basename(path)}: the workbook has no sheets`);
    return { sheets, close: () => archive.close() };
  } catch (err) {
    archive.close();
    throw err;
  }
}

async function* noRows() {
  // a chart sheet, or a sheet whose part is missing: no rows
}

/** What the package says it inflates to in all (a bound: inflating more than a part declares fails its read). */
export async function inflatedSize(path: string): Promise<number> {
  const archive = await openZip(path);
  try {
    return archive.totalSize;
  } finally {
    archive.close();
  }
}

export const xlsxConnector = workbookConnector('xlsx', openXlsx);
