/**
 * Which connector reads what, by kind: the one place a transport is added.
 *
 *  - File kinds (csv, xlsx, xls): a file is read by the kind that takes its extension — or, for a workbook's
 *    extension, by the kind its first bytes say (see connectorFor).
 *  - Source kinds (sql, http): a feed's configured source (`feeds.<feed>.source`) is read by the kind its config
 *    names with `kind`, or shows by its shape for configs written before (schemas/sources.ts).
 *
 * Import, check/discover, drop, the answers coming back and the region list all choose their connector here.
 *
 * Adding a transport: its folder `connectors/<kind>/` with its connector (connector.ts), and its entry below;
 * a source kind also adds its config schema to schemas/sources.ts, and the type checker then asks for the entry.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { configError } from '../core/errors.ts';
import { type SourceConfig, type SourceConfigOf, type SourceKind, sourceKindOf } from '../schemas/sources.ts';
import type { Connector, ReadMessage, ReadOptions } from './connector.ts';
import { csvConnector } from './csv/csv-connector.ts';
import { httpConnector } from './http/http-connector.ts';
import { sqlConnector } from './sql/sql-connector.ts';
import { xlsConnector } from './xls/xls-connector.ts';
import { xlsxConnector } from './xlsx/xlsx-connector.ts';

/** What a file kind's connector reads: the file. */
export interface FileConfig {
  path: string;
}

export interface FileKind {
  connector: Connector<FileConfig>;
  /** File name extensions (lower case, with the dot) this kind takes. */
  extensions: readonly string[];
  /** A workbook has sheets to list and pick from; any other file is one table. */
  workbook: boolean;
  /** Whether the first bytes of a file are this kind's own; absent for delimited text, which has no signature. */
  signature?: (head: Buffer) => boolean;
}

const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32BE(0) === 0x504b0304;
const isCompoundFile = (b: Buffer) => b.length >= 4 && b.readUInt32BE(0) === 0xd0cf11e0;
/** An HTML table or an XML 2003 spreadsheet saved as ".xls" (a BOM and leading blanks aside). */
const isMarkup = (b: Buffer) =>
  b
    .toString('latin1')
    .replace(/^\xEF\xBB\xBF/, '')
    .trimStart()
    .startsWith('<');

/** The file kinds, in the order their extensions are listed to an operator. */
export const FILE_KINDS = {
  csv: { connector: csvConnector, extensions: ['.csv', '.txt', '.tsv'], workbook: false },
  xlsx: { connector: xlsxConnector, extensions: ['.xlsx', '.xlsm'], workbook: true, signature: isZip },
  // SheetJS reads BIFF .xls/.et as well as the HTML and XML 2003 spreadsheets saved as .xls
  xls: {
    connector: xlsConnector,
    extensions: ['.xls', '.et'],
    workbook: true,
    signature: (b) => isCompoundFile(b) || isMarkup(b),
  },
} satisfies Record<string, FileKind>;

const FILE_KIND_LIST: readonly FileKind[] = Object.values(FILE_KINDS);

/** Every extension a file may have, in FILE_KINDS order. */
export const FILE_EXTENSIONS: readonly string[] = FILE_KIND_LIST.flatMap((k) => k.extensions);

/** The file kind that takes this file name's extension, or undefined. */
export function fileKindByExtension(path: string): FileKind | undefined {
  const ext = extname(path).toLowerCase();
  return FILE_KIND_LIST.find((k) => k.extensions.includes(ext));
}

/** The first bytes of a file (up to 512), or null when it cannot be read. */
function head(path: string): Buffer | null {
  const buf = Buffer.alloc(512);
  try {
    const fd = openSync(path, 'r');
    try {
      return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return null; // the loader reports a missing or unreadable file in its own words
  }
}

/**
 * The file kind that reads `path`. A workbook's kind is told by its first bytes, not by its name: department
 * systems write .xlsx packages named .xls, binary .xls named .xlsx, and HTML tables or tab-separated text named
 * .xls. A file no signature claims is delimited text; an empty or unreadable one keeps its extension's kind.
 * A .csv/.txt/.tsv is taken as text whatever its bytes. Any other extension is a config error naming those
 * there are.
 */
export function fileKindOf(path: string): FileKind {
  const byName = fileKindByExtension(path);
  if (!byName) {
    const ext = extname(path).toLowerCase();
    throw configError(
      `${path}: unsupported file type '${ext || '(none)'}'; expected one of ${FILE_EXTENSIONS.join(', ')}`,
    );
  }
  if (!byName.workbook) return byName;
  const b = head(path);
  if (!b?.length) return byName;
  return FILE_KIND_LIST.find((k) => k.signature?.(b)) ?? FILE_KINDS.csv;
}

/** The connector that reads the file at `path` (see fileKindOf). */
export const connectorFor = (path: string): Connector<FileConfig> => fileKindOf(path).connector;

/** A configured source bound to the connector of its kind: what an import reads. */
export interface OpenedSource {
  kind: SourceKind;
  /** For positions, the ledger and messages: never a secret (no URL query, no connection string). */
  label: string;
  read(options: ReadOptions): AsyncIterable<ReadMessage>;
}

interface SourceEntry {
  /** The source bound to its connector, or null when `cfg` is another kind's. */
  open(cfg: SourceConfig): OpenedSource | null;
}

function sourceEntry<K extends SourceKind>(
  kind: K,
  connector: Connector<SourceConfigOf<K>>,
  label: (cfg: SourceConfigOf<K>) => string,
): SourceEntry {
  const ofKind = (cfg: SourceConfig): cfg is SourceConfigOf<K> => sourceKindOf(cfg) === kind;
  return {
    open: (cfg) =>
      ofKind(cfg)
        ? {
            kind,
            label: label(cfg),
            read: (options) => connector.read(cfg, options),
          }
        : null,
  };
}

/** The source kinds: every kind of schemas/sources.ts has its entry (the type checker holds them equal). */
export const SOURCE_KINDS = {
  sql: sourceEntry('sql', sqlConnector, (c) => `${c.dialect}:${c.table}`),
  http: sourceEntry('http', httpConnector, (c) => {
    const u = new URL(c.url);
    return `http:${u.host}${u.pathname}`;
  }),
} satisfies Record<SourceKind, SourceEntry>;

/** The configured source `cfg` with the connector of its kind. */
export function openSource(cfg: SourceConfig): OpenedSource {
  const kind = sourceKindOf(cfg);
  const opened = kind ? SOURCE_KINDS[kind].open(cfg) : null;
  if (!opened) {
    throw configError(
      `a source names no kind this build reads; expected kind: ${Object.keys(SOURCE_KINDS).join(', ')}`,
    );
  }
  return opened;
}
