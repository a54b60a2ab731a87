/**
 * Splits a delimited file's bytes into records where PostgreSQL's CSV parser splits them: at a newline outside
 * quotes, every quote character toggling (so a quote inside an unquoted field behaves as it does there). The
 * recognizer's first pass splits with this (and records where each record lies, for the second).
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

export class RecordSplitter {
  private carry: Buffer = Buffer.alloc(0);
  constructor(private readonly maxRecordBytes = MAX_RECORD_BYTES) {}
  private inQuote = false;
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
    let nextQuote = chunk.indexOf(QUOTE);
    if (nextQuote < 0) nextQuote = chunk.length;
    for (;;) {
      const nl = chunk.indexOf(NL, scan);
      const end = nl < 0 ? chunk.length : nl;
      while (nextQuote < end) {
        this.inQuote = !this.inQuote;
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
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
    // Copies: a subarray would keep the whole chunk alive (and the reader may reuse it).
    this.carry = carried ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk.subarray(start));
    if (this.carry.length > this.maxRecordBytes) throw new RecordTooLongError(this.maxRecordBytes);
    if (batch.starts.length) out.push(batch);
    return out;
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
