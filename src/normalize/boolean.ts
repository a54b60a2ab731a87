/**
 * Yes or no (是/否, Y/N, √/×, 安全/不安全 …) → true / false, any case and spacing. Twin of SQL rh_boolean: the
 * value's lookup key (textKey, upper-cased) against BOOLEAN_TRUE and BOOLEAN_FALSE (src/normalize/patterns.ts).
 */
import type { ProblemCode } from '../../schemas/vocab.ts';
import { BOOLEAN_FALSE, BOOLEAN_TRUE } from './patterns.ts';
import { textKey } from './text.ts';

export type BooleanResult = { ok: true; value: boolean } | { ok: false; problem: ProblemCode } | null;

const TRUE = new Set<string>(BOOLEAN_TRUE);
const FALSE = new Set<string>(BOOLEAN_FALSE);

/** Reads an already upper-cased lookup key (see lookupKey): what the loader's row normalizer calls. */
export function booleanOfKey(key: string | null): BooleanResult {
  if (key === null) return null;
  if (TRUE.has(key)) return { ok: true, value: true };
  if (FALSE.has(key)) return { ok: true, value: false };
  return { ok: false, problem: 'value_not_in_vocabulary' };
}

export function parseBoolean(raw: string | null | undefined): BooleanResult {
  return booleanOfKey(textKey(raw)?.toUpperCase() ?? null);
}
