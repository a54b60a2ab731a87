/**
 * The one way every connector reports text it could not decode from the source's bytes: the row is not a
 * record but a text_damaged problem naming the columns, quarantined whole (raw text with U+FFFD where the bytes
 * were), so a damaged value is never loaded as if it were what the department wrote.
 */
import type { ReadMessage, SourcePosition } from './connector.ts';

/** U+FFFD in a decoded value whose source bytes do not hold one: the decoder made it. */
export const REPLACEMENT = '\uFFFD';

export function textDamaged(
  header: readonly (string | null)[],
  damaged: readonly number[],
  raw: string,
  position: SourcePosition,
  /** What the bytes were not, for the message: 'valid UTF-8', 'valid GB18030' … */
  expected: string,
): Extract<ReadMessage, { type: 'problem' }> {
  const columns = damaged.map((i) => header[i] || `column ${i + 1}`);
  return {
    type: 'problem',
    problem: 'text_damaged',
    field: columns[0],
    detail: `${columns.join(', ')}: bytes that are not ${expected} (shown as U+FFFD); the source is damaged, export it again`,
    raw,
    position,
  };
}

/** How many U+FFFD a text holds. */
export function replacements(text: string): number {
  let n = 0;
  for (let i = text.indexOf(REPLACEMENT); i >= 0; i = text.indexOf(REPLACEMENT, i + 1)) n++;
  return n;
}
