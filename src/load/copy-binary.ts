/**
 * PostgreSQL's binary COPY format, the writing side, for the few types normalized staging holds: a 19-byte
 * header, then per row an int16 field count and per field an int32 length (−1: NULL) and the value in the type's
 * binary form (the type's `recv` function reads it), then an int16 −1. Binary, not text: PostgreSQL takes each
 * value as it is, without parsing a line, unescaping it and reading dates, numbers and arrays from text.
 */

/** The header (signature, flags, extension length) and the trailer of a binary COPY stream. */
export const COPY_BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** PostgreSQL's text type's oid: the element type of a text[] value. */
const TEXT_OID = 25;
/** Days from 1970-01-01 (the JavaScript epoch) to 2000-01-01 (PostgreSQL's). */
const PG_EPOCH_DAYS = 10_957;

/**
 * Rows in binary COPY form, written into one growing buffer: `row(n)` starts a row of n fields, then one call per
 * field in the table's column order. `take()` hands over what was written and starts afresh.
 */
export class BinaryRows {
  private buf: Buffer;
  private at = 0;

  constructor(private readonly size = 1 << 20) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  // Bytes written by hand: Buffer's checked writeInt32BE & co. cost more than the rest of a value (measured).
  private i16(v: number): void {
    const b = this.buf;
    b[this.at++] = (v >>> 8) & 0xff;
    b[this.at++] = v & 0xff;
  }

  private i32(v: number): void {
    const b = this.buf;
    b[this.at++] = (v >>> 24) & 0xff;
    b[this.at++] = (v >>> 16) & 0xff;
    b[this.at++] = (v >>> 8) & 0xff;
    b[this.at++] = v & 0xff;
  }

  row(fields: number): void {
    this.room(2);
    this.i16(fields);
  }

  null(): void {
    this.room(4);
    this.i32(-1);
  }

  /** A bigint from 0 to 2^53: two halves, without a BigInt per value. */
  int8(v: number): void {
    this.room(12);
    this.i32(8);
    this.i32(Math.floor(v / 2 ** 32));
    this.i32(v >>> 0);
  }

  int4(v: number): void {
    this.room(8);
    this.i32(4);
    this.i32(v);
  }

  bool(v: boolean): void {
    this.room(5);
    this.i32(1);
    this.buf[this.at++] = v ? 1 : 0;
  }

  /** text (and any type whose binary form is its UTF-8 text: varchar, name). */
  text(v: string | null): void {
    if (v === null) {
      this.null();
      return;
    }
    // At most 3 bytes a UTF-16 unit: room for the longest encoding, the exact length written after.
    this.room(4 + 3 * v.length);
    const n = writeUtf8(this.buf, v, this.at + 4);
    this.buf.writeInt32BE(n, this.at);
    this.at += 4 + n;
  }

  /** A text value given as its UTF-8 bytes, src[from, to). */
  textBytes(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.room(4 + n);
    this.i32(n);
    copyBytes(src, from, to, this.buf, this.at);
    this.at += n;
  }

  bytea(v: Uint8Array | null): void {
    if (v === null) {
      this.null();
      return;
    }
    this.room(4 + v.length);
    this.i32(v.length);
    this.buf.set(v, this.at);
    this.at += v.length;
  }

  /** A date given as 'YYYY-MM-DD' (years 1–9999): int32 days from 2000-01-01. */
  date(v: string | null): void {
    if (v === null) {
      this.null();
      return;
    }
    const digit = (i: number) => v.charCodeAt(i) - 48;
    const y = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
    this.int4(daysFromCivil(y, digit(5) * 10 + digit(6), digit(8) * 10 + digit(9)) - PG_EPOCH_DAYS);
  }

  /**
   * A numeric given as plain decimal text ('-12.5', '007', '0.30'), sent with `scale` decimals: int16 digit count,
   * weight (of the first base-10000 digit), sign (0x4000 negative), display scale, then the base-10000 digits.
   * The text must have at most `scale` decimals (the normalizer rounds to cents).
   */
  numeric(v: string | null, scale: number): void {
    if (v === null) {
      this.null();
      return;
    }
    if (scale === 2 && this.cents(v)) return;
    const negative = v.startsWith('-');
    const [whole = '', fraction = ''] = (negative ? v.slice(1) : v).split('.');
    const int = whole.replace(/^0+/, '');
    const frac = fraction.replace(/0+$/, '');
    // Groups of four digits aligned on the decimal point.
    const intGroups = Math.ceil(int.length / 4);
    const intDigits = int.padStart(intGroups * 4, '0');
    const fracDigits = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
    const groups: number[] = [];
    for (let i = 0; i < intDigits.length; i += 4) groups.push(Number(intDigits.slice(i, i + 4)));
    for (let i = 0; i < fracDigits.length; i += 4) groups.push(Number(fracDigits.slice(i, i + 4)));
    let weight = intGroups - 1;
    // No leading or trailing zero groups: PostgreSQL's own form of the value.
    while (groups.length && groups[0] === 0) {
      groups.shift();
      weight--;
    }
    while (groups.length && groups[groups.length - 1] === 0) groups.pop();
    if (!groups.length) weight = 0;
    this.room(4 + 8 + 2 * groups.length);
    this.i32(8 + 2 * groups.length);
    this.i16(groups.length);
    this.i16(weight);
    this.i16(negative && groups.length ? 0x4000 : 0);
    this.i16(scale);
    for (const g of groups) this.i16(g);
  }

  /**
   * Most amounts: up to 12 digits, a point and two (no sign, no leading zero), read from the character codes —
   * the general path's string work cost more than the rest of the value. False when `v` is not of that form.
   */
  private cents(v: string): boolean {
    const n = v.length;
    if (n < 4 || n > 15 || v.charCodeAt(n - 3) !== 46 || v.charCodeAt(0) === 48) return false;
    let whole = 0;
    for (let i = 0; i < n - 3; i++) {
      const c = v.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return false;
      whole = whole * 10 + c;
    }
    const a = v.charCodeAt(n - 2) - 48;
    const b = v.charCodeAt(n - 1) - 48;
    if (a < 0 || a > 9 || b < 0 || b > 9) return false;
    // base-10000 digits of the whole part (at most 3 groups below 10^12), then the cents as one fraction group
    const groups: number[] = [];
    for (let w = whole; w > 0; w = Math.floor(w / 10000)) groups.unshift(w % 10000);
    const weight = groups.length - 1;
    const frac = (a * 10 + b) * 100;
    if (frac) groups.push(frac);
    while (groups.length && groups[groups.length - 1] === 0) groups.pop();
    this.room(4 + 8 + 2 * groups.length);
    this.i32(8 + 2 * groups.length);
    this.i16(groups.length);
    this.i16(groups.length ? weight : 0);
    this.i16(0);
    this.i16(2);
    for (const g of groups) this.i16(g);
    return true;
  }

  /** A one-dimensional text[] without NULL elements ('{}' when empty). */
  textArray(v: readonly string[]): void {
    const start = this.at;
    this.room(4 + 12);
    this.at += 4; // the length, written at the end
    this.i32(v.length ? 1 : 0); // dimensions
    this.i32(0); // no NULL elements
    this.i32(TEXT_OID);
    if (v.length) {
      this.room(8);
      this.i32(v.length);
      this.i32(1); // lower bound
      for (const s of v) this.text(s);
    }
    this.buf.writeInt32BE(this.at - start - 4, start);
  }

  /**
   * The rows written since the last take, in memory of their own (to be handed to another thread): the buffer
   * itself, a new one taken for what follows (no copy; a buffer of its own, not a slice of Node's shared pool).
   * The new one is sized for what this take held (a power of two, at most `size`; it grows as it must): a
   * re-sent file's second pass takes ~13 KB of kept rows per chunk read, and a fresh 1 MB buffer for each (263 MB
   * for a 2M-row roster) made V8 collect its old space every ~25 ms for the external memory (~0.1 s a load).
   */
  take(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.buf.buffer as ArrayBuffer, this.buf.byteOffset, this.at);
    const next = Math.min(this.size, 2 ** Math.ceil(Math.log2(Math.max(4096, this.at))));
    this.buf = Buffer.allocUnsafeSlow(next);
    this.at = 0;
    return out;
  }
}

/**
 * Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1–12): Date.UTC's answer, from the digits'
 * character codes without slicing and parsing three strings (a third of a date's cost in a roster row).
 * The civil-calendar algorithm of H. Hinnant ("chrono-Compatible Low-Level Date Algorithms"): years from March.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * Writes `v` as UTF-8 at `at` of `buf` (room for 3 bytes a UTF-16 unit assumed); returns the bytes written. The
 * same bytes as Buffer's write, a lone surrogate included (U+FFFD). By hand for the short values a row holds:
 * Buffer.write's call into C++ cost ~55 ns a value against ~15 (measured, Node 20, roster values); long ones go
 * through it still.
 */
export function writeUtf8(buf: Buffer, v: string, at: number): number {
  const n = v.length;
  if (n > 64) return buf.write(v, at, 'utf8');
  let p = at;
  for (let i = 0; i < n; i++) {
    let c = v.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
      continue;
    }
    if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? v.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        buf[p++] = 0xf0 | (c >> 18);
        buf[p++] = 0x80 | ((c >> 12) & 0x3f);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd; // a lone surrogate, as Buffer writes it
    }
    buf[p++] = 0xe0 | (c >> 12);
    buf[p++] = 0x80 | ((c >> 6) & 0x3f);
    buf[p++] = 0x80 | (c & 0x3f);
  }
  return p - at;
}

/** src[from, to) to dst at `at`: by hand when short (a value's few bytes), where set() on a subarray costs more. */
export function copyBytes(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): void {
  if (to - from > 64) dst.set(src.subarray(from, to), at);
  else for (let i = from; i < to; i++) dst[at++] = src[i]!;
}
