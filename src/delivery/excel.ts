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
