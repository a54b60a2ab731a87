/**
 * Text a connector could not decode from the source's bytes: every connector marks such cells the same way — the
 * cell's text holds U+FFFD where the bytes were, and the record lists the cell in `damaged` (connector.ts) — so
 * that the loader quarantines the value as text_damaged instead of loading it as if a department wrote it.
 */

/** U+FFFD in a decoded value whose source bytes do not hold one: the decoder made it. */
export const REPLACEMENT = '\uFFFD';

/** How many U+FFFD a text holds. */
export function replacements(text: string): number {
  let n = 0;
  for (let i = text.indexOf(REPLACEMENT); i >= 0; i = text.indexOf(REPLACEMENT, i + 1)) n++;
  return n;
}

/**
 * U+FFFD as each decoded encoding writes it in bytes.
 *
 * GB18030 text is decoded by connectors/gb18030.ts, which knows exactly which bytes it could not decode (it
 * decodes in fatal mode and walks only the stretches it refuses) and writes its marker there: the CSV and HTML
 * ".xls" readers take the damaged cells from that, not from counting U+FFFD. The count below stays for decoders
 * that replace silently — UTF-8 in Buffer.toString — and for the HTTP connector's GB18030 bodies until it too
 * decodes with connectors/gb18030.ts.
 */
const ENCODED = { utf8: Buffer.from(REPLACEMENT, 'utf8'), gb18030: Buffer.from([0x84, 0x31, 0xa4, 0x37]) };

/** How many U+FFFD the bytes really hold, in `encoding`. */
export function heldReplacements(bytes: Buffer, encoding: keyof typeof ENCODED): number {
  const needle = ENCODED[encoding];
  let n = 0;
  for (let i = bytes.indexOf(needle); i >= 0; i = bytes.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * Whether decoding `bytes` into `text` made a U+FFFD the bytes do not hold: some bytes could not be decoded.
 * Cheap for the usual text, which holds none.
 */
export const decodingDamaged = (text: string, bytes: Buffer, encoding: keyof typeof ENCODED): boolean =>
  text.includes(REPLACEMENT) && replacements(text) > heldReplacements(bytes, encoding);

/** The record message, with `damaged` only when some cell is. */
export const recordOf = (
  cells: readonly (string | null)[],
  position: import('./connector.ts').SourcePosition,
  damaged: readonly number[],
): Extract<import('./connector.ts').ReadMessage, { type: 'record' }> =>
  damaged.length ? { type: 'record', cells, position, damaged } : { type: 'record', cells, position };
