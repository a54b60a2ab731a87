/**
 * exceljs for writing the workbooks RuralHub sends out (lists, error workbooks, reports), with its text kept
 * whole. exceljs's workbook writer hands each XML part to jszip as a string, and jszip encodes a string to
 * UTF-8 in 16 KiB pieces: a character outside the BMP (CJK extension B such as 𠀀 in a person's name, emoji)
 * whose surrogate pair straddles two pieces is written as two U+FFFD. Measured: one damaged string in 3,000
 * distinct names. The parts are therefore turned into bytes, whole, before jszip sees them. Patched once, on
 * first use, on exceljs's own ZipWriter (the class its `xlsx.write`/`writeFile`/`writeBuffer` use).
 *
 * exceljs takes ~0.9 s to load: loaded on first use, so commands that write no workbook start faster.
 */
import { createRequire } from 'node:module';

import type ExcelJS from 'exceljs';

type ExcelModule = typeof ExcelJS;
type Append = (data: unknown, options: { name: string; base64?: boolean }) => void;

let loaded: Promise<ExcelModule> | null = null;

export function loadExcel(): Promise<ExcelModule> {
  loaded ??= (async () => {
    const { default: Excel } = await import('exceljs');
    const require = createRequire(import.meta.url);
    const ZipWriter = require('exceljs/lib/utils/zip-stream.js') as {
      ZipWriter: { prototype: { append: Append } };
    };
    const original = ZipWriter.ZipWriter.prototype.append;
    ZipWriter.ZipWriter.prototype.append = function (this: unknown, data, options) {
      const bytes = typeof data === 'string' && !options.base64 ? Buffer.from(data, 'utf8') : data;
      original.call(this, bytes, options);
    };
    return Excel;
  })();
  return loaded;
}

/** Text for a print header or footer section: `&` starts a code there (&P page, &N pages), `&&` is an `&`. */
export const headerFooterText = (text: string) => text.replaceAll('&', '&&');

/**
 * A validation that accepts any value and only shows an input prompt (exceljs writes type 'any' as a
 * validation without a type, as Excel does; its type declarations leave it out).
 */
export type PromptOnly = Omit<ExcelJS.DataValidation, 'type'> & { type: 'any' };

/** The part of exceljs's worksheet its type declarations leave out: validations keyed by address or range. */
interface WithValidations {
  dataValidations: { add(address: string, validation: ExcelJS.DataValidation | PromptOnly): void };
}

/**
 * One data validation over a whole range (`N2:N50`). Not `cell.dataValidation` cell by cell: exceljs merges
 * those on writing, sorting the addresses as strings (N10 before N2), so a column of more than eight rows
 * came out as two overlapping validations (N10:N50 and N2:N50), and some programs then apply only one and
 * leave the first rows without a drop-down. A validation stored under a range is written once, as it is.
 */
export function addRangeValidation(
  ws: ExcelJS.Worksheet,
  range: string,
  validation: ExcelJS.DataValidation | PromptOnly,
): void {
  (ws as unknown as WithValidations).dataValidations.add(range, validation);
}

/** A defined name as exceljs renders it: `<definedName name localSheetId>ranges</definedName>`. */
interface DefinedNameModel {
  name: string;
  localSheetId?: number;
  ranges: string[];
}

/**
 * Adds, for each sheet with an autofilter (set as an `A1:P13` range), the sheet-local defined name
 * `_xlnm._FilterDatabase` that Excel writes with every autofilter and exceljs does not: LibreOffice imports an
 * autofilter only through that name (measured, 7.4: without it the filter buttons are gone, and a file it
 * saves has no autoFilter left). The names are added to the model exceljs renders the workbook from, on this
 * workbook only — its own renderer writes them, no part of the file is rewritten afterwards.
 */
export function addFilterDatabaseNames(wb: ExcelJS.Workbook): void {
  const model = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(wb) as object, 'model');
  if (!model?.get || !model.set) throw new Error('exceljs: Workbook.model is no longer an accessor');
  const { get, set } = model;
  Object.defineProperty(wb, 'model', {
    configurable: true,
    get(this: ExcelJS.Workbook) {
      const m = get.call(this) as { definedNames: DefinedNameModel[] };
      // localSheetId is the sheet's position in the workbook, the order exceljs writes the sheets in.
      this.worksheets.forEach((ws, localSheetId) => {
        if (typeof ws.autoFilter !== 'string') return;
        const [from, to] = ws.autoFilter.split(':').map((a) => a.replace(/^([A-Z]+)([0-9]+)$/, '$$$1$$$2'));
        const sheet = `'${ws.name.replaceAll("'", "''")}'`;
        m.definedNames.push({
          name: '_xlnm._FilterDatabase',
          localSheetId,
          ranges: [`${sheet}!${from}:${to}`],
        });
      });
      return m;
    },
    set,
  });
}
