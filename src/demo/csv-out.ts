/**
 * One delimited file of the demo county, written as its rows are produced (a stream: large demo counties do
 * not sit in memory), in the encoding, line ending and delimiter its department's system uses, counting what
 * it writes as a reader will meet it (file-shape.ts).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import iconv from 'iconv-lite';
import { csvLine } from '../delivery/csv.ts';
import type { FileShape, Skipped } from './file-shape.ts';

type Cell = string | number | null;

export class CsvOut {
  private readonly out: WriteStream;
  private records = 0;
  private readonly skipped: Skipped = { totals: 0, blank: 0, footer: 0 };
  constructor(
    readonly path: string,
    private readonly encoding: 'gb18030' | 'utf8' | 'utf8-bom',
    private readonly eol: '\r\n' | '\n' = '\r\n',
    private readonly delimiter = ',',
  ) {
    this.out = createWriteStream(path);
    if (encoding === 'utf8-bom') this.out.write(Buffer.from([0xef, 0xbb, 0xbf]));
  }
  /** A record. */
  row(cells: readonly Cell[]): void {
    this.records++;
    this.write(cells);
  }
  /** A line that is no record: a title line, the header. */
  line(cells: readonly Cell[]): void {
    this.write(cells);
  }
  /** A line below the table a reader skips: a totals line, a blank line, a footer line. */
  skip(kind: keyof Skipped, cells: readonly Cell[]): void {
    this.skipped[kind]++;
    this.write(cells);
  }
  get shape(): FileShape {
    return { records: this.records, skipped: { ...this.skipped } };
  }
  private write(cells: readonly Cell[]): void {
    const line = csvLine(cells, this.delimiter).replace(/\r\n$/, this.eol);
    this.out.write(this.encoding === 'gb18030' ? iconv.encode(line, 'gb18030') : line);
  }
  close(): Promise<string> {
    return new Promise((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve(this.path))),
    );
  }
}

/** Closes each file and names it with its shape, by feed. */
export async function closeAll<F extends string>(
  outs: readonly (readonly [F, CsvOut])[],
): Promise<Partial<Record<F, { path: string } & FileShape>>> {
  const files: Partial<Record<F, { path: string } & FileShape>> = {};
  for (const [feed, out] of outs) files[feed] = { path: await out.close(), ...out.shape };
  return files;
}
