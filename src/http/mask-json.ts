import { maskIdsInText } from '../delivery/mask-text.ts';

/**
 * Masks every ID-number-like run in every string of a JSON value. Applied to each response that is not one of
 * the places DOMAIN §9 allows full IDs (an audited person lookup, a department's own list), so an ID hidden in
 * a details object or an error message is masked too.
 */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskIdsInText(value) as T;
  if (Array.isArray(value)) return value.map(maskDeep) as T;
  if (value instanceof Date) return value;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, NOT_PERSONAL.has(k) ? v : maskDeep(v)]),
    ) as T;
  }
  return value;
}

/** Keys whose long digit strings are not ID numbers: household numbers are how the bureau finds a household. */
const NOT_PERSONAL = new Set(['household_id']);
