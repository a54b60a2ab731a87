/**
 * The SQL normalizers (rh_*) every load uses: whether a file's bytes were COPY'd into staging (the bulk path) or
 * a connector's records were (the record path), the staged raw text is normalized set-based in one statement
 * (src/load/normalize-staged.ts; COPY parses CSV ~2× faster than any Node parser here: docs/architecture.md,
 * house rule 10).
 *
 * Every one has a TypeScript twin in src/normalize (rh_id, rh_name, rh_name_key, rh_date, rh_money, rh_year,
 * rh_integer, rh_boolean, rh_text, rh_key): test/integration/normalize-sql.test.ts gives each pair the same inputs
 * and expects the same answers. The twins normalize a delimited file's rows in Node on the bulk path
 * (src/load/row-normalizer.ts) and read single values outside a load; these normalize what a connector staged
 * (the record path) and the rows the TypeScript side leaves to SQL. The patterns and vocabularies both sides
 * use are written once, in src/normalize/patterns.ts.
 *
 * Convention: every validating function returns the normalized value as text, or `!problem_code`
 * (a PROBLEM_CODES value) when the value is rejected, or NULL for an empty input. Valid outputs never start
 * with `!`, so one call per value yields both the value and the reason.
 *
 * Cheap one-expression functions are IMMUTABLE SQL functions the planner inlines. The ID and date parsers are
 * PL/pgSQL: they compute intermediate values once in variables, where a non-inlinable nested SQL function call
 * costs tens of microseconds (measured: rh_id went from 217 µs to 3.4 µs per value, see bench/normalize.ts).
 * These definitions are repeatable (CREATE OR REPLACE) and re-applied by `migrate`.
 */
import { sql } from 'kysely';
import { ASCII_DIGITS, charClass, FULLWIDTH_DIGITS, QUOTES, WHITESPACE } from '../../../core/chars.ts';
import { PROVINCE_PREFIXES } from '../../normalize/id-number.ts';
import { traditionalPairs } from '../../normalize/name.ts';
import {
  BOOLEAN_FALSE,
  BOOLEAN_TRUE,
  DATE_AMBIGUOUS,
  DATE_COMPACT,
  DATE_LOCAL_TS,
  DATE_SERIAL,
  DATE_YMD_SEP,
  DATE_ZONED_TS,
  HAN_RANGES,
  ID_SCI_NOTATION,
  INTEGER,
  MONEY_NOISE,
  MONEY_PLAIN,
  MONEY_SUB_CENT,
  MONEY_THOUSANDS,
  MONEY_TOO_LARGE,
  NAME_DOTS,
  YEAR,
} from '../../normalize/patterns.ts';

const TRAD = traditionalPairs();
const SPACE = charClass(WHITESPACE);
const PROVINCES = `{${[...PROVINCE_PREFIXES].join(',')}}`;
/** A list of words as SQL literals, for IN (…). */
const words = (list: readonly string[]) => sql.join(list.map((w) => sql.lit(w)));

/** GB 11643 check character of the first 17 digits of `v`, as one SQL expression. */
const checkChar = (v: string) => {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const terms = weights.map((w, i) => `(ascii(substr(${v}, ${i + 1}, 1)) - 48) * ${w}`).join(' + ');
  return sql.raw(`substr('10X98765432', 1 + ((${terms}) % 11), 1)`);
};

/** Ordered: later functions call earlier ones. */
export const NORMALIZE_FUNCTIONS = [
  // Definitions of earlier versions whose signature changed (CREATE OR REPLACE cannot change it).
  sql`DROP FUNCTION IF EXISTS rh_id(text, boolean, date), rh_id_parse(text, boolean, date), rh_id_problem(text, date, integer),
    rh_id_canon(text, boolean), rh_id_clean(text), rh_id_check_char(text),
    rh_id(text, boolean, text), rh_id_parse(text, boolean, text)`,

  // Y, M, D as text → 'YYYY-MM-DD', or NULL when there is no such calendar day (or the year is before min_year).
  sql`CREATE OR REPLACE FUNCTION rh_ymd(y text, m text, d text, min_year integer DEFAULT 1900) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE yy int; mm int; dd int; last int;
    BEGIN
      IF y !~ '^[0-9]{4}$' OR m !~ '^[0-9]{1,2}$' OR d !~ '^[0-9]{1,2}$' THEN RETURN NULL; END IF;
      yy := y::int; mm := m::int; dd := d::int;
      IF yy < min_year OR mm < 1 OR mm > 12 OR dd < 1 THEN RETURN NULL; END IF;
      last := CASE WHEN mm = 2 THEN CASE WHEN (yy % 4 = 0 AND yy % 100 <> 0) OR yy % 400 = 0 THEN 29 ELSE 28 END
                   WHEN mm IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
      IF dd > last THEN RETURN NULL; END IF;
      RETURN y || '-' || lpad(m, 2, '0') || '-' || lpad(d, 2, '0');
    END $$`,

  // Raw cell → canonical 18-character ID, or '!problem', or NULL when empty. Same steps, same order as
  // normalizeIdNumber(): clean (white space, quotes, full-width, x → X); 15-digit upgrade; 残疾人证号 suffix (in
  // every feed: the certificate number is the ID plus two digits wherever it is written); scientific notation;
  // format; region; birth date; future birth date; check character.
  sql`CREATE OR REPLACE FUNCTION rh_id_parse(raw text, today text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE c text; first17 text; y int; m int; d int; last int;
    BEGIN
      IF raw IS NULL THEN RETURN NULL; END IF;
      -- Fast path, most values: already 18 clean characters.
      IF octet_length(raw) = 18 AND raw ~ '^[0-9]+X?$' THEN c := raw; ELSE
      -- translate() drops characters without a counterpart: white space and quotes go, full-width maps.
      c := upper(translate(raw, ${sql.lit(`${FULLWIDTH_DIGITS}ｘＸ${WHITESPACE}${QUOTES}`)}, ${sql.lit(`${ASCII_DIGITS}XX`)}));
      IF c = '' THEN RETURN NULL; END IF;
      IF length(c) = 15 AND c ~ '^[0-9]{15}$' THEN
        first17 := left(c, 6) || '19' || substr(c, 7, 9);
        c := first17 || ${checkChar('first17')};
      ELSIF length(c) = 20 AND c ~ '^[0-9]{17}[0-9X][0-9]{2}$' THEN
        c := left(c, 18);
      END IF;
      END IF;
      IF NOT (octet_length(c) = 18 AND c ~ '^[0-9]+X?$') THEN
        IF c ~ ${sql.lit(ID_SCI_NOTATION)} THEN RETURN '!id_sci_notation'; END IF;
        RETURN '!id_bad_format';
      END IF;
      IF NOT (left(c, 2) = ANY (${sql.lit(PROVINCES)}::text[])) THEN RETURN '!id_bad_region'; END IF;
      y := substr(c, 7, 4)::int; m := substr(c, 11, 2)::int; d := substr(c, 13, 2)::int;
      last := CASE WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
                   WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
      IF y < 1900 OR m < 1 OR m > 12 OR d < 1 OR d > last THEN RETURN '!id_bad_birth_date'; END IF;
      IF substr(c, 7, 8) > replace(today, '-', '') THEN RETURN '!id_future_birth_date'; END IF;
      IF ${checkChar('c')} <> substr(c, 18, 1) THEN RETURN '!id_bad_checksum'; END IF;
      RETURN c;
    END $$`,

  // rh_id_parse behind a fast path the planner inlines: a clean, plausible, correctly checked 18-character
  // value is returned as it is without a function call (most values); anything else is parsed in full.
  // Feb 29 birthdays take the full path (the leap-year test lives there). \`today\` is 'YYYY-MM-DD' text so that
  // the comparison folds to a constant (a text → date cast is only STABLE, and would stop the inlining).
  sql`CREATE OR REPLACE FUNCTION rh_id(raw text, today text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      -- 18 bytes of digits with an optional final X: the same set as '^[0-9]{17}[0-9X]$', whose bounded
      -- repetition PostgreSQL's regex engine runs 3x slower (measured 1.4 vs 0.45 µs per value)
      WHEN octet_length(raw) = 18 AND raw ~ '^[0-9]+X?$'
       AND left(raw, 2) = ANY (${sql.lit(PROVINCES)}::text[])
       AND substr(raw, 7, 4) >= '1900' AND substr(raw, 7, 8) <= replace(today, '-', '')
       AND substr(raw, 11, 2) BETWEEN '01' AND '12'
       AND substr(raw, 13, 2) BETWEEN '01' AND CASE substr(raw, 11, 2) WHEN '02' THEN '28'
             WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' ELSE '31' END
       AND ${checkChar('raw')} = substr(raw, 18, 1)
      THEN raw
      ELSE rh_id_parse(raw, today)
    END $$`,

  // Names (§5.2): no white space anywhere, middle-dot variants → '·', '-' between Han characters → '·'.
  // translate() maps the dots and drops the white space in one pass (no counterpart in the target); the regular
  // expression runs only for names with a hyphen (measured: 2.4 → ~1 µs per name).
  sql`CREATE OR REPLACE FUNCTION rh_name(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(CASE WHEN strpos(raw, '-') > 0 OR strpos(raw, '－') > 0 THEN regexp_replace(
      translate(raw, ${sql.lit(`${NAME_DOTS}${WHITESPACE}`)}, '······'),
      ${sql.lit(`([${HAN_RANGES}])[-－](?=[${HAN_RANGES}])`)}, '\\1·', 'g')
      ELSE translate(raw, ${sql.lit(`${NAME_DOTS}${WHITESPACE}`)}, '······') END, '') $$`,

  // Name comparison key: traditional → simplified by OpenCC's character table (same table as nameKey()).
  sql`CREATE OR REPLACE FUNCTION rh_name_key(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(rh_name(raw), ${sql.lit(TRAD.from)}, ${sql.lit(TRAD.to)}) $$`,

  // Free text: trimmed (ideographic space too); empty → NULL. btrim() with the character set, not a regular
  // expression: half the cost on the ~10 text columns of a row.
  sql`CREATE OR REPLACE FUNCTION rh_text(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(btrim(raw, ${sql.lit(WHITESPACE)}), '') $$`,

  // Vocabulary lookup key: no white space at all (translate() drops characters without a counterpart).
  sql`CREATE OR REPLACE FUNCTION rh_key(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(translate(raw, ${sql.lit(WHITESPACE)}, ''), '') $$`,

  // Dates (§5.3) → 'YYYY-MM-DD' or '!date_unparseable' / '!date_ambiguous'; NULL when empty. Same order of
  // patterns as parseDate(). Excel serials follow Excel's 1900 leap-year quirk (serial 60 is no date).
  sql`CREATE OR REPLACE FUNCTION rh_date_parse(raw text, tz text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE s text; p text[]; n int;
    BEGIN
      IF raw IS NULL THEN RETURN NULL; END IF;
      s := translate(regexp_replace(raw, ${sql.lit(`^${SPACE}+|${SPACE}+$`)}, '', 'g'),
                     ${sql.lit(FULLWIDTH_DIGITS)}, ${sql.lit(ASCII_DIGITS)});
      IF s = '' THEN RETURN NULL; END IF;
      -- Fast path, most values: YYYY-MM-DD, taken apart with substr instead of capture groups.
      IF s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN coalesce(rh_ymd(substr(s, 1, 4), substr(s, 6, 2), substr(s, 9, 2)), '!date_unparseable');
      END IF;
      p := regexp_match(s, ${sql.lit(DATE_YMD_SEP)});
      IF p IS NULL THEN p := regexp_match(s, ${sql.lit(DATE_COMPACT)}); END IF;
      IF p IS NULL THEN
        p := regexp_match(s, ${sql.lit(DATE_LOCAL_TS)});
      END IF;
      IF p IS NOT NULL THEN RETURN coalesce(rh_ymd(p[1], p[2], p[3]), '!date_unparseable'); END IF;
      IF s ~ ${sql.lit(DATE_SERIAL)} THEN
        n := floor(s::numeric)::int;
        IF n = 60 OR n < 1 OR n > 2958465 THEN RETURN '!date_unparseable'; END IF;
        IF n < 60 THEN RETURN (date '1899-12-31' + n)::text; END IF;
        RETURN (date '1899-12-30' + n)::text;
      END IF;
      -- With a zone (Z, UTC/GMT, +08, +0800, +08:00, after the time or a space): same pattern as ZONED_TS.
      p := regexp_match(s,
        ${sql.lit(DATE_ZONED_TS)});
      IF p IS NOT NULL THEN
        IF rh_ymd(p[1], p[2], p[3]) IS NULL THEN RETURN '!date_unparseable'; END IF;
        RETURN to_char((rh_ymd(p[1], p[2], p[3]) || ' ' || lpad(p[4], 2, '0') || ':' || p[5] || ':' || coalesce(p[7], '00')
          || CASE WHEN p[9] IN ('Z', 'UTC', 'GMT') THEN '+00:00'
                  ELSE left(p[9], 3) || ':' || coalesce(nullif(right(replace(p[9], ':', ''), -3), ''), '00') END
          )::timestamptz AT TIME ZONE tz, 'YYYY-MM-DD');
      END IF;
      IF s ~ ${sql.lit(DATE_AMBIGUOUS[0])} OR s ~ ${sql.lit(DATE_AMBIGUOUS[1])} THEN
        RETURN '!date_ambiguous';
      END IF;
      RETURN '!date_unparseable';
    END $$`,

  // rh_date_parse behind an inlined fast path for plain YYYY-MM-DD (Feb 29 and other forms: full parse).
  sql`CREATE OR REPLACE FUNCTION rh_date(raw text, tz text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND left(raw, 4) >= '1900'
       AND substr(raw, 6, 2) BETWEEN '01' AND '12'
       AND substr(raw, 9, 2) BETWEEN '01' AND CASE substr(raw, 6, 2) WHEN '02' THEN '28'
             WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' ELSE '31' END
      THEN raw
      ELSE rh_date_parse(raw, tz)
    END $$`,

  // Money in yuan → exact decimal text or '!money_unparseable'. PL/pgSQL, not SQL: the SQL form (nested
  // subqueries) is never inlined into rh_money's callers, and each call then cost ~30 µs on PostgreSQL 15 — twice a
  // row for settlements, whose amounts (4894元, "¥1,748.00") all take this path; this form ~7.5 µs, the same text
  // out on 100k rows × 2 columns.
  sql`CREATE OR REPLACE FUNCTION rh_money_parse(raw text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
      s text := nullif(regexp_replace(translate(raw, ${sql.lit(`${FULLWIDTH_DIGITS}，．`)}, ${sql.lit(`${ASCII_DIGITS},.`)}),
                                      ${sql.lit(`${SPACE}|${MONEY_NOISE}`)}, '', 'g'), '');
      v text;
    BEGIN
      IF s IS NULL THEN RETURN NULL; END IF;
      IF s ~ ${sql.lit(MONEY_PLAIN)} THEN v := s;
      -- separators only where thousands are: 12,000.50 yes; 12,00 or 1,2345 is not guessed at
      ELSIF s ~ ${sql.lit(MONEY_THOUSANDS)} THEN v := replace(s, ',', '');
      ELSE RETURN '!money_unparseable';
      END IF;
      -- the columns hold numeric(14,2): cents, below a trillion yuan
      IF v ~ ${sql.lit(MONEY_TOO_LARGE)} THEN RETURN '!money_out_of_range'; END IF;
      -- more decimals than cents (an Excel formula's 1234.5600000000001): rounded as the column would
      IF v ~ ${sql.lit(MONEY_SUB_CENT)} THEN
        IF abs(round(v::numeric, 2)) >= 1e12 THEN RETURN '!money_out_of_range'; END IF;
        RETURN round(v::numeric, 2)::text;
      END IF;
      RETURN v;
    END $$`,

  // Plain decimals within numeric(14,2) (most values) pass through inlined; anything else is parsed.
  sql`CREATE OR REPLACE FUNCTION rh_money(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN raw ~ '^-?[0-9]{1,12}(\\.[0-9]{1,2})?$' THEN raw ELSE rh_money_parse(raw) END $$`,

  sql`CREATE OR REPLACE FUNCTION rh_integer(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL WHEN s ~ ${sql.lit(INTEGER)} THEN s ELSE '!number_unparseable' END
    FROM (SELECT nullif(translate(regexp_replace(raw, ${sql.lit(`${SPACE}+`)}, '', 'g'), ${sql.lit(FULLWIDTH_DIGITS)},
                                  ${sql.lit(ASCII_DIGITS)}), '') AS s) x $$`,

  // A year (参保年度): 4 digits from 1900 to 2100, optionally followed by 年 or 年度, or an Excel number
  // written as 2026.0. Anything else is rejected: '26' or '2026-2027' is not guessed.
  sql`CREATE OR REPLACE FUNCTION rh_year(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
      WHEN s ~ ${sql.lit(YEAR)} THEN left(s, 4)
      ELSE '!number_unparseable' END
    FROM (SELECT nullif(translate(regexp_replace(raw, ${sql.lit(`${SPACE}+`)}, '', 'g'), ${sql.lit(FULLWIDTH_DIGITS)},
                                  ${sql.lit(ASCII_DIGITS)}), '') AS s) x $$`,

  sql`CREATE OR REPLACE FUNCTION rh_boolean(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN k IS NULL THEN NULL
      WHEN k IN (${words(BOOLEAN_TRUE)}) THEN 'true'
      WHEN k IN (${words(BOOLEAN_FALSE)}) THEN 'false'
      ELSE '!value_not_in_vocabulary'
    END FROM (SELECT upper(rh_key(raw)) AS k) x $$`,
];
