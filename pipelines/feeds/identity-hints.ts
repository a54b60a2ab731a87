import type { FieldSpec } from '../../schemas/feed.ts';

/**
 * Fields a department may send beside a person's ID, used only to link a record whose ID is missing or invalid
 * (src/identity): the person's birth date and home village. Optional everywhere; the roster, the reference
 * they are matched against, carries neither (its birth dates come from its IDs).
 * `home_village` is not region-checked: it is a hint, and a misspelt hint must not quarantine a row whose ID is
 * valid; it only ever narrows candidates.
 */
export const IDENTITY_HINTS = {
  birth_date: {
    type: { kind: 'date' },
    aliases: ['出生日期', '出生年月日', '出生年月', '户主出生日期'],
  },
  home_village: {
    type: { kind: 'text' },
    aliases: ['村', '所在村', '户籍所在村', '居住村', '行政村', '所属村', '村(社区)', '村名'],
  },
} as const satisfies Record<string, FieldSpec>;
