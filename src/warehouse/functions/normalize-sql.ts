/**
 * SQL twins of src/normalize, used on the bulk path: a feed is COPY'd as raw text into staging and
 * normalized set-based in one INSERT … SELECT (COPY parses CSV ~2× faster than any Node parser here, see
 * ARCHITECTURE "where normalization happens"). Tests run both implementations on the same inputs.
 *
 * Convention: every validating function returns the normalized value as text, or `!problem_code`
 * (a PROBLEM_CODES value) when the value is rejected, or NULL for an empty input. Valid outputs never start
 * with `!`, so one call per value yields both the value and the reason.
 *
 * All functions are IMMUTABLE single-SELECT SQL functions so the planner can inline them.
 * These definitions are repeatable (CREATE OR REPLACE) and re-applied by `migrate`.
 */
import { sql } from 'kysely';
import { traditionalPairs } from '../../normalize/name.ts';

const FULLWIDTH_DIGITS = '０１２３４５６７８９';
const PROVINCES = [
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61,
  62, 63, 64, 65, 71, 81, 82, 83, 91,
].map(String);

const TRAD = traditionalPairs();

/** Ordered: later functions call earlier ones. */
export const NORMALIZE_FUNCTIONS = [
  // Y, M, D as text → 'YYYY-MM-DD' or NULL when no such calendar day (or year < min_year).
  sql`CREATE OR REPLACE FUNCTION rh_ymd(y text, m text, d text, min_year integer DEFAULT 1900) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN y !~ '^[0-9]{4}$' OR m !~ '^[0-9]{1,2}$' OR d !~ '^[0-9]{1,2}$' THEN NULL
      WHEN y::int < min_year OR m::int NOT BETWEEN 1 AND 12 OR d::int < 1 THEN NULL
      WHEN d::int > extract(day FROM make_date(y::int, m::int, 1) + interval '1 month - 1 day') THEN NULL
      ELSE y || '-' || lpad(m, 2, '0') || '-' || lpad(d, 2, '0')
    END $$`,

  // GB 11643 check character of the first 17 digits.
  sql`CREATE OR REPLACE FUNCTION rh_id_check_char(d text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr('10X98765432', 1 + ((
        (ascii(substr(d, 1, 1)) - 48) * 7 + (ascii(substr(d, 2, 1)) - 48) * 9 + (ascii(substr(d, 3, 1)) - 48) * 10
      + (ascii(substr(d, 4, 1)) - 48) * 5 + (ascii(substr(d, 5, 1)) - 48) * 8 + (ascii(substr(d, 6, 1)) - 48) * 4
      + (ascii(substr(d, 7, 1)) - 48) * 2 + (ascii(substr(d, 8, 1)) - 48) * 1 + (ascii(substr(d, 9, 1)) - 48) * 6
      + (ascii(substr(d, 10, 1)) - 48) * 3 + (ascii(substr(d, 11, 1)) - 48) * 7 + (ascii(substr(d, 12, 1)) - 48) * 9
      + (ascii(substr(d, 13, 1)) - 48) * 10 + (ascii(substr(d, 14, 1)) - 48) * 5 + (ascii(substr(d, 15, 1)) - 48) * 8
      + (ascii(substr(d, 16, 1)) - 48) * 4 + (ascii(substr(d, 17, 1)) - 48) * 2) % 11), 1) $$`,

  // Cleaning of §5.1: white space (incl. U+3000, NBSP), quote marks, full-width digits, x → X.
  sql`CREATE OR REPLACE FUNCTION rh_id_clean(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT upper(translate(regexp_replace(raw, '[\\s\\u00a0\\u3000''"\`\\u2018\\u2019\\u201c\\u201d]+', '', 'g'),
      ${sql.lit(`${FULLWIDTH_DIGITS}ｘＸ`)}, '0123456789XX')) $$`,

  // Cleaned → canonical 18 characters where it can be: 15-digit upgrade, 残疾人证号 suffix removed.
  sql`CREATE OR REPLACE FUNCTION rh_id_canon(c text, disability_cert boolean) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN c ~ '^[0-9]{15}$' THEN left(c, 6) || '19' || substr(c, 7, 9)
                                   || rh_id_check_char(left(c, 6) || '19' || substr(c, 7, 9))
      WHEN disability_cert AND c ~ '^[0-9]{17}[0-9X][0-9]{2}$' THEN left(c, 18)
      ELSE c
    END $$`,

  // Problem of a canonical ID, NULL when valid. Order matters and matches src/normalize/id-number.ts.
  sql`CREATE OR REPLACE FUNCTION rh_id_problem(c text, today date, min_year integer DEFAULT 1900) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN c IS NULL OR c = '' THEN 'id_missing'
      WHEN c ~ '^[0-9]+(\\.[0-9]+)?E\\+?[0-9]+$' THEN 'id_sci_notation'
      WHEN c !~ '^[0-9]{17}[0-9X]$' THEN 'id_bad_format'
      WHEN left(c, 2) <> ALL (${sql.lit(`{${PROVINCES.join(',')}}`)}::text[]) THEN 'id_bad_region'
      WHEN rh_ymd(substr(c, 7, 4), substr(c, 11, 2), substr(c, 13, 2), min_year) IS NULL THEN 'id_bad_birth_date'
      WHEN substr(c, 7, 8) > to_char(today, 'YYYYMMDD') THEN 'id_future_birth_date'
      WHEN rh_id_check_char(c) <> substr(c, 18, 1) THEN 'id_bad_checksum'
    END $$`,

  // Raw cell → 18-character ID, or '!problem', or NULL when empty.
  sql`CREATE OR REPLACE FUNCTION rh_id(raw text, disability_cert boolean, today date) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN c IS NULL OR c = '' THEN NULL
                ELSE coalesce('!' || rh_id_problem(c, today), c) END
    FROM (SELECT rh_id_canon(rh_id_clean(raw), disability_cert) AS c) s $$`,

  // Names (§5.2): no white space anywhere, middle-dot variants → '·', '-' between Han characters → '·'.
  sql`CREATE OR REPLACE FUNCTION rh_name(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(regexp_replace(
      translate(regexp_replace(raw, '[\\s\\u00a0\\u3000]+', '', 'g'), '•.‧・･∙', '······'),
      '([\\u3400-\\u4dbf\\u4e00-\\u9fff])[-－](?=[\\u3400-\\u4dbf\\u4e00-\\u9fff])', '\\1·', 'g'), '') $$`,

  // Name comparison key: traditional → simplified by OpenCC's character table (same table as nameKey()).
  sql`CREATE OR REPLACE FUNCTION rh_name_key(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(rh_name(raw), ${sql.lit(TRAD.from)}, ${sql.lit(TRAD.to)}) $$`,

  // Free text: trimmed (ideographic space too); empty → NULL.
  sql`CREATE OR REPLACE FUNCTION rh_text(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(regexp_replace(raw, '^[\\s\\u00a0\\u3000]+|[\\s\\u00a0\\u3000]+$', '', 'g'), '') $$`,

  // Vocabulary lookup key: no white space at all.
  sql`CREATE OR REPLACE FUNCTION rh_key(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(regexp_replace(raw, '[\\s\\u00a0\\u3000]+', '', 'g'), '') $$`,

  // Dates (§5.3) → 'YYYY-MM-DD' or '!date_unparseable' / '!date_ambiguous'; NULL when empty.
  sql`CREATE OR REPLACE FUNCTION rh_date(raw text, tz text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN s IS NULL THEN NULL
      WHEN s ~ '^[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}[日号]?$' THEN coalesce(rh_ymd(
        substr(s, 1, 4), (regexp_match(s, '^.{5}([0-9]+)'))[1], (regexp_match(s, '([0-9]+)[日号]?$'))[1]),
        '!date_unparseable')
      WHEN s ~ '^[0-9]{8}$' THEN coalesce(rh_ymd(substr(s, 1, 4), substr(s, 5, 2), substr(s, 7, 2)), '!date_unparseable')
      WHEN s ~ '^[0-9]{1,7}(\\.[0-9]+)?$' THEN CASE
        WHEN floor(s::numeric) = 60 OR floor(s::numeric) NOT BETWEEN 1 AND 2958465 THEN '!date_unparseable'
        WHEN floor(s::numeric) < 60 THEN (date '1899-12-31' + floor(s::numeric)::int)::text
        ELSE (date '1899-12-30' + floor(s::numeric)::int)::text END
      WHEN s ~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$' THEN coalesce(rh_ymd(
        substr(s, 1, 4), (regexp_match(s, '^.{5}([0-9]+)'))[1], (regexp_match(s, '^[^-]+-[^-]+-([0-9]+)'))[1]),
        '!date_unparseable')
      WHEN s ~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})$'
        THEN CASE WHEN rh_ymd(substr(s, 1, 4), (regexp_match(s, '^.{5}([0-9]+)'))[1],
                              (regexp_match(s, '^[^-]+-[^-]+-([0-9]+)'))[1]) IS NULL THEN '!date_unparseable'
                  ELSE to_char(s::timestamptz AT TIME ZONE tz, 'YYYY-MM-DD') END
      WHEN s ~ '^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}$' OR s ~ '^[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$'
        THEN '!date_ambiguous'
      ELSE '!date_unparseable'
    END
    FROM (SELECT nullif(translate(regexp_replace(raw, '^[\\s\\u3000]+|[\\s\\u3000]+$', '', 'g'),
                                  ${sql.lit(FULLWIDTH_DIGITS)}, '0123456789'), '') AS s) x $$`,

  // Money in yuan → exact decimal text or '!money_unparseable'.
  sql`CREATE OR REPLACE FUNCTION rh_money(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL WHEN s ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN s ELSE '!money_unparseable' END
    FROM (SELECT nullif(regexp_replace(translate(raw, ${sql.lit(`${FULLWIDTH_DIGITS}，．`)}, '0123456789,.'),
                                       '[\\s\\u3000¥￥元,]|RMB', '', 'g'), '') AS s) x $$`,

  sql`CREATE OR REPLACE FUNCTION rh_integer(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL WHEN s ~ '^-?[0-9]{1,9}$' THEN s ELSE '!number_unparseable' END
    FROM (SELECT nullif(translate(regexp_replace(raw, '[\\s\\u3000]+', '', 'g'), ${sql.lit(FULLWIDTH_DIGITS)},
                                  '0123456789'), '') AS s) x $$`,

  sql`CREATE OR REPLACE FUNCTION rh_boolean(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN k IS NULL THEN NULL
      WHEN k IN ('是', 'Y', 'YES', 'TRUE', '1', '√', '安全', '已消除') THEN 'true'
      WHEN k IN ('否', 'N', 'NO', 'FALSE', '0', '×', '不安全', '未消除') THEN 'false'
      ELSE '!value_not_in_vocabulary'
    END FROM (SELECT upper(rh_key(raw)) AS k) x $$`,
];
