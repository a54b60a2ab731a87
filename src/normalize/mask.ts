/**
 * The one mask format of DOMAIN §9: first 4 + last 4 characters, the middle replaced by asterisks of the same
 * length (so a masked 18-character number still reads as 18 characters). Values of 8 characters or fewer are
 * masked entirely: showing "first 4 + last 4" of them would show everything.
 */
export function maskIdNumber(value: string): string {
  const chars = [...value];
  if (chars.length <= 8) return '*'.repeat(chars.length);
  return chars.slice(0, 4).join('') + '*'.repeat(chars.length - 8) + chars.slice(-4).join('');
}

/** A copy of `fields` (a finding's details) with every string under a key naming an `id_number` masked. */
export function maskIdNumberFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = { ...fields };
  for (const [k, v] of Object.entries(out))
    if (typeof v === 'string' && /id_number/.test(k)) out[k] = maskIdNumber(v);
  return out;
}

/**
 * A phone number as a lookup shows it: the first 3 and last 4 digits (138****5678), as Chinese services print
 * one. The bureau sees whose number it is, not the number (it is in the roster for the township to call).
 */
export function maskPhone(value: string): string {
  const chars = [...value.trim()];
  if (chars.length <= 7) return '*'.repeat(chars.length);
  return chars.slice(0, 3).join('') + '*'.repeat(chars.length - 7) + chars.slice(-4).join('');
}
