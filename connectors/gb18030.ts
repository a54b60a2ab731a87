/**
 * The one GB18030 decoder: every path that turns a department's GB18030 (GBK, GB2312) bytes into text goes
 * through this module — the CSV reader (records path), its sniffer, the bulk path (the bytes are transcoded to
 * UTF-8 here before PostgreSQL's COPY sees them), and the HTML ".xls" reader — so the same bytes always give
 * the same text, whichever way a file is read.
 *
 * Which decoder: the Encoding Standard's (WHATWG) gb18030, as Node's built-in TextDecoder implements it (ICU).
 * - It is the mapping of GB18030-2022: the 18 two-byte codes that GB18030-2005 sent to the Private Use Area
 *   because Unicode lacked the characters then (A6D9–A6DF, A6EC, A6ED, A6F3 → the vertical forms U+FE10–FE19;
 *   FE59, FE61, FE66, FE67, FE6D, FE7E, FE90, FEA0 → U+9FB4–9FBB) now decode to those characters, as glibc's
 *   `iconv -f GB18030` does. And A8BC is ḿ U+1E3F, A3A0 the ideographic space U+3000 (GB18030-2005).
 * - It is what every browser decodes, and it is maintained with the platform (Node, ICU), not a table we copy.
 * - The alternatives each differ from it somewhere: PostgreSQL's conversion is GB18030-2000's (20 two-byte codes
 *   differ: A8BC → U+E7C7, A3A0 → U+E5E5 and the 18 above into the PUA), iconv-lite is GB18030-2005's (the 18).
 *   Neither is used any more for GB18030 text.
 * Measured (Node 20.20, ICU 78): all 23,940 two-byte codes decode (none is unmapped); four-byte codes decode
 * exactly when their pointer is ≤ 39419 (BMP ranges) or 189000–1237575 (U+10000–U+10FFFF), checked against all
 * 1,587,600 well-formed four-byte sequences; 8135F437 is U+E7C7 (where ḿ used to be).
 *
 * Undecodable bytes are never silently replaced: the decoder runs in fatal mode, and only when it refuses a
 * stretch of bytes is that stretch walked byte by byte (`walk`, the Encoding Standard's gb18030 decoder state
 * machine) to find exactly which bytes are undecodable; each error becomes `marker` in the text (U+FFFD unless
 * the caller chooses another, e.g. the CSV reader's U+FFFF), at the same places and as many times as a
 * replacing TextDecoder would write U+FFFD. A U+FFFD the bytes really hold (84 31 A4 37) decodes as text and is
 * never taken for damage.
 *
 * Speed (a 50 MB GB18030 roster CSV in 1 MiB chunks, best of 5, on 2 cores shared with other work, so ranges over
 * runs): this decoder 42–83 MB/s, a bare streaming TextDecoder 53–98 MB/s, iconv-lite 24–48 MB/s; decoding and
 * re-encoding as UTF-8 for COPY 33–41 MB/s.
 *
 * Streaming: text is decoded up to the last byte in 0x00–0x2F or 0x3A–0x3F of what has arrived (a comma, a
 * newline, a quote, a space, …), which never belongs to a multi-byte character and after which the decoder's
 * state is always the initial one; the bytes after it wait for the next chunk. So a character split across
 * chunks is decoded whole, and the result is the same as decoding the whole file at once, whatever the chunks.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** What the bulk path's COPY would raise for bytes it cannot decode (SQLSTATE class 22: the loader falls back). */
export class UndecodableError extends Error {
  readonly code = '22021';
  constructor(
    readonly offset: number,
    readonly bytes: Uint8Array,
  ) {
    super(
      `invalid byte sequence for encoding "GB18030": ${[...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ')} (byte offset ${offset})`,
    );
  }
}

const fatal = new TextDecoder('gb18030', { fatal: true });

/** A byte that is never part of a multi-byte GB18030 character and is decoded in the initial state. */
const isSync = (b: number) => b < 0x30 || (b > 0x39 && b < 0x40);

/** Above this much undecoded text without a sync byte, the byte-by-byte walk finds where to cut. */
const MAX_CARRY = 1 << 20;

/** Whether a well-formed four-byte sequence has a code point (the Encoding Standard's index gb18030 ranges). */
function fourByteMapped(a: number, b: number, c: number, d: number): boolean {
  const p = ((a - 0x81) * 10 + (b - 0x30)) * 1260 + (c - 0x81) * 10 + (d - 0x30);
  return !((p > 39419 && p < 189000) || p > 1237575);
}

interface Walked {
  /** [start, end) of each error, in order. */
  errors: [number, number][];
  /** Where an unfinished character begins (not final), else buf.length. */
  end: number;
}

/**
 * The Encoding Standard's gb18030 decoder, walking `buf` from `from` without producing text: where each error is
 * and, unless `final`, where an unfinished character at the end begins. (Reprocessed bytes — a lead byte
 * followed by an ASCII byte, a broken four-byte sequence — are handled as the standard prepends them.)
 */
export function walk(buf: Uint8Array, from = 0, final = true): Walked {
  const errors: [number, number][] = [];
  const n = buf.length;
  let i = from;
  while (i < n) {
    const a = buf[i]!;
    if (a <= 0x80) {
      i++;
      continue;
    }
    if (a === 0xff) {
      errors.push([i, i + 1]);
      i++;
      continue;
    }
    // a lead byte
    const b = buf[i + 1];
    if (b === undefined) break;
    if (b >= 0x30 && b <= 0x39) {
      const c = buf[i + 2];
      if (c === undefined) break;
      if (c < 0x81 || c > 0xfe) {
        errors.push([i, i + 1]); // the lead alone; the digit and what follows are read again
        i++;
        continue;
      }
      const d = buf[i + 3];
      if (d === undefined) break;
      if (d < 0x30 || d > 0x39) {
        errors.push([i, i + 1]);
        i++;
        continue;
      }
      if (!fourByteMapped(a, b, c, d)) errors.push([i, i + 4]);
      i += 4;
      continue;
    }
    if ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe)) {
      i += 2; // every two-byte code is mapped
      continue;
    }
    // not a trail byte: an ASCII one is read again, 0xFF goes with the lead
    errors.push([i, b < 0x80 ? i + 1 : i + 2]);
    i += b < 0x80 ? 1 : 2;
  }
  if (i < n && final) {
    errors.push([i, n]); // a character cut short by the end: one error, as the standard's end-of-queue
    return { errors, end: n };
  }
  return { errors, end: i };
}

/** Decodes complete text (ends in the initial state) with `marker` for each error; counts them in `errors`. */
function decodeComplete(buf: Uint8Array, marker: string, onError: (at: number, len: number) => void): string {
  try {
    return fatal.decode(buf);
  } catch {
    // Some bytes are undecodable: find exactly which, decode the stretches between them.
    const { errors } = walk(buf, 0, true);
    let text = '';
    let at = 0;
    for (const [s, e] of errors) {
      if (s > at) text += fatal.decode(buf.subarray(at, s));
      text += marker;
      onError(s, e - s);
      at = e;
    }
    if (at < buf.length) text += fatal.decode(buf.subarray(at));
    return text;
  }
}

/** A streaming GB18030 decoder: `write` each chunk, then `end`. */
export class Gb18030Decoder {
  private carry: Uint8Array = new Uint8Array(0);
  /** Bytes decoded before `carry`. */
  private consumed = 0;
  /** How many errors so far, and the byte offset and bytes of the first. */
  errors = 0;
  firstError: { offset: number; bytes: Uint8Array } | null = null;

  constructor(
    private readonly marker = '\uFFFD',
    private readonly onError?: (offset: number, bytes: Uint8Array) => void,
  ) {}

  private readonly noteError = (base: Uint8Array, at: number, len: number) => {
    const offset = this.consumed + at;
    const bytes = base.slice(at, at + len);
    this.errors++;
    this.firstError ??= { offset, bytes };
    this.onError?.(offset, bytes);
  };

  write(chunk: Uint8Array): string {
    if (!chunk.length) return '';
    let text = '';
    let rest = chunk;
    if (this.carry.length) {
      // The carried bytes end with the chunk's first sync byte: only that much is copied, not the chunk.
      let first = 0;
      while (first < chunk.length && !isSync(chunk[first]!)) first++;
      const head = concat(this.carry, chunk.subarray(0, Math.min(first + 1, chunk.length)));
      if (first === chunk.length) {
        // none in this chunk: wait for more, unless that is a lot (then the walk finds where to cut)
        const end = head.length > MAX_CARRY ? walk(head, 0, false).end : 0;
        this.carry = head.subarray(end);
        return end ? this.decode(head.subarray(0, end)) : '';
      }
      this.carry = new Uint8Array(0);
      text = this.decode(head);
      rest = chunk.subarray(first + 1);
    }
    let cut = rest.length;
    while (cut > 0 && !isSync(rest[cut - 1]!)) cut--;
    if (cut === 0 && rest.length > MAX_CARRY) cut = walk(rest, 0, false).end;
    if (cut) text += this.decode(rest.subarray(0, cut));
    // copied: the chunk's buffer may be reused by its stream
    this.carry = rest.slice(cut);
    return text;
  }

  end(): string {
    const rest = this.carry;
    this.carry = new Uint8Array(0);
    return rest.length ? this.decode(rest) : '';
  }

  private decode(buf: Uint8Array): string {
    const text = decodeComplete(buf, this.marker, (at, len) => this.noteError(buf, at, len));
    this.consumed += buf.length;
    return text;
  }
}

/** The whole of `bytes` as text, each undecodable sequence as `marker`. */
export function decodeGb18030(
  bytes: Uint8Array,
  marker = '\uFFFD',
): { text: string; errors: number; firstError: { offset: number; bytes: Uint8Array } | null } {
  const d = new Gb18030Decoder(marker);
  const text = d.write(bytes) + d.end();
  return { text, errors: d.errors, firstError: d.firstError };
}

/**
 * GB18030 bytes in, the same text as UTF-8 bytes out, chunk by chunk (the bulk path: PostgreSQL is handed UTF-8
 * and converts nothing). Undecodable bytes fail the stream with an UndecodableError (SQLSTATE 22021, as COPY's
 * own would be), so that the loader reads the file row by row and quarantines exactly the damaged cells.
 */
export function gb18030ToUtf8(): Transform {
  const decoder = new Gb18030Decoder();
  const fail = (): Error | null =>
    decoder.firstError ? new UndecodableError(decoder.firstError.offset, decoder.firstError.bytes) : null;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const text = decoder.write(chunk);
      const err = fail();
      if (err) done(err);
      else done(null, text ? Buffer.from(text, 'utf8') : undefined);
    },
    flush(done: TransformCallback) {
      const text = decoder.end();
      const err = fail();
      if (err) done(err);
      else done(null, text ? Buffer.from(text, 'utf8') : undefined);
    },
  });
}

let fingerprint: string | null = null;
/**
 * What this decoder makes of GB18030: a hash of its text for every two-byte code and for the edges of the
 * four-byte ranges. Changes exactly when the mapping does (another decoder, another ICU with other tables), for
 * settings fingerprints that must tell text decoded one way from text decoded another.
 */
export function gb18030Fingerprint(): string {
  if (fingerprint) return fingerprint;
  const bytes: number[] = [];
  for (let a = 0x81; a <= 0xfe; a++)
    for (let b = 0x40; b <= 0xfe; b++) if (b !== 0x7f) bytes.push(a, b, 0x2c);
  for (const four of [
    [0x81, 0x30, 0x81, 0x30],
    [0x81, 0x35, 0xf4, 0x37],
    [0x82, 0x35, 0x8f, 0x33],
    [0x84, 0x31, 0xa4, 0x37],
    [0x84, 0x31, 0xa4, 0x39],
    [0x90, 0x30, 0x81, 0x30],
    [0x95, 0x32, 0x88, 0x38],
    [0xe3, 0x32, 0x9a, 0x35],
  ])
    bytes.push(...four, 0x2c);
  fingerprint = `whatwg-gb18030:${createHash('sha256')
    .update(decodeGb18030(Uint8Array.from(bytes)).text)
    .digest('hex')
    .slice(0, 16)}`;
  return fingerprint;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
