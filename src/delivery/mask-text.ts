/**
 * Masking of ID-like runs in free text, defined once with the ID mask itself (src/normalize/mask.ts): re-exported
 * here for the delivery and HTTP modules that import it from this path.
 */
export { maskIdsInText } from '../normalize/mask.ts';
