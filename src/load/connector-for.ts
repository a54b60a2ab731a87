import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import type { Connector } from '../../connectors/connector.ts';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { xlsConnector } from '../../connectors/xls/xls-connector.ts';
import { xlsxConnector } from '../../connectors/xlsx/xlsx-connector.ts';
import { configError } from '../../core/errors.ts';

/** File connectors by extension. Database and HTTP sources are chosen by the source config instead. */
const BY_EXTENSION: Record<string, Connector<{ path: string }>> = {
  '.csv': csvConnector,
  '.txt': csvConnector,
  '.tsv': csvConnector,
  '.xlsx': xlsxConnector,
  '.xlsm': xlsxConnector,
  '.xls': xlsConnector,
  '.et': xlsConnector,
};

const WORKBOOK = new Set(['.xlsx', '.xlsm', '.xls', '.et']);

/**
 * A workbook's format is told by its first bytes, not by its name: department systems write .xlsx packages
 * named .xls, binary .xls named .xlsx, and HTML tables or tab-separated text named .xls. A zip is an .xlsx
 * package; a compound file (D0 CF 11 E0) is BIFF .xls/.et; markup is an HTML or XML 2003 ".xls" (SheetJS reads
 * both); anything else is delimited text.
 */
function sniff(path: string): Connector<{ path: string }> | null {
  const head = Buffer.alloc(512);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null; // the loader reports a missing or unreadable file in its own words
  }
  const b = head.subarray(0, n);
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return xlsxConnector;
  if (n >= 4 && b.readUInt32BE(0) === 0xd0cf11e0) return xlsConnector;
  const text = b
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  if (text.startsWith('<')) return xlsConnector;
  return n === 0 ? null : csvConnector;
}

export function connectorFor(path: string): Connector<{ path: string }> {
  const ext = extname(path).toLowerCase();
  const c = BY_EXTENSION[ext];
  if (!c) {
    throw configError(
      `${path}: unsupported file type '${ext || '(none)'}'; expected one of ${Object.keys(BY_EXTENSION).join(', ')}`,
    );
  }
  return WORKBOOK.has(ext) ? (sniff(path) ?? c) : c;
}

/** Whether a file is read as a workbook (several sheets) rather than as one table. */
export const isWorkbook = (path: string) => connectorFor(path) !== csvConnector;
