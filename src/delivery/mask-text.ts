import { maskIdNumber } from '../normalize/mask.ts';

/**
 * Masks every ID-number-like run in free text (a raw CSV line, an error message): 15 or more digits, possibly
 * full-width, spaced or ending in X. Used wherever text that may quote a department's row leaves the warehouse.
 */
export function maskIdsInText(text: string): string {
  return text.replace(/[0-9０-９](?:[0-9０-９ \u3000]){13,}[0-9０-９XxＸｘ]/g, (m) =>
    maskIdNumber(m.replace(/[ \u3000]/g, '')),
  );
}
