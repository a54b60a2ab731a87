/**
 * CSV files as departments export them: UTF-8 (with or without BOM) or GB18030, comma/tab/semicolon,
 * CRLF or LF, quoted fields with newlines, title lines above the header, blank, totals and footer rows.
 *
 * Two ways to read: `bulk` hands the file's bytes to a bulk parser (PostgreSQL COPY) when the header is on the
 * first line — as UTF-8 always, GB18030 decoded on the way (connectors/gb18030.ts); `read` parses with
 * csv-parse, tolerating and reporting malformed rows. The loader tries bulk first and falls back to read when
 * the bulk parser rejects the file. Both decode GB18030 with the same decoder: the same bytes, the same text.
 */

import { createReadStream } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { parse } from 'csv-parse';
import { z } from 'zod';
import { dataError } from '../../core/errors.ts';
import type {
  BulkSource,
  CheckResult,
  Connector,
  ReadMessage,
  ReadOptions,
  StreamInfo,
} from '../connector.ts';
import { Gb18030Decoder, gb18030ToUtf8 } from '../gb18030.ts';
import { bestCandidate, headerFinder, skipReason, titlesAbove } from '../row-shape.ts';
import { REPLACEMENT, recordOf } from '../text-damage.ts';
import { type CsvEncoding, firstInvalidUtf8, invalidSpan, type Sniffed, sniffCsv } from './sniff.ts';

export const CsvConfigSchema = z.object({
  path: z.string().min(1),
  /** Override detection when a department's file fools it. */
  encoding: z.enum(['UTF8', 'GB18030']).optional(),
  delimiter: z.string().length(1).optional(),
  /** Guard against runaway quoting: no record may exceed this many bytes. */
  max_record_bytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});
export type CsvConfig = z.input<typeof CsvConfigSchema>;

/**
 * Stands in the decoded text for bytes that could not be decoded. U+FFFF is a noncharacter (never text), so it
 * cannot be confused with anything a department wrote — unlike U+FFFD, which a file may really hold. A record
 * with it is quarantined as text_damaged; the file's other rows load.
 */
export const UNDECODABLE = '\uFFFF';

/** Decodes to text chunk by chunk (characters split across chunks carried over), marking undecodable bytes. */
class MarkingDecoder extends Transform {
  private carry: Buffer = Buffer.alloc(0);
  /** GB18030: the project's one decoder (connectors/gb18030.ts), writing UNDECODABLE exactly where bytes are. */
  private readonly gb = new Gb18030Decoder(UNDECODABLE);
  constructor(private readonly encoding: CsvEncoding) {
    super({ decodeStrings: true, readableObjectMode: false, encoding: 'utf8' });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.encoding === 'UTF8') {
      const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
      let text = '';
      let start = 0;
      for (
        let bad = firstInvalidUtf8(buf, false);
        bad >= 0;
        bad = firstInvalidUtf8(buf.subarray(start), false)
      ) {
        text += buf.toString('utf8', start, start + bad) + UNDECODABLE;
        start += bad + invalidSpan(buf, start + bad);
      }
      // Keep an incomplete trailing sequence for the next chunk.
      let cut = buf.length;
      for (let k = 1; k <= 3 && k <= buf.length - start; k++) {
        const b = buf[buf.length - k]!;
        if ((b & 0xc0) === 0xc0) {
          const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
          if (k < need) cut = buf.length - k;
          break;
        }
        if ((b & 0x80) === 0) break;
      }
      this.carry = Buffer.from(buf.subarray(cut));
      done(null, text + buf.toString('utf8', start, cut));
      return;
    }
    // nothing when the chunk holds no byte a character can end at (it waits for the next)
    done(null, this.gb.write(chunk) || undefined);
  }
  override _flush(done: TransformCallback): void {
    // A file that ends inside a character: that character is undecodable.
    const rest = this.encoding === 'GB18030' ? this.gb.end() : this.carry.length ? UNDECODABLE : '';
    done(null, rest || undefined);
  }
}

async function sniffWith(cfg: CsvConfig): Promise<Sniffed> {
  try {
    await access(cfg.path);
  } catch {
    throw dataError(`input file not found: ${cfg.path}`);
  }
  const s = await sniffCsv(cfg.path);
  const file = basename(cfg.path);
  if (s.decodeError)
    throw dataError(`${file}: ${s.decodeError.message} (byte offset ${s.decodeError.offset})`);
  return { ...s, encoding: cfg.encoding ?? s.encoding, delimiter: cfg.delimiter ?? s.delimiter };
}

function cellsOf(record: string[]): string[] {
  return record.map((c) => c.trim());
}

async function* readCsv(cfg: CsvConfig, options: ReadOptions = {}): AsyncGenerator<ReadMessage> {
  const config = CsvConfigSchema.parse(cfg);
  const s = await sniffWith(config);
  const source = basename(config.path);
  const parser = createReadStream(config.path, { start: s.bomLength })
    .pipe(new MarkingDecoder(s.encoding))
    .pipe(
      parse({
        delimiter: s.delimiter,
        relax_column_count: true,
        // A quote inside an unquoted field (37°36'37.8"N, 12" pipe) is data, as Excel and LibreOffice read it;
        // quoted fields stay strict. PostgreSQL's COPY would drop such quotes: the bulk path gives every file
        // holding one to this reader (src/load/record-splitter.ts).
        relax_quotes: true,
        skip_empty_lines: false,
        max_record_size: config.max_record_bytes,
        info: true,
      }),
    );
  let header: string[] | null = null;
  // Title lines may stand above the header; when none of the first lines is the header, the likeliest one is
  // reported as it so that the loader can say which required columns it lacks.
  const find = headerFinder(options.isHeader ?? (() => true));
  let row = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      row++;
      const cells = cellsOf(item.record);
      const position = { source, row };
      const empty = cells.every((c) => c === '');
      if (!header) {
        if (empty) continue;
        const found = find(
          cells.map((c) => c.trim()),
          row,
        );
        if (found === 'more') continue;
        if (found === 'give-up') {
          yield bestCandidate(find.candidates, { source });
          return;
        }
        header = found.cells;
        const titles = titlesAbove(find.candidates, row, { source });
        yield { type: 'header', columns: header, position, ...(titles.length ? { titles } : {}) };
        continue;
      }
      // Before the width check: a footer line is often shorter than the header (制表人：张三 alone).
      const skip = skipReason(cells);
      if (skip) {
        yield { type: 'skipped', reason: skip, position };
        continue;
      }
      // Excel sometimes writes trailing empty cells past the header; they carry nothing.
      let width = cells.length;
      while (width > header.length && cells[width - 1] === '') width--;
      if (width !== header.length) {
        yield {
          type: 'problem',
          problem: 'ragged_row',
          detail: `expected ${header.length} columns, found ${width}`,
          raw: item.record.join(s.delimiter).replaceAll(UNDECODABLE, REPLACEMENT),
          position,
        };
        continue;
      }
      const record = item.record.slice(0, width);
      const damaged = record.flatMap((c, i) => (c.includes(UNDECODABLE) ? [i] : []));
      const values = record.map((c) => (c.trim() === '' ? null : c.replaceAll(UNDECODABLE, REPLACEMENT)));
      yield recordOf(values, position, damaged);
    }
  } catch (err) {
    if (err instanceof Error && 'kind' in err) throw err;
    throw dataError(`${source}: row ${row + 1}: ${(err as Error).message}`, err);
  }
  if (!header && find.candidates.length) {
    yield bestCandidate(find.candidates, { source });
  } else if (!header) throw dataError(`${source}: the file is empty (no header row)`);
}

export const csvConnector: Connector<CsvConfig> = {
  kind: 'csv',
  async check(cfg): Promise<CheckResult> {
    try {
      const s = await sniffWith(cfg);
      return {
        ok: true,
        message: `${basename(cfg.path)}: ${s.encoding}, delimiter ${JSON.stringify(s.delimiter)}`,
      };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  },
  async list(cfg): Promise<StreamInfo[]> {
    const s = await sniffWith(cfg);
    const [first] = await parseLine(s.firstLine, s.delimiter);
    return [{ name: basename(cfg.path), columns: first ?? [] }];
  },
  read: readCsv,
  async bulk(cfg, options = {}): Promise<BulkSource | null> {
    const config = CsvConfigSchema.parse(cfg);
    const s = await sniffWith(config);
    const [columns] = await parseLine(s.firstLine, s.delimiter);
    // The bulk parser skips exactly one header line; a title line above it needs the tolerant path.
    if (!columns || (options.isHeader && !options.isHeader(columns.map((c) => c.trim())))) return null;
    if ((await stat(config.path)).size === 0) return null;
    // Large reads: the loader works per chunk (record splitting, hashing in batches).
    const bytes = () => createReadStream(config.path, { start: s.bomLength, highWaterMark: CHUNK });
    // GB18030 is decoded here, by the same decoder as the records path, and handed on as UTF-8: PostgreSQL's
    // own GB18030 conversion (GB18030-2000's mapping) never sees the file. Undecodable bytes fail the stream as
    // COPY would (SQLSTATE 22021), and the loader reads the file row by row, quarantining the damaged cells.
    return {
      encoding: 'UTF8',
      delimiter: s.delimiter,
      columns: columns.map((c) => c.trim()),
      open:
        s.encoding === 'GB18030'
          ? () => transcoded(bytes()) as AsyncIterable<Buffer>
          : () => fileChunks(config.path, s.bomLength),
    };
  },
};

/** Bytes per chunk of a bulk source. */
const CHUNK = 2 ** 20;

/**
 * A file's bytes from `start`, in chunks read into two buffers by turns (the next read under way while the
 * caller has the current chunk). A read stream allocates every chunk anew, and on the 2-core VM the pages of
 * 263 MB of fresh buffers cost more than reading them: 0.42 s and 21k page faults against 0.19 s and 3k.
 */
async function* fileChunks(path: string, start: number): AsyncGenerator<Buffer> {
  const file = await open(path);
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let turn = 0;
  let at = start;
  const read = (buf: Buffer) => file.read(buf, 0, CHUNK, at);
  let next = read(buffers[0]!);
  try {
    for (;;) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) return;
      at += bytesRead;
      turn ^= 1;
      next = read(buffers[turn]!);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // A caller that stops early leaves a read under way: it ends before the file is closed.
    await next.catch(() => undefined);
    await file.close();
  }
}

/** The file's GB18030 bytes as UTF-8; a read error fails the stream, and closing it closes the file. */
function transcoded(file: NodeJS.ReadableStream): NodeJS.ReadableStream {
  const utf8 = gb18030ToUtf8();
  pipeline(file, utf8, () => {}); // an error reaches the consumer through `utf8`, which it destroys
  return utf8;
}

function parseLine(line: string, delimiter: string): Promise<string[][]> {
  return new Promise((resolve) => {
    parse(line, { delimiter, relax_column_count: true, relax_quotes: true }, (err, rows: string[][]) =>
      resolve(err ? [] : rows),
    );
  });
}
