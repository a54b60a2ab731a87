/**
 * Decides how to decode a department's CSV from its first bytes: BOM, else strict UTF-8 on a sample, else
 * GB18030 (the superset of GBK/GB2312 that Excel on Chinese Windows writes). A sample that decodes as neither
 * is an error naming the byte offset, never silent mojibake.
 */
import { open } from 'node:fs/promises';
import { Gb18030Decoder } from '../gb18030.ts';

export type CsvEncoding = 'UTF8' | 'GB18030';

export interface Sniffed {
  encoding: CsvEncoding;
  /** Bytes to skip at the start (BOM). */
  bomLength: number;
  delimiter: string;
  /** The first physical line, decoded (header candidate). */
  firstLine: string;
  /** Set when the sample cannot be decoded: where, and why. */
  decodeError?: { offset: number; message: string };
}

const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [',', '\t', ';', '|'] as const;

/** Byte offset of the first invalid UTF-8 sequence, or -1. A sequence cut by the sample's end is not invalid. */
export function firstInvalidUtf8(buf: Uint8Array, complete: boolean): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let need = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined) return complete ? i : -1;
      if ((c & 0xc0) !== 0x80) return i;
      // The second byte's narrower ranges: no overlong forms, no surrogates, nothing above U+10FFFF (what a
      // decoder would turn into U+FFFD is invalid here too).
      if (k === 1) {
        if (b === 0xe0 && c < 0xa0) return i;
        if (b === 0xed && c > 0x9f) return i;
        if (b === 0xf0 && c < 0x90) return i;
        if (b === 0xf4 && c > 0x8f) return i;
      }
    }
    i += need + 1;
  }
  return -1;
}

/**
 * How many bytes from `at` (where firstInvalidUtf8 stopped) make one undecodable stretch: the "maximal subpart"
 * of Unicode's U+FFFD substitution practice, which TextDecoder and the GB18030 decoder follow — a lead byte with
 * the continuation bytes that could still have completed it (E5 A0 cut from 堃: one, not two). At least 1.
 */
export function invalidSpan(buf: Uint8Array, at: number): number {
  const b = buf[at]!;
  const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
  let k = 1;
  for (; k <= need; k++) {
    const c = buf[at + k];
    if (c === undefined || (c & 0xc0) !== 0x80) break;
    // The second byte's narrower ranges, as firstInvalidUtf8 reads them.
    if (
      k === 1 &&
      ((b === 0xe0 && c < 0xa0) ||
        (b === 0xed && c > 0x9f) ||
        (b === 0xf0 && c < 0x90) ||
        (b === 0xf4 && c > 0x8f))
    )
      break;
  }
  return k;
}

/**
 * UTF-8, or GB18030? Chinese text in GB18030 almost never forms valid UTF-8 sequences (its lead bytes are not
 * followed by continuation bytes), while a UTF-8 file with a damaged byte or two is still overwhelmingly valid
 * multi-byte sequences: so a sample is UTF-8 when it is valid, or when its valid multi-byte sequences outnumber
 * its invalid bytes twenty to one. (Taking a damaged UTF-8 file for GB18030 would turn every Chinese character
 * into silent mojibake; this way only the damaged rows are quarantined.)
 */
export function looksUtf8(buf: Uint8Array, complete: boolean): boolean {
  let invalid = 0;
  let multibyte = 0;
  let i = 0;
  while (i < buf.length) {
    const bad = firstInvalidUtf8(buf.subarray(i), complete);
    const end = bad < 0 ? buf.length : i + bad;
    for (let k = i; k < end; k++) if ((buf[k]! & 0xc0) === 0xc0) multibyte++;
    if (bad < 0) break;
    invalid++;
    i = end + 1;
  }
  return invalid === 0 || (multibyte >= 8 && invalid * 20 <= multibyte);
}

/** Counts delimiter candidates outside double quotes in a line; the most frequent wins, comma on ties. */
export function detectDelimiter(line: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

export async function sniffCsv(path: string): Promise<Sniffed> {
  const fh = await open(path, 'r');
  let sample: Buffer;
  let complete: boolean;
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SAMPLE_BYTES, 0);
    sample = buf.subarray(0, bytesRead);
    complete = bytesRead < SAMPLE_BYTES;
  } finally {
    await fh.close();
  }
  let encoding: CsvEncoding;
  let bomLength = 0;
  let decodeError: Sniffed['decodeError'];
  let gbText = '';
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) {
    encoding = 'UTF8';
    bomLength = 3;
  } else if ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff)) {
    encoding = 'UTF8';
    decodeError = { offset: 0, message: 'UTF-16 text; save the file as UTF-8 or GB18030 (CSV) instead' };
  } else if (looksUtf8(sample, complete)) {
    encoding = 'UTF8';
  } else {
    encoding = 'GB18030';
    // The project's one GB18030 decoder (connectors/gb18030.ts), as the reader will decode the file: it counts
    // the undecodable sequences and where the first is. A few are damaged rows (quarantined as text_damaged by
    // the reader); a sample full of them is another encoding altogether, refused before anything is read. A
    // character cut by the end of a sample that is not the whole file is not counted.
    const gb = new Gb18030Decoder();
    gbText = gb.write(sample) + (complete ? gb.end() : '');
    if (gb.errors > 0 && gb.errors * 50 > gbText.length) {
      decodeError = { offset: gb.firstError!.offset, message: 'neither valid UTF-8 nor GB18030' };
    }
  }
  const decoded = encoding === 'UTF8' ? sample.subarray(bomLength).toString('utf8') : gbText;
  const nl = decoded.search(/\r?\n/);
  const firstLine = nl >= 0 ? decoded.slice(0, nl) : decoded;
  return { encoding, bomLength, delimiter: detectDelimiter(firstLine), firstLine, decodeError };
}
