/**
 * The hand-written parts of the bulk path's binary COPY writer (src/load/copy-binary.ts) and of the text
 * normalizer's white-space test, held to what they replace: Buffer's UTF-8 encoder, Date.UTC, the WHITESPACE set.
 */
import { describe, expect, it } from 'vitest';
import { WHITESPACE } from '../../core/chars.ts';
import { BinaryRows, copyBytes, daysFromCivil, writeUtf8 } from '../../src/load/copy-binary.ts';
import { isSpaceAt } from '../../src/normalize/text.ts';

/** A deterministic stream of numbers in [0, 1) (mulberry32). */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('writeUtf8 writes the bytes Buffer writes', () => {
  const cases = [
    '',
    'A',
    '示范县',
    '姓名0',
    '52010019300101000X',
    'é ß ¥ ©', // two-byte
    '\u07ff\u0800\uffff', // the edges of two and three bytes
    '😀 𠀀 𪚥', // surrogate pairs: four bytes
    '\ud800', // lone surrogates: U+FFFD, as Buffer writes them
    'x\udc00y',
    '\ud83d',
    '\udbff\udfff',
    '\ud83d\ud83d\ude00',
    '鿿'.repeat(40), // past the hand-written length: Buffer's own path
  ];
  it.each(cases)('%j', (v) => {
    const buf = Buffer.alloc(3 * v.length + 8, 0xaa);
    const n = writeUtf8(buf, v, 5);
    expect(buf.subarray(5, 5 + n)).toEqual(Buffer.from(v, 'utf8'));
    expect(buf.subarray(0, 5)).toEqual(Buffer.alloc(5, 0xaa)); // nothing before
    expect(buf.subarray(5 + n)).toEqual(Buffer.alloc(buf.length - 5 - n, 0xaa)); // nor after
  });

  it('on 20,000 random strings of any UTF-16 units, lone surrogates among them', () => {
    const next = random(7);
    const units = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0x4e00, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xffff];
    for (let k = 0; k < 20_000; k++) {
      const len = Math.floor(next() * 80);
      let v = '';
      for (let i = 0; i < len; i++)
        v += String.fromCharCode(
          next() < 0.5 ? units[Math.floor(next() * units.length)]! : Math.floor(next() * 0x10000),
        );
      const buf = Buffer.alloc(3 * v.length);
      const n = writeUtf8(buf, v, 0);
      expect(buf.subarray(0, n).equals(Buffer.from(v, 'utf8'))).toBe(true);
    }
  });
});

describe('a text value given as bytes', () => {
  it('is the COPY field its string makes', () => {
    const src = Buffer.from('xx村123，乡镇😀yy');
    for (const [from, to] of [
      [2, src.length - 2],
      [2, 2],
    ] as const) {
      const a = new BinaryRows(16);
      a.textBytes(src, from, to);
      const b = new BinaryRows(16);
      b.text(src.toString('utf8', from, to));
      expect(Buffer.from(a.take())).toEqual(Buffer.from(b.take()));
    }
  });

  it('copyBytes copies short and long ranges alike', () => {
    const src = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    for (const [from, to] of [
      [0, 0],
      [3, 40],
      [10, 290],
    ] as const) {
      const dst = Buffer.alloc(310);
      copyBytes(src, from, to, dst, 7);
      expect(dst.subarray(7, 7 + to - from)).toEqual(src.subarray(from, to));
      expect(dst.subarray(0, 7)).toEqual(Buffer.alloc(7));
    }
  });
});

describe('daysFromCivil is Date.UTC in days', () => {
  it('on every day of 1899–2101 and the first of each month of years 100–9999', () => {
    const check = (y: number, m: number, d: number) => {
      const ms = Date.UTC(y, m - 1, d);
      expect(daysFromCivil(y, m, d)).toBe(ms / 86_400_000);
    };
    for (let t = Date.UTC(1899, 0, 1); t <= Date.UTC(2101, 11, 31); t += 86_400_000) {
      const day = new Date(t);
      check(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate());
    }
    for (let y = 100; y <= 9999; y += 3) for (let m = 1; m <= 12; m++) check(y, m, 1);
  });

  it('a date written to COPY: days from 2000-01-01', () => {
    const rows = new BinaryRows(16);
    rows.date('2000-01-01');
    rows.date('1999-12-31');
    rows.date('2024-02-29');
    const out = Buffer.from(rows.take());
    expect([out.readInt32BE(4), out.readInt32BE(12), out.readInt32BE(20)]).toEqual([0, -1, 8825]);
  });
});

describe('isSpaceAt', () => {
  it('answers for every UTF-16 unit as the WHITESPACE set does', () => {
    const set = new Set([...WHITESPACE].map((c) => c.charCodeAt(0)));
    const wrong: number[] = [];
    for (let c = 0; c < 0x10000; c++) if (isSpaceAt(String.fromCharCode(c), 0) !== set.has(c)) wrong.push(c);
    expect(wrong).toEqual([]);
  });
});
