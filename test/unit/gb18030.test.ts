/**
 * The project's one GB18030 decoder (connectors/gb18030.ts) against the platform's TextDecoder('gb18030') — the
 * Encoding Standard's, GB18030-2022's mappings: every two-byte code, four-byte codes into the supplementary
 * planes, undecodable bytes (marked exactly where a replacing TextDecoder writes U+FFFD, never silently), any
 * chunking (a character split between chunks), and the transcoding stream the bulk path hands to COPY.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGb18030,
  Gb18030Decoder,
  gb18030Fingerprint,
  gb18030ToUtf8,
  UndecodableError,
  walk,
} from '../../connectors/gb18030.ts';

const replacing = new TextDecoder('gb18030');
const hex = (h: string) => Buffer.from(h.replaceAll(' ', ''), 'hex');

/** Every two-byte code (lead 81–FE, trail 40–7E, 80–FE), 23,940 of them. */
function allTwoByteCodes(): Buffer {
  const out: number[] = [];
  for (let a = 0x81; a <= 0xfe; a++) for (let b = 0x40; b <= 0xfe; b++) if (b !== 0x7f) out.push(a, b);
  return Buffer.from(out);
}

/** `bytes` decoded in chunks cut at `cuts`, undecodable bytes as `marker`. */
function inChunks(bytes: Uint8Array, cuts: number[], marker = '\uFFFD') {
  const d = new Gb18030Decoder(marker);
  let text = '';
  let at = 0;
  for (const c of [...cuts].sort((x, y) => x - y)) {
    text += d.write(bytes.subarray(at, Math.max(at, c)));
    at = Math.max(at, c);
  }
  text += d.write(bytes.subarray(at)) + d.end();
  return { text, errors: d.errors, firstError: d.firstError };
}

describe('the GB18030 decoder', () => {
  it('decodes all 23,940 two-byte codes as TextDecoder does, none undecodable', () => {
    const bytes = allTwoByteCodes();
    expect(bytes.length).toBe(2 * 23_940);
    const { text, errors } = decodeGb18030(bytes);
    expect(errors).toBe(0);
    expect(text).toBe(replacing.decode(bytes));
    expect([...text]).toHaveLength(23_940);
  });

  it('gives GB18030-2022 mappings where PostgreSQL (2000) and iconv-lite (2005) differ', () => {
    const cases: [string, number][] = [
      ['a8bc', 0x1e3f], // ḿ (PostgreSQL: U+E7C7)
      ['a3a0', 0x3000], // ideographic space (PostgreSQL: U+E5E5)
      ['fe59', 0x9fb4], // (PostgreSQL, iconv-lite: U+E81E)
      ['a6d9', 0xfe10], // vertical comma (PostgreSQL, iconv-lite: U+E78D)
      ['8135f437', 0xe7c7], // where ḿ was: the PUA code point moved to four bytes
      ['95328838', 0x2003e], // 𠀾, supplementary plane
      ['90308130', 0x10000],
      ['e3329a35', 0x10ffff],
      ['8431a437', 0xfffd], // a U+FFFD the bytes hold
    ];
    for (const [h, cp] of cases) {
      const { text, errors } = decodeGb18030(hex(h));
      expect([h, errors, text.codePointAt(0)?.toString(16)]).toEqual([h, 0, cp.toString(16)]);
      expect(text).toBe(replacing.decode(hex(h)));
    }
  });

  it('four-byte codes: decodable exactly in the ranges the Encoding Standard maps, as TextDecoder', () => {
    // A sample of every lead with every second/fourth byte, across the unmapped gap and above U+10FFFF.
    const bytes: number[] = [];
    for (let a = 0x81; a <= 0xfe; a += 3)
      for (let b = 0x30; b <= 0x39; b++)
        for (let c = 0x81; c <= 0xfe; c += 25) bytes.push(a, b, c, 0x30 + (a % 10), 0x2c);
    const buf = Buffer.from(bytes);
    const { text, errors } = decodeGb18030(buf);
    expect(text).toBe(replacing.decode(buf));
    expect(errors).toBeGreaterThan(0); // the sample reaches the unmapped pointers
    expect(errors).toBe([...text].filter((c) => c === '\uFFFD').length);
  });

  it('marks undecodable bytes exactly where a replacing TextDecoder writes U+FFFD, whatever the chunks', () => {
    // Bytes biased to the hard ones: leads, digits, 0x80, 0xFF, ASCII that ends a sequence, the held U+FFFD.
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(
        0x81,
        0xfe,
        0xff,
        0x80,
        0x30,
        0x39,
        0x2c,
        0x0a,
        0x41,
        0x7f,
        0x84,
        0x31,
        0xa4,
        0x37,
        0xe3,
      ),
    );
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 60 })
          .chain((seed) =>
            fc.tuple(
              fc.array(byte, { minLength: seed.length, maxLength: seed.length + 20 }),
              fc.array(fc.nat(80)),
            ),
          ),
        ([raw, cuts]) => {
          const bytes = Uint8Array.from(raw);
          const want = replacing.decode(bytes);
          const got = inChunks(bytes, cuts, '\uFFFF');
          if (want.includes('\uFFFF')) return; // the bytes hold U+FFFF (84 31 A4 39) itself: the marker is ambiguous
          expect(got.text.replaceAll('\uFFFF', '\uFFFD')).toBe(want);
          // held U+FFFD stay U+FFFD; each error is one marker
          expect(got.errors).toBe([...got.text].filter((c) => c === '\uFFFF').length);
          expect(walk(bytes).errors.length).toBe(got.errors);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a character split between chunks — two-byte, four-byte, supplementary — is decoded whole', () => {
    const bytes = Buffer.concat([hex('d5c5'), hex('a8bc'), hex('95328838'), hex('fe59'), Buffer.from(',\n')]);
    const want = replacing.decode(bytes);
    expect(want).toBe('张ḿ𠀾\u9fb4,\n');
    for (let i = 0; i <= bytes.length; i++)
      for (let j = i; j <= bytes.length; j++) {
        const got = inChunks(bytes, [i, j]);
        expect(got).toEqual({ text: want, errors: 0, firstError: null });
      }
    // one byte at a time
    expect(inChunks(bytes, [...bytes.keys()]).text).toBe(want);
  });

  it('text without a byte to cut at (no comma, space or newline for megabytes) is decoded, in bounded pieces', () => {
    // 村 (B4E5) and 𠀾 (95328838): nothing a character can end at; above 1 MiB the walk finds where to cut
    const unit = Buffer.concat([hex('b4e5'), hex('95328838')]);
    const bytes = Buffer.concat(Array.from({ length: 500_000 }, () => unit));
    const cuts = Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) => i * 65_536 + 1);
    const got = inChunks(bytes, cuts);
    expect(got.errors).toBe(0);
    expect(got.text === replacing.decode(bytes)).toBe(true);
  });

  it('a file ending inside a character: one error, as TextDecoder', () => {
    for (const h of ['41d5', '4195', '419532', '41953288']) {
      const got = inChunks(hex(h), [1, 2]);
      expect(got.text).toBe(replacing.decode(hex(h)));
      expect(got.errors).toBe(1);
      expect(got.firstError?.offset).toBe(1);
    }
  });

  it('reports the byte offset and bytes of the first error across chunks', () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n'), hex('d5c5 d5c5'), hex('ff'), hex('d5c5')]);
    const got = inChunks(bytes, [5, 8]);
    expect(got.errors).toBe(1);
    expect(got.firstError).toEqual({ offset: 8, bytes: Uint8Array.from([0xff]) });
    expect(got.text).toBe('a,b\n张张\uFFFD张');
  });

  it('a U+FFFD the bytes hold (84 31 A4 37) is text, not damage', () => {
    const { text, errors } = decodeGb18030(hex('d5c5 8431a437 c8fd'));
    expect(text).toBe('张\uFFFD三');
    expect(errors).toBe(0);
  });

  it('has a fingerprint that names the decoder and its mapping', () => {
    expect(gb18030Fingerprint()).toMatch(/^whatwg-gb18030:[0-9a-f]{16}$/);
    expect(gb18030Fingerprint()).toBe(gb18030Fingerprint());
  });
});

describe('the bulk path’s transcoding stream', () => {
  const run = async (chunks: Uint8Array[]) => {
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      gb18030ToUtf8(),
      new Writable({
        write(c: Buffer, _e, done) {
          out.push(c);
          done();
        },
      }),
    );
    return Buffer.concat(out);
  };

  it('turns GB18030 into the same text as UTF-8, chunk by chunk', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n'), allTwoByteCodes()]);
    const chunks = [
      bytes.subarray(0, 7),
      bytes.subarray(7, 8),
      bytes.subarray(8, 30_001),
      bytes.subarray(30_001),
    ];
    const utf8 = await run(chunks);
    expect(utf8.toString('utf8')).toBe(replacing.decode(bytes));
  });

  it('fails on undecodable bytes as COPY would (SQLSTATE 22021), naming the byte offset', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n'), hex('d5c5 ff c8fd'), Buffer.from('\n')]);
    const err = await run([bytes.subarray(0, 5), bytes.subarray(5)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndecodableError);
    expect(err).toMatchObject({ code: '22021', offset: 6 });
    expect((err as Error).message).toMatch(/0xff.*byte offset 6/);
  });

  it('a file cut inside its last character fails too', async () => {
    const err = await run([Buffer.from('a,b\n'), hex('d5')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '22021', offset: 4 });
  });
});
