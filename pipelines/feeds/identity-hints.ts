import type { DataGrade, FieldSpec } from '../../schemas/feed.ts';

/**
 * Header spellings of a resident ID column across departments' systems. A feed lists its department's own
 * spelling first (the reference of DOMAIN §4), then these; `idAliases` de-duplicates.
 */
const ID_SPELLINGS = [
  '身份证号',
  '身份证号码',
  '公民身份号码',
  '公民身份证号码',
  '公民身份证号',
  '证件号码',
  '证件号',
  '身份证件号',
  '身份证件号码',
  '居民身份证号码',
  '居民身份证号',
  '身份证',
] as const;

/** A person's ID column: the feed's own spellings first, then every common one. */
export const idAliases = (...own: string[]): string[] => [...new Set([...own, ...ID_SPELLINGS])];

/**
 * The person a record is about, as every person-keyed feed names them: 姓名 and 身份证号, both required, under the
 * department's own spellings (listed first, in the order given) and, for the ID, every common one. The feeds list
 * them first, in this order. The ID is sensitive personal information wherever it is (GB/T 35273 Annex B); the
 * name is personal information, sensitive in a feed about children (`grade`).
 */
export const personFields = (
  own: { name: readonly string[]; id: readonly string[] },
  grade: DataGrade = '个人信息',
) =>
  ({
    name: { type: { kind: 'name' }, aliases: own.name, required: true, classification: grade },
    id_number: {
      type: { kind: 'id_number' },
      aliases: idAliases(...own.id),
      required: true,
      classification: '敏感个人信息',
    },
  }) as const satisfies Record<string, FieldSpec>;

/** A household head's ID column: the feed's own spellings first, then 户主 + every common spelling. */
export const headIdAliases = (...own: string[]): string[] => [
  ...new Set([...own, ...ID_SPELLINGS.map((a) => `户主${a}`)]),
];

/**
 * The ID column of a feed keyed by the household head (housing, water, disasters): the head's spellings, then
 * the plain ones, which such feeds also use for the head.
 */
export const headOrPlainIdAliases = (...own: string[]): string[] => [
  ...headIdAliases(...own),
  ...idAliases(),
];

/**
 * The household head of a feed kept per household (housing, water, disasters): 户主姓名 and 户主身份证号, the
 * latter under the head's spellings or the plain ones. The feeds list them first, in this order.
 */
export const HOUSEHOLD_HEAD = {
  head_name: {
    type: { kind: 'name' },
    aliases: ['户主姓名', '姓名'],
    required: true,
    classification: '个人信息',
  },
  head_id_number: {
    type: { kind: 'id_number' },
    aliases: headOrPlainIdAliases('户主身份证号'),
    required: true,
    classification: '敏感个人信息',
  },
} as const satisfies Record<string, FieldSpec>;

/**
 * Fields a department may send beside a person's ID, used only to link a record whose ID is missing or invalid
 * (src/identity): the person's birth date and home village. Optional everywhere; the roster, the reference
 * they are matched against, carries neither (its birth dates come from its IDs).
 * `home_village` is not region-checked: it is a hint, and a misspelt hint must not quarantine a row whose ID is
 * valid; it only ever narrows candidates.
 */
export const identityHints = (grade: DataGrade = '个人信息') =>
  ({
    birth_date: {
      type: { kind: 'date' },
      aliases: ['出生日期', '出生年月日', '出生年月', '户主出生日期'],
      classification: grade,
    },
    home_village: {
      type: { kind: 'text' },
      aliases: ['村', '所在村', '户籍所在村', '居住村', '行政村', '所属村', '村(社区)', '村名'],
      classification: grade,
    },
  }) as const satisfies Record<string, FieldSpec>;

/** The hints as most feeds grade them: a birth date and a village are personal information. */
export const IDENTITY_HINTS = identityHints();

/**
 * 性别, in every feed that carries it (the roster, the student roll): M or F, the same spellings everywhere. A feed
 * declaring it is checked by R13 against the sex its ID number encodes (schemas/feed.ts, ID facts). Spellings are
 * the departments' systems' words and the GB/T 2261.1 codes 1 and 2.
 */
export const SEX = {
  type: { kind: 'enum', values: { M: ['男', '男性', 'M', '1'], F: ['女', '女性', 'F', '2'] } },
  aliases: ['性别'],
  classification: '个人信息',
} as const satisfies FieldSpec;
