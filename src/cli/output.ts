import { configError } from '../../core/errors.ts';
import { csvLine } from '../delivery/csv.ts';
import { neutralizeCell } from '../delivery/neutralize.ts';
import { formatTable } from './table.ts';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(f: string | undefined, allowed: readonly Format[] = FORMATS): Format {
  const v = (f ?? 'table') as Format;
  if (!allowed.includes(v)) throw configError(`--format: expected one of ${allowed.join(', ')}, got '${f}'`);
  return v;
}

/** Rows as a table, CSV (with header) or JSON lines-free array, on the command's output stream. */
export function writeRows(
  out: NodeJS.WritableStream,
  format: Format,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): void {
  const cell = (v: unknown) =>
    v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (format === 'json') out.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (format === 'csv') {
    // `--format csv > file.csv` is opened in a spreadsheet: neutralized like every file the system writes.
    out.write(csvLine(columns));
    for (const r of rows) out.write(csvLine(columns.map((c) => neutralizeCell(cell(r[c])))));
  } else
    out.write(
      `${formatTable(
        columns,
        rows.map((r) => columns.map((c) => cell(r[c]))),
      )}\n`,
    );
}
