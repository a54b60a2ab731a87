import { extname } from 'node:path';
import type { Connector } from '../../connectors/connector.ts';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { xlsxConnector } from '../../connectors/xlsx/xlsx-connector.ts';
import { configError } from '../errors.ts';

/** File connectors by extension. Database and HTTP sources are chosen by the source config instead. */
const BY_EXTENSION: Record<string, Connector<{ path: string }>> = {
  '.csv': csvConnector,
  '.txt': csvConnector,
  '.tsv': csvConnector,
  '.xlsx': xlsxConnector,
};

export function connectorFor(path: string): Connector<{ path: string }> {
  const ext = extname(path).toLowerCase();
  if (ext === '.xls' || ext === '.et') {
    throw configError(
      `${path}: the old binary '${ext}' format is not read; save the sheet as .xlsx (or CSV) first`,
    );
  }
  const c = BY_EXTENSION[ext];
  if (!c) {
    throw configError(
      `${path}: unsupported file type '${ext || '(none)'}'; expected one of ${Object.keys(BY_EXTENSION).join(', ')}`,
    );
  }
  return c;
}
