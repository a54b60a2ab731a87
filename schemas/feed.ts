import type { Department, WriteMode } from './vocab.ts';

/**
 * How one canonical field is read from a department's column and normalized.
 * The normalization itself lives in src/normalize (TypeScript reference) and its SQL twin
 * (src/warehouse/functions), chosen by `kind`.
 */
export type FieldType =
  /** Resident ID (DOMAIN §5.1); a 残疾人证号 (ID + 2 digits) in any feed's ID column is read as its ID. */
  | { kind: 'id_number' }
  /** Person name (§5.2): trimmed, inner white space removed, middle dots unified. */
  | { kind: 'name' }
  /** Free text, trimmed; empty becomes NULL. */
  | { kind: 'text' }
  /** Calendar date in any form of §5.3. */
  | { kind: 'date' }
  /** Amount in yuan (¥, 元, thousands separators accepted). */
  | { kind: 'money' }
  | { kind: 'integer' }
  /** A calendar year such as 参保年度: '2026', '2026年', '2026年度', an Excel number 2026.0. */
  | { kind: 'year' }
  /** 是/否 and friends. */
  | { kind: 'boolean' }
  /**
   * A closed vocabulary: canonical value → the spellings departments use (compared after trimming and
   * removing white space). A value matching none is a quarantine reason, not a NULL.
   */
  | { kind: 'enum'; values: Readonly<Record<string, readonly string[]>> };

/**
 * How sensitive what a column says about a person is (Data Security Law Art. 21 classification; PIPL Art. 28;
 * GB/T 35273 Annex B), lowest first: the order is what "the highest grade of its inputs" (就高从严) compares.
 *   - 一般: says nothing about a person (the county every row of a county's roster shares, an insurance pooling
 *     area);
 *   - 个人信息: about an identified person (PIPL Art. 4): name, address, household, sex, dates;
 *   - 敏感个人信息: PIPL Art. 28 — health and medical data, disability, social-assistance and monitoring status
 *     (特定身份), a household's finances, every field of a record about children, and the ID number itself
 *     (GB/T 35273 Annex B lists 身份证件号码 among sensitive personal information).
 * A classification is no column: it changes neither a feed's table nor the fingerprint loads are recognised by
 * (that hashes each field's name, type and required flag only).
 */
export const DATA_GRADES = ['一般', '个人信息', '敏感个人信息'] as const;
export type DataGrade = (typeof DATA_GRADES)[number];

/** The higher of grades (就高从严); 一般 for none. */
export const highestGrade = (grades: Iterable<DataGrade>): DataGrade => {
  let top = 0;
  for (const g of grades) top = Math.max(top, DATA_GRADES.indexOf(g));
  return DATA_GRADES[top]!;
};

export interface FieldSpec {
  type: FieldType;
  /** What the column says about a person, graded (see DATA_GRADES). Required: an ungraded column is refused. */
  classification: DataGrade;
  /** Header spellings seen in the wild, compared after removing white space. The first is the reference. */
  aliases: readonly string[];
  /** Required: the column must be present and every row must have a value. */
  required?: boolean;
  /** Chinese label used on lists and in messages. Defaults to the first alias. */
  label?: string;
}

export interface DedupOrder {
  field: string;
  direction: 'asc' | 'desc';
}

/**
 * A department feed, declared without I/O. Example:
 *
 * ```ts
 * export const studentRoll = defineFeed({
 *   id: 'student_roll', title: '学籍', department: '教育局', mode: 'snapshot',
 *   fields: { id_number: { type: { kind: 'id_number' }, aliases: ['身份证件号', '身份证号'], required: true }, … },
 *   key: ['id_number'], order: [{ field: 'updated_on', direction: 'desc' }],
 * });
 * ```
 */
export interface FeedDefinition<Id extends string = string> {
  /**
   * The feed's name in config keys, CLI arguments and runs, and its table's name (a lower-case identifier, see
   * defineFeed). The project's feeds are those of its registry (pipelines/feeds/index.ts), whose keys are their
   * ids; `FeedDefinition<FeedId>` is one of them, `FeedDefinition` any feed, an extension's too.
   */
  id: Id;
  /** Chinese title, as departments name the file. */
  title: string;
  department: Department;
  mode: WriteMode;
  fields: Readonly<Record<string, FieldSpec>>;
  /** Business key: one current row per key. */
  key: readonly string[];
  /**
   * Further indexes on the current versions, for the rules that join the feed by fields its key does not start
   * with: name → fields, made as the index `<feed>_<name>` (src/warehouse/feed-table.ts). Example:
   * `{ person: ['id_number', 'settled_on'] }`.
   */
  indexes?: Readonly<Record<string, readonly string[]>>;
  /**
   * De-duplication winner among rows sharing a key: these fields in order, then the later source row.
   * Deterministic by construction (principle 4).
   */
  order: readonly DedupOrder[];
  /**
   * For snapshots delivered per partition (insurance: one file per 参保年度): a load replaces only the
   * partitions it contains, so loading 2025's file does not end 2024's enrollments.
   */
  scope?: readonly string[];
  /** For incremental feeds read from databases or APIs: the cursor field (read with `>=`). */
  cursor?: string;
  /**
   * Person resolution (DOMAIN §5.1, src/identity): the person this record is about. A row whose `id` is missing
   * or invalid is linked to the roster person with the same name key, birth date and village when exactly one
   * exists (`birthDate` and `village` are the fields the department may send for that); otherwise it goes to
   * identity review. The roster, being the reference, declares none.
   */
  identity?: { id: string; name: string; birthDate?: string; village?: string };
  /**
   * Fields whose values get a stable surrogate key when first loaded (tables persons and households).
   * The person field defaults to `identity.id`.
   */
  surrogate?: { person?: string; household?: string };
  /**
   * Its records are about children (学籍, 送教上门): a rule reading it evaluates minors, which its record of
   * processing must say (pipelines/rules/rule.ts), and its fields are graded 敏感个人信息.
   */
  minors?: boolean;
}

/**
 * What a record states about a person that the resident ID number also encodes (DOMAIN §5.1): a feed declaring a
 * field `sex` (an enum of M and F) or `birth_date` (a date) is a source of R13's "sex or birth date contradicting
 * the ID", compared with the ID the record is stored under and reported to the feed's department. Declared by
 * those canonical names (checked by defineFeed), so a feed that starts carrying 性别 or 出生日期 needs the field
 * and its column, nothing else.
 */
export interface IdFacts {
  /** The ID field the facts are about: the person's (the household head's in household feeds). */
  id: string;
  /** The name field beside it, for the finding. */
  name: string;
  sex: string | null;
  birthDate: string | null;
}

export function idFacts(feed: FeedDefinition): IdFacts | null {
  // The roster, the reference, declares no identity: its person is the surrogate person field.
  const id = feed.identity?.id ?? feed.surrogate?.person;
  const sex = 'sex' in feed.fields ? 'sex' : null;
  const birthDate = feed.identity?.birthDate ?? ('birth_date' in feed.fields ? 'birth_date' : null);
  if (id === undefined || (sex === null && birthDate === null)) return null;
  return { id, name: feed.identity?.name ?? 'name', sex, birthDate };
}

/**
 * A feed id names the feed's table, and suffixed its sequence, indexes and trigger (`<id>_version_id_seq`,
 * `<id>_current`, `<id>_written`): a plain lower-case identifier that PostgreSQL keeps whole (63 bytes at most).
 */
const FEED_ID = /^[a-z][a-z0-9_]{0,47}$/;
const MAX_NAME = 63;

export function defineFeed<const F extends FeedDefinition>(feed: F): F {
  if (!FEED_ID.test(feed.id)) {
    throw new Error(`feed ${feed.id}: the id names its table: lower-case letters, digits and _, at most 48`);
  }
  for (const name of Object.keys(feed.indexes ?? {})) {
    if (!/^[a-z0-9_]+$/.test(name) || `${feed.id}_${name}`.length > MAX_NAME) {
      throw new Error(
        `feed ${feed.id}: index ${name} must be lower-case letters, digits and _, ${feed.id}_${name} at most ${MAX_NAME}`,
      );
    }
  }
  // A feed may be plain JavaScript (an extension): the grade is checked here as the compiler checks it in TS.
  for (const [name, spec] of Object.entries(feed.fields)) {
    const grade: unknown = spec.classification;
    if (!DATA_GRADES.some((g) => g === grade)) {
      throw new Error(
        `feed ${feed.id}: field ${name} has no classification (one of ${DATA_GRADES.join(', ')}), got ${String(grade)}`,
      );
    }
    if (feed.minors && spec.classification !== '敏感个人信息') {
      throw new Error(`feed ${feed.id}: field ${name} of a feed about children must be graded 敏感个人信息`);
    }
  }
  for (const k of feed.key) {
    if (!(k in feed.fields)) throw new Error(`feed ${feed.id}: key field ${k} is not declared`);
  }
  const idFields = [...Object.values(feed.identity ?? {}), ...Object.values(feed.surrogate ?? {})];
  const indexed = Object.values(feed.indexes ?? {}).flat();
  for (const o of [...feed.order.map((x) => x.field), ...(feed.scope ?? []), ...idFields, ...indexed].map(
    (field) => ({ field }),
  )) {
    if (!(o.field in feed.fields)) throw new Error(`feed ${feed.id}: field ${o.field} is not declared`);
  }
  // The ID facts' canonical names mean what R13 compares them as (see IdFacts).
  const sex = feed.fields.sex?.type;
  if (sex && (sex.kind !== 'enum' || Object.keys(sex.values).sort().join() !== 'F,M')) {
    throw new Error(`feed ${feed.id}: field sex must be an enum of M and F`);
  }
  const birth = feed.fields.birth_date?.type;
  if (birth && birth.kind !== 'date') throw new Error(`feed ${feed.id}: field birth_date must be a date`);
  if ((sex || birth) && !(feed.identity?.id ?? feed.surrogate?.person)) {
    throw new Error(
      `feed ${feed.id}: sex or birth_date without the person's ID (identity or surrogate.person)`,
    );
  }
  return feed;
}
