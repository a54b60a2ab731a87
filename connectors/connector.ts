/**
 * The connector protocol (ARCHITECTURE principle 1, after Airbyte/Singer): a connector knows HOW to read a
 * transport (CSV file, workbook, database, HTTP API) and nothing of departments or of PostgreSQL. What it reads
 * is its config: a file kind's is the file's path; a source kind's is its schema in schemas/sources.ts, the one
 * the county's config is checked with. connectors/registry.ts says which connector reads what.
 *
 *   check    → can the source be reached and opened
 *   list     → the streams it can read (sheets of a workbook, tables of a database, the file itself)
 *   read     → a stream of messages: one header, then records with their source position, skipped rows,
 *              row-level problems, and for incremental sources a final checkpoint.
 *
 * Example (CSV):
 * ```ts
 * for await (const m of csvConnector.read({ path: 'roster.csv' }, { isHeader })) {
 *   if (m.type === 'record') console.log(m.position.row, m.cells);
 * }
 * ```
 */
import type { RowProblem } from '../schemas/vocab.ts';

/** Where a record came from, as an operator would find it: the row number a spreadsheet shows. */
export interface SourcePosition {
  /** File name (base name) or a source label such as `mysql:table`. */
  source: string;
  sheet?: string;
  /** 1-based row as shown by a spreadsheet (CSV header = row 1; xlsx rows count title rows). */
  row: number;
}

/** A row above a header: its non-empty cells' text, where it stands. */
export interface TitleRow {
  cells: readonly string[];
  position: SourcePosition;
}

export type ReadMessage =
  /**
   * `titles`: the rows above the header that are not part of it (a title line, 导出日期：2026年11月1日 …), as their
   * non-empty cells with their position — for the loader to find the date the file states (src/normalize/data-date.ts).
   * Optional: a connector whose source has no title rows leaves it out.
   */
  | {
      type: 'header';
      columns: readonly string[];
      position: SourcePosition;
      titles?: readonly TitleRow[];
    }
  /**
   * `damaged`: the cells whose text could not be decoded from the source's bytes (shown with U+FFFD where the
   * bytes were). The loader quarantines the row as text_damaged for those columns — never loads the damaged
   * text — while its other cells still identify the record (a snapshot keeps it current, as for any bad value).
   */
  | {
      type: 'record';
      cells: readonly (string | null)[];
      position: SourcePosition;
      damaged?: readonly number[];
    }
  /**
   * A row with no data (blank), a totals row (合计/总计) or footer lines under the table (制表人：…, 备注：…; see
   * footerKind in connectors/row-shape.ts): counted, not loaded.
   */
  | { type: 'skipped'; reason: 'blank' | 'totals' | 'footer'; position: SourcePosition }
  /** A row that cannot be turned into cells (wrong column count, …): quarantined with this reason, never loaded. */
  | {
      type: 'problem';
      problem: RowProblem;
      detail: string;
      raw: string;
      position: SourcePosition;
      field?: string;
    }
  /**
   * Opaque resume state for incremental sources; written in the same transaction as the rows. `read`: how the
   * read was bounded (full, or from which value), kept in the run's details so a reconciliation shows.
   */
  | { type: 'checkpoint'; cursor: string; read?: Record<string, string | number> };

export interface ReadOptions {
  /**
   * Tells a header row from a title row (xlsx title rows above the header; CSV with a title line). The loader
   * passes one built from the feed's header aliases, so the connector stays ignorant of feeds.
   */
  isHeader?: (cells: readonly string[]) => boolean;
  /** Sheet (by name or 0-based index) for workbooks. */
  sheet?: string | number;
  /** Saved checkpoint for incremental reads. */
  cursor?: string;
  signal?: AbortSignal;
}

export interface CheckResult {
  ok: boolean;
  message: string;
}

export interface StreamInfo {
  name: string;
  /** Header cells if the connector could read them cheaply. */
  columns?: readonly string[];
  rows?: number;
  /** A workbook sheet the user hid: not read unless named. */
  hidden?: boolean;
}

/**
 * Bytes a loader may hand directly to a bulk parser (PostgreSQL COPY … FORMAT csv) instead of reading
 * records one by one. Offered only by connectors whose transport is a delimited file. If the bulk parser
 * rejects the bytes, the loader falls back to `read`, which tolerates and reports malformed rows.
 */
export interface BulkSource {
  /** PostgreSQL encoding name of the bytes: 'UTF8' or 'GB18030'. */
  encoding: 'UTF8' | 'GB18030';
  delimiter: string;
  /** Header cells (already decoded) and the number of physical lines before the first data record. */
  columns: readonly string[];
  /**
   * The file's bytes after the BOM, header line included (the bulk parser skips it). A chunk may be overwritten
   * once the next one is asked for (the reader reuses its buffers): copy what must outlive it.
   */
  open(): AsyncIterable<Buffer>;
}

export interface Connector<C> {
  kind: string;
  check(config: C): Promise<CheckResult>;
  list(config: C): Promise<StreamInfo[]>;
  read(config: C, options?: ReadOptions): AsyncIterable<ReadMessage>;
  /** Optional fast path, see BulkSource. */
  bulk?(config: C, options?: ReadOptions): Promise<BulkSource | null>;
}
