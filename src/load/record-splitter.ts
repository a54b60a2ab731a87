/**
 * Splits a delimited file's bytes into records where PostgreSQL's CSV parser splits them: at a newline outside
 * quotes, every quote character toggling. The recognizer's first pass splits with this (and records where each
 * record lies, for the second).
 *
 * Only well-formed quoting is taken: a quote that opens a field, and a closing one followed by the delimiter, the
 * line's end or a second quote. PostgreSQL's parser takes any other quote as one that opens or closes quoting and
 * drops it — `5"x7" photo` becomes `5x7 photo`, two characters lost without a word — where Excel, LibreOffice
 * and the record reader (connectors/csv, csv-parse with relax_quotes) keep a quote inside an unquoted field as
 * text. Such a file is given up (StrayQuoteError, a data exception as PostgreSQL's own refusals are), and the
 * record reader reads it, whichever path a file takes and whatever else it holds.
 */

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/**
 * Complete records: record i is buf[starts[i], ends[i]), its line ending left out; `at` is where buf[0] lies in
 * the bytes pushed (the header line included).
 */
export interface RecordBatch {
  buf: Buffer;
  starts: number[];
  ends: number[];
  at: number;
}

/**
 * The longest record the bulk path takes (the record reader's own limit, csv-parse's max_record_size, is the
 * same by default): a runaway quote or a 10 MB field would otherwise be carried whole in memory and staged.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * A record longer than the limit: the bulk path gives the file up (as PostgreSQL's own data exceptions make it,
 * SQLSTATE class 22) and the record reader, which reports it with its row number, reads it instead.
 */
export class RecordTooLongError extends Error {
  readonly code = '22001'; // string_data_right_truncation
  constructor(limit: number) {
    super(`a record longer than ${limit} bytes`);
  }
}

/**
 * A quote where a well-formed CSV field has none (inside an unquoted field, or text after a closing quote): the
 * bulk path gives the file up (SQLSTATE class 22, as PostgreSQL's own data exceptions make it) for the record
 * reader, which keeps such a quote as text.
 */
export class StrayQuoteError extends Error {
  readonly code = '22P04'; // bad_copy_file_format
  constructor() {
    super('a quote inside a field that is not quoted, or text after a closing quote');
  }
}

export class RecordSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private readonly delimiter: number;
  private readonly maxRecordBytes: number;
  constructor(o: { delimiter?: string; maxRecordBytes?: number } = {}) {
    this.delimiter = (o.delimiter ?? ',').charCodeAt(0);
    this.maxRecordBytes = o.maxRecordBytes ?? MAX_RECORD_BYTES;
  }
  private inQuote = false;
  /** The byte before the chunk pushed next (a newline before the file's first). */
  private lastByte = NL;
  /** The last chunk ended in a closing quote: the next one's first byte is checked after it. */
  private closedAtEnd = false;
  /** The first record is the header: passed over. */
  private header = true;
  /** Bytes pushed so far. */
  private read = 0;

  /**
   * The records a chunk completes: the one the last chunk ended in (a batch of its own, copied together), then
   * those wholly in the chunk (a batch over the chunk itself, not a copy of it). The part of a record the chunk
   * ends in is kept for the next one.
   */
  push(chunk: Buffer): RecordBatch[] {
    const out: RecordBatch[] = [];
    const at = this.read;
    this.read += chunk.length;
    const batch: RecordBatch = { buf: chunk, starts: [], ends: [], at };
    /** The record the last chunk ended in is not complete yet. */
    let carried = this.carry.length > 0;
    let start = 0;
    let scan = 0;
    if (this.closedAtEnd && chunk.length) {
      this.closedAtEnd = false;
      if (!this.endsQuote(chunk[0]!)) throw new StrayQuoteError();
    }
    let nextQuote = chunk.indexOf(QUOTE);
    if (nextQuote < 0) nextQuote = chunk.length;
    for (;;) {
      const nl = chunk.indexOf(NL, scan);
      const end = nl < 0 ? chunk.length : nl;
      while (nextQuote < end) {
        const q = nextQuote;
        if (!this.inQuote) {
          // Opening: at a field's start (after the delimiter or a newline), or right after a closing quote (the
          // second quote of an escaped pair inside a quoted field).
          const before = q > 0 ? chunk[q - 1]! : this.lastByte;
          if (before !== this.delimiter && before !== NL && before !== QUOTE) throw new StrayQuoteError();
        } else if (q + 1 < chunk.length) {
          if (!this.endsQuote(chunk[q + 1]!)) throw new StrayQuoteError();
        } else this.closedAtEnd = true;
        this.inQuote = !this.inQuote;
        nextQuote = chunk.indexOf(QUOTE, q + 1);
        if (nextQuote < 0) nextQuote = chunk.length;
      }
      if (nl < 0) break;
      scan = nl + 1;
      if (this.inQuote) continue; // a newline inside a quoted field
      if (carried) {
        const buf = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
        if (buf.length > this.maxRecordBytes) throw new RecordTooLongError(this.maxRecordBytes);
        const head: RecordBatch = { buf, starts: [], ends: [], at: at - this.carry.length };
        this.take(head, 0, buf.length);
        if (head.starts.length) out.push(head);
        carried = false;
      } else {
        if (nl - start > this.maxRecordBytes) throw new RecordTooLongError(this.maxRecordBytes);
        this.take(batch, start, nl);
      }
      start = nl + 1;
    }
    if (chunk.length) this.lastByte = chunk[chunk.length - 1]!;
    // Copies: a subarray would keep the whole chunk alive (and the reader may reuse it).
    this.carry = carried ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk.subarray(start));
    if (this.carry.length > this.maxRecordBytes) throw new RecordTooLongError(this.maxRecordBytes);
    if (batch.starts.length) out.push(batch);
    return out;
  }

  /** What may follow a closing quote: the delimiter, the line's end, or the quote that makes an escaped pair. */
  private endsQuote(next: number): boolean {
    return next === this.delimiter || next === NL || next === CR || next === QUOTE;
  }

  /** The last record, when the file does not end with a newline. */
  end(): RecordBatch[] {
    const batch: RecordBatch = { buf: this.carry, starts: [], ends: [], at: this.read - this.carry.length };
    if (this.carry.length) this.take(batch, 0, this.carry.length);
    this.carry = Buffer.alloc(0);
    return batch.starts.length ? [batch] : [];
  }

  private take(batch: RecordBatch, from: number, to: number): void {
    const end = to > from && batch.buf[to - 1] === CR ? to - 1 : to;
    if (this.header) {
      this.header = false;
      return;
    }
    batch.starts.push(from);
    batch.ends.push(end);
  }
}
