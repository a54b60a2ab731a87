/** One CSV line (RFC 4180 quoting, CRLF) — what Excel expects when it opens the file. */
export function csvLine(cells: readonly (string | number | null | undefined)[], delimiter = ','): string {
  return `${cells
    .map((c) => {
      const s = c === null || c === undefined ? '' : String(c);
      return /["\r\n]/.test(s) || s.includes(delimiter) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(delimiter)}\r\n`;
}

/** UTF-8 byte order mark: Excel on Windows reads a CSV as UTF-8 only when it is present. */
export const UTF8_BOM = '\uFEFF';
