/**
 * Splits a delimited file's bytes into records where PostgreSQL's CSV parser splits them: at a newline outside
 * quotes, every quote character toggling (so a quote inside an unquoted field behaves as it does there). The
 * recognizer's first pass splits with this (and records where each record lies, for the second).
 */

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** Complete records of a chunk: record i is buf[starts[i], ends[i]), its line ending left out. */
export interface RecordBatch {
  buf: Buffer;
  starts: number[];
  ends: number[];
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

  /** Bytes of the record the last chunk ended in, which the next batch's bytes start with. */
  get carried(): number {
    return this.carry.length;
  }

  /** The records a chunk completes (the part of a record it ends in is kept for the next chunk). */
  push(chunk: Buffer): RecordBatch {
    // The part of a record the last chunk ended in comes first; its quotes were counted then.
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const batch: RecordBatch = { buf, starts: [], ends: [] };
    let start = 0;
    let scan = this.carry.length;
    let nextQuote = buf.indexOf(QUOTE, scan);
    if (nextQuote < 0) nextQuote = buf.length;
    for (;;) {
      const nl = buf.indexOf(NL, scan);
      const end = nl < 0 ? buf.length : nl;
      while (nextQuote < end) {
        this.inQuote = !this.inQuote;
        nextQuote = buf.indexOf(QUOTE, nextQuote + 1);
        if (nextQuote < 0) nextQuote = buf.length;
      }
      if (nl < 0) break;
      scan = nl + 1;
      if (this.inQuote) continue; // a newline inside a quoted field
      if (nl - start > this.maxRecordBytes) throw new RecordTooLongError(this.maxRecordBytes);
      this.take(batch, start, nl);
      start = nl + 1;
    }
    if (buf.length - start > this.maxRecordBytes) throw new RecordTooLongError(this.maxRecordBytes);
    // A copy: a subarray would keep the whole chunk alive.
    this.carry = Buffer.from(buf.subarray(start));
    return batch;
  }

  /** The last record, when the file does not end with a newline. */
  end(): RecordBatch {
    const batch: RecordBatch = { buf: this.carry, starts: [], ends: [] };
    if (this.carry.length) this.take(batch, 0, this.carry.length);
    this.carry = Buffer.alloc(0);
    return batch;
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
