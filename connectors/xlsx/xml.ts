/**
 * One XML part of a workbook, streamed through saxes (a conformant, maintained SAX parser) without damaging
 * text: the inflated bytes are decoded by a streaming TextDecoder, which carries a character split across two
 * chunks over to the next one (exceljs's streaming reader decoded each chunk on its own and turned such a
 * character into U+FFFD). What the decoder still cannot decode — bytes that are not UTF-8 in the part itself —
 * is tracked: a part whose decoding produced a U+FFFD its bytes do not contain is marked damaged, and the
 * readers report every value with a U+FFFD in it as damaged text instead of loading it.
 *
 * A DOCTYPE (the way to entity-expansion and external-entity attacks) is refused in every part; saxes expands
 * no entity but the five predefined ones and character references, and fails on any other.
 */
import { TextDecoder } from 'node:util';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { dataError, RuralHubError } from '../../core/errors.ts';
import { decodingDamaged } from '../text-damage.ts';
import type { ZipArchive } from './zip.ts';

export interface PartReader {
  /** Set once the part's bytes failed to decode somewhere; values with U+FFFD are then not to be trusted. */
  readonly damaged: boolean;
}

/** A tag's local name: some writers prefix SpreadsheetML elements (`<x:row>`). */
export const localName = (tag: { name: string }) => {
  const i = tag.name.indexOf(':');
  return i < 0 ? tag.name : tag.name.slice(i + 1);
};

export type OpenTag = SaxesTagPlain;

/**
 * Feeds a part to `setup`'s parser chunk by chunk; after each chunk, whatever `take` returns is yielded (rows
 * completed so far), so a sheet streams with the archive's backpressure. A part that is absent yields nothing.
 */
export async function* streamPart<T>(
  archive: ZipArchive,
  part: string,
  setup: (parser: SaxesParser, reader: PartReader) => void,
  take: () => T[] = () => [],
): AsyncGenerator<T> {
  const parser = new SaxesParser<{ position: false }>({ position: false });
  const reader = { damaged: false };
  parser.on('doctype', () => {
    throw dataError(
      `${archive.file}: refused: part ${part} declares a DOCTYPE or ENTITY (not allowed in a workbook)`,
    );
  });
  setup(parser, reader);
  let decoder: TextDecoder | null = null;
  let tail: Buffer = Buffer.alloc(0); // the last bytes of the previous chunk: a genuine U+FFFD may straddle chunks
  const feed = (text: string) => {
    try {
      parser.write(text);
    } catch (err) {
      if (err instanceof RuralHubError) throw err;
      throw dataError(`${archive.file}: part ${part} is not well-formed XML (${(err as Error).message})`);
    }
  };
  for await (const chunk of archive.chunks(part)) {
    if (!decoder) decoder = new TextDecoder(bomEncoding(chunk)); // the BOM itself is dropped by the decoder
    const text = decoder.decode(chunk, { stream: true });
    // the tail: a U+FFFD the part really holds may straddle two chunks
    if (!reader.damaged && text.includes('\uFFFD')) {
      reader.damaged = decodingDamaged(text, Buffer.concat([tail, chunk]), 'utf8');
    }
    tail = chunk.subarray(Math.max(0, chunk.length - 2));
    feed(text);
    yield* take();
  }
  if (decoder) {
    const rest = decoder.decode();
    if (rest.includes('\uFFFD')) reader.damaged = true; // a truncated character at the very end
    feed(rest);
    try {
      parser.close();
    } catch (err) {
      throw dataError(`${archive.file}: part ${part} ends before its XML does (${(err as Error).message})`);
    }
    yield* take();
  }
}

/** Reads a small part whole (workbook, relationships, styles) for its side effects on `setup`'s state. */
export async function readPart(
  archive: ZipArchive,
  part: string,
  setup: (parser: SaxesParser, reader: PartReader) => void,
): Promise<void> {
  for await (const _ of streamPart(archive, part, setup)) {
    // nothing is yielded: setup keeps what it needs
  }
}

/** XML parts are UTF-8 unless a byte order mark says UTF-16 (the only encodings a package may use). */
function bomEncoding(first: Buffer): string {
  if (first[0] === 0xff && first[1] === 0xfe) return 'utf-16le';
  if (first[0] === 0xfe && first[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/**
 * SpreadsheetML escapes characters XML cannot carry as `_xHHHH_` (a carriage return is `_x000D_`, a literal
 * `_x` is `_x005F_x`): Excel shows the character, so the warehouse gets the character.
 */
export const unescapeXstring = (s: string) =>
  s.includes('_x')
    ? s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    : s;
