/**
 * Builds the one set-based statement that turns raw staging into normalized staging for a feed:
 * every value through its SQL normalizer (src/warehouse/functions), problems collected per row as
 * 'field:code', skipped rows (blank, totals, footer) marked, a content hash, and two rankings for
 * de-duplication:
 *   rn  — rank among rows sharing the business key, by the feed's declared order, then later row first;
 *   hrn — the same rank among rows sharing key AND content.
 * So for each key: the winner has rn = 1; exact duplicates have hrn > 1; conflicting duplicates have
 * hrn = 1 and rn > 1 (together n − 1 rows set aside, as the ledger counts them). The statement writes 1 for
 * both; `rankDuplicates` then ranks the valid rows whose key occurs more than once — few, in most files.
 * (Ranks of rejected rows are never read.)
 */
import { createHash } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { FOOTER_PATTERN, SHAPE_PREFIX_PATTERN, TOTALS_PATTERN } from '../../connectors/row-shape.ts';
import { vocabularyKey } from '../../core/chars.ts';
import type { FeedDefinition, FieldSpec, FieldType } from '../../schemas/feed.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import { VALIDATING_KINDS } from '../normalize/patterns.ts';
import { columnTypeOf } from '../warehouse/feed-table.ts';
import { NORMALIZE_FUNCTIONS } from '../warehouse/functions/normalize-sql.ts';
import type { Database } from '../warehouse/schema.ts';
import { recognizable } from './recognize.ts';
import { rawColumn } from './stage.ts';

export interface NormalizeParams {
  feed: FeedDefinition;
  rawTable: string;
  normTable: string;
  /** canonical field → 0-based raw column */
  columns: Readonly<Record<string, number>>;
  width: number;
  /** Rows above the first record in the file (bulk path: the header line). */
  headerRow: number;
  /** Reference date for "birth date in the future". */
  today: string;
  timeZone: string;
  /**
   * The settings fingerprint (normalizationFingerprint): what else decides a row's normalized form besides its
   * raw values (normalizer code, field types, time zone, region table). Part of the raw hash, so a change of any
   * of them re-normalizes every row once.
   */
  fingerprint: string;
  /**
   * Look up rows by raw hash among the current versions (the record path). The bulk path did so in Node before
   * staging (src/load/recognize.ts): what reaches the table was not recognised there.
   */
  lookupKnown: boolean;
  /**
   * Only these raw rows, added to the existing normalized table: the rows the bulk path's normalizer in Node left
   * to SQL (src/load/normalize-bulk.ts). Without it, the table is created from every raw row.
   */
  recNos?: readonly number[];
}

const MISSING: Partial<Record<FieldType['kind'], ProblemCode>> = {
  id_number: 'id_missing',
  name: 'name_missing',
  date: 'date_missing',
};

/** The problem of an empty value of `spec`: its kind's missing code when required, else none. */
export const missingProblem = (spec: FieldSpec): ProblemCode | null =>
  spec.required ? (MISSING[spec.type.kind] ?? 'value_missing') : null;

/** The kinds whose SQL normalizer takes the raw value alone (src/warehouse/functions). */
const ONE_ARGUMENT = {
  name: 'rh_name',
  text: 'rh_text',
  money: 'rh_money',
  integer: 'rh_integer',
  year: 'rh_year',
  boolean: 'rh_boolean',
} as const satisfies Partial<Record<FieldType['kind'], string>>;

function normalizer(spec: FieldSpec, raw: RawBuilder<unknown>, p: NormalizeParams): RawBuilder<unknown> {
  const t = spec.type;
  switch (t.kind) {
    case 'id_number':
      return sql`rh_id(${raw}, ${sql.lit(p.today)})`;
    case 'date':
      return sql`rh_date(${raw}, ${sql.lit(p.timeZone)})`;
    case 'name':
    case 'text':
    case 'money':
    case 'integer':
    case 'year':
    case 'boolean':
      return sql`${sql.raw(ONE_ARGUMENT[t.kind])}(${raw})`;
    case 'enum': {
      const whens = Object.entries(t.values).flatMap(([canon, spellings]) =>
        spellings.map((s) => sql`WHEN ${sql.lit(vocabularyKey(s))} THEN ${sql.lit(canon)}`),
      );
      // A plain CASE, not a scalar subquery: a subquery here would run once per row as a SubPlan.
      return sql`CASE upper(rh_key(${raw})) ${sql.join(whens, sql` `)}
                  ELSE CASE WHEN rh_key(${raw}) IS NULL THEN NULL ELSE '!value_not_in_vocabulary' END END`;
    }
  }
}

/**
 * Region checks (DOMAIN §5.4) for feeds carrying township / village names or a village code, active once the
 * deployment's region table has rows: an unknown name or code is `region_unknown`; a name that more than one
 * region under the same parent carries is `region_ambiguous`. A village is resolved within its township when
 * the row has one; a feed without townships (water) can only be checked for the village name existing.
 * Every subquery is uncorrelated, so PostgreSQL hashes it once per load.
 */
function regionProblems(feed: FeedDefinition): RawBuilder<unknown>[] {
  const has = (f: string) => f in feed.fields;
  const active = sql`EXISTS (SELECT 1 FROM regions)`;
  const out: RawBuilder<unknown>[] = [];
  const pairs = sql`SELECT t.name, v.name FROM regions v JOIN regions t ON t.code = v.parent_code
    WHERE v.level = 'village'`;
  if (has('township')) {
    out.push(sql`CASE WHEN n.n_township IS NOT NULL AND ${active} THEN CASE
      WHEN n.n_township NOT IN (SELECT name FROM regions WHERE level = 'township') THEN 'township:region_unknown'
      WHEN n.n_township IN (SELECT name FROM regions WHERE level = 'township' GROUP BY name HAVING count(*) > 1)
        THEN 'township:region_ambiguous' END END`);
  }
  if (has('village')) {
    const withinTownship = has('township')
      ? sql`WHEN n.n_township IS NOT NULL AND (n.n_township, n.n_village) NOT IN (${pairs})
              THEN 'village:region_unknown'
            WHEN n.n_township IS NOT NULL AND (n.n_township, n.n_village) IN (${pairs} GROUP BY 1, 2 HAVING count(*) > 1)
              THEN 'village:region_ambiguous'`
      : sql``;
    out.push(sql`CASE WHEN n.n_village IS NOT NULL AND ${active} THEN CASE ${withinTownship}
      WHEN n.n_village NOT IN (SELECT name FROM regions WHERE level = 'village') THEN 'village:region_unknown' END END`);
  }
  if (has('village_code')) {
    out.push(sql`CASE WHEN n.n_village_code IS NOT NULL AND ${active}
      AND n.n_village_code NOT IN (SELECT code FROM regions WHERE level = 'village') THEN 'village_code:region_unknown' END`);
  }
  return out;
}

/**
 * 'totals', 'footer' or NULL for a row of raw cells: footerKind (connectors/row-shape.ts) in SQL, for the rows of a
 * file staged in bulk, which no connector has looked at. The same patterns over the same keys: a row's non-empty
 * cells with white space removed (rh_key strips the WHITESPACE row-shape.ts strips), the first one for the
 * cheap test and the totals rule, all of them joined by a space for the footer rule. COALESCE evaluates no
 * further than the first non-empty cell, so a data row costs one rh_key call and one regular expression; the
 * whole row is looked at only for the few rows whose first key begins like a totals or footer row.
 */
export function rowShape(cells: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  if (!cells.length) return sql`NULL::text`;
  const keys = cells.map((c) => sql`rh_key(${c})`);
  const first = sql`coalesce(${sql.join(keys)})`;
  return sql`CASE WHEN ${first} ~ ${sql.lit(SHAPE_PREFIX_PATTERN)} THEN CASE
      WHEN ${first} ~ ${sql.lit(TOTALS_PATTERN)} THEN 'totals'
      WHEN array_to_string(ARRAY[${sql.join(keys)}]::text[], ' ') ~ ${sql.lit(FOOTER_PATTERN)} THEN 'footer'
    END END`;
}

export function buildNormalize(p: NormalizeParams): RawBuilder<unknown> {
  const fields = Object.entries(p.feed.fields);
  const allRaw = Array.from({ length: p.width }, (_, i) => sql.ref(`r.${rawColumn(i)}`));
  const firstCell = allRaw.length ? sql`coalesce(${sql.join(allRaw)})` : sql`NULL::text`;

  // Level 1: one normalizer call per value; OFFSET 0 stops the planner from copying the calls upward. A row
  // whose raw values (under the same settings fingerprint) are those of a current version is not normalized again: its typed values are
  // that version's (\`known\`), which makes re-sending a snapshot with a few changed rows cost a hash join, not a
  // normalization of every value.
  const normalized = fields.map(([name, spec]) => {
    const col = p.columns[name];
    const raw = col === undefined ? sql`NULL::text` : sql.ref(`r.${rawColumn(col)}`);
    return sql`CASE WHEN k.k_hash IS NULL THEN ${normalizer(spec, raw, p)} END AS ${sql.id(`n_${name}`)}`;
  });
  const mappedRaw = fields.map(([name]) => {
    const col = p.columns[name];
    return col === undefined ? sql`NULL::text` : sql.ref(`r.${rawColumn(col)}`);
  });
  // Staged by the bulk path with the hash Node computed of the record's bytes; else the hash of its cells.
  const rawHash = sql`coalesce(r.raw_hash, decode(md5(${p.fingerprint} || ROW(${sql.join(mappedRaw)})::text), 'hex'))`;
  const known = sql`SELECT f.raw_hash AS k_hash, f.row_hash AS k_row_hash,
      ${sql.join(fields.map(([name]) => sql`${sql.ref(`f.${name}`)} AS ${sql.id(`k_${name}`)}`))}
    FROM ${sql.id(p.feed.id)} f
    WHERE ${p.lookupKnown ? recognizable(p.feed, 'f') : sql`FALSE`}`;

  // Level 2: typed values and the problem list.
  const typed = fields.map(([name, spec]) => {
    const n = sql.ref(`n.n_${name}`);
    const value = VALIDATING_KINDS.has(spec.type.kind)
      ? sql`CASE WHEN left(${n}, 1) = '!' THEN NULL ELSE ${n} END`
      : n;
    return sql`CASE WHEN n.known THEN ${sql.ref(`n.k_${name}`)} ELSE (${value})::${sql.raw(columnTypeOf(spec.type))} END AS ${sql.id(name)}`;
  });
  const problems = fields.flatMap(([name, spec]) => {
    const n = sql.ref(`n.n_${name}`);
    const missing = missingProblem(spec);
    const validating = VALIDATING_KINDS.has(spec.type.kind);
    const col = p.columns[name];
    if (!validating && !missing && col === undefined) return [];
    // A cell the connector could not decode (staged with U+FFFD, its column listed in \`damaged\`) is that, first:
    // whatever else its text would fail is a consequence. NULL for every other row: a cheap test.
    const damaged =
      col === undefined
        ? sql``
        : sql`WHEN ${sql.lit(col + 1)} = ANY(n.damaged) THEN ${sql.lit(`${name}:text_damaged`)}`;
    const rejected = validating
      ? sql`WHEN left(${n}, 1) = '!' THEN ${sql.lit(`${name}:`)} || substr(${n}, 2)`
      : sql``;
    const absent = missing ? sql`WHEN ${n} IS NULL THEN ${sql.lit(`${name}:${missing}`)}` : sql``;
    return [sql`CASE ${damaged} ${rejected} ${absent} END`];
  });
  problems.push(...regionProblems(p.feed));
  // Person resolution (src/identity) fills these for rows whose ID it links; NULL for every other row.
  const linkColumns = p.feed.identity
    ? sql`, NULL::text AS id_link, NULL::text AS link_fp, NULL::bigint[] AS link_keys`
    : sql``;

  const head = p.recNos
    ? sql`INSERT INTO ${sql.id(p.normTable)}`
    : sql`CREATE UNLOGGED TABLE ${sql.id(p.normTable)} AS`;
  const only = p.recNos ? sql`WHERE r.rec_no = ANY(${[...p.recNos]}::bigint[])` : sql``;
  return sql`
    ${head}
    SELECT t.*, 1::bigint AS rn, 1::bigint AS hrn ${linkColumns}
    FROM (
      SELECT u.rec_no, u.row_number, u.sheet, u.skip, u.raw_hash, u.known, ${sql.join(fields.map(([name]) => sql.ref(`u.${name}`)))},
             u.problems, u.skip IS NULL AND cardinality(u.problems) = 0 AS ok,
             CASE WHEN u.known THEN u.k_row_hash ELSE ${rowHash(p.feed, 'u')} END AS row_hash
      FROM (
        SELECT n.rec_no, n.row_number, n.sheet, n.skip, n.raw_hash, n.known, n.k_row_hash, ${sql.join(typed)},
               CASE WHEN n.known THEN '{}'::text[]
                    ELSE array_remove(ARRAY[${sql.join(problems)}]::text[], NULL) END AS problems
        FROM (
          SELECT r.rec_no, coalesce(r.src_row, r.rec_no + ${sql.lit(p.headerRow)})::integer AS row_number, r.sheet,
                 CASE WHEN k.k_hash IS NOT NULL THEN NULL
                      WHEN ${firstCell} IS NULL THEN 'blank'
                      ELSE ${rowShape(allRaw)} END AS skip,
                 r.r_hash AS raw_hash, k.k_hash IS NOT NULL AS known, k.k_row_hash, r.damaged,
                 ${sql.join(fields.map(([name]) => sql.ref(`k.k_${name}`)))},
                 ${sql.join(normalized)}
          FROM (SELECT r.*, ${rawHash} AS r_hash FROM ${sql.id(p.rawTable)} r ${only}) r
          LEFT JOIN (${known}) k ON k.k_hash = r.r_hash
          OFFSET 0
        ) n
        -- A second fence: the problem list, \`ok\` and the row hash are computed once per row here, instead of
        -- again inside the window sort's keys (measured: 13.9 s → 11.1 s for 500k roster rows).
        OFFSET 0
      ) u
    ) t`;
}

export const fieldNames = (feed: FeedDefinition) => Object.keys(feed.fields);

/**
 * The settings fingerprint a feed's raw-row hashes are taken under (NormalizeParams.fingerprint): the normalizers'
 * code, the feed's field types, the time zone and the region table's state. Not the reference date: it only ever
 * rejects a birth date in the future, and a row accepted on an earlier day stays acceptable.
 */
export async function normalizationFingerprint(
  db: Kysely<Database>,
  feed: FeedDefinition,
  timeZone: string,
): Promise<string> {
  const regions = await sql<{ stamp: string }>`
    SELECT count(*)::text || '@' || coalesce(max(loaded_at)::text, '') AS stamp FROM regions`.execute(db);
  const hash = createHash('sha256');
  for (const f of NORMALIZE_FUNCTIONS) hash.update(f.compile(db).sql);
  hash.update(JSON.stringify(Object.entries(feed.fields).map(([n, f]) => [n, f.type, f.required ?? false])));
  hash.update(`${timeZone}|${regions.rows[0]?.stamp ?? ''}`);
  return hash.digest('hex').slice(0, 32);
}

/** The content hash of a normalized row (`alias` names it): what snapshot diffs and exact duplicates compare. */
export const rowHash = (feed: FeedDefinition, alias: string): RawBuilder<unknown> =>
  sql`decode(md5(ROW(${sql.join(fieldNames(feed).map((name) => sql.ref(`${alias}.${name}`)))})::text), 'hex')`;

/**
 * Ranks the valid rows of `norm` whose business key occurs more than once (see the top of this file); every
 * other row keeps rn = hrn = 1. A hash aggregate finds those keys: two window sorts over every row cost 2.7 µs a
 * row (measured on 500k roster rows: 1.84 s with them, 0.51 s without) for files whose keys are mostly unique.
 * Run again by whatever changes keys or adds rows (identity linking, pull-in).
 */
export async function rankDuplicates(
  db: Kysely<Database>,
  feed: FeedDefinition,
  norm: string,
): Promise<void> {
  const { rn, hrn } = rankings(feed);
  const key = sql.join(feed.key.map((k) => sql.ref(k)));
  const keyOf = sql.join(feed.key.map((k) => sql.ref(`t.${k}`)));
  await sql`UPDATE ${sql.id(norm)} n SET rn = r.rn, hrn = r.hrn
    FROM (
      SELECT t.rec_no, ${rn} AS rn, ${hrn} AS hrn FROM ${sql.id(norm)} t
      WHERE t.ok AND (${keyOf}) IN (SELECT ${key} FROM ${sql.id(norm)} WHERE ok GROUP BY ${key} HAVING count(*) > 1)
    ) r
    WHERE n.rec_no = r.rec_no AND (n.rn, n.hrn) IS DISTINCT FROM (r.rn, r.hrn)`.execute(db);
}

/**
 * The two de-duplication ranks over rows aliased `t` (see the top of this file). Partitioned by `ok` too, so a
 * rejected row never outranks a valid one.
 */
export function rankings(feed: FeedDefinition): { rn: RawBuilder<unknown>; hrn: RawBuilder<unknown> } {
  const key = feed.key.map((k) => sql.ref(`t.${k}`));
  const order = feed.order.map(
    (o) =>
      sql`${sql.ref(`t.${o.field}`)} ${sql.raw(o.direction === 'desc' ? 'DESC NULLS LAST' : 'ASC NULLS LAST')}`,
  );
  const orderBy = sql.join([...order, sql`t.rec_no DESC`]);
  return {
    rn: sql`row_number() OVER (PARTITION BY t.ok, ${sql.join(key)} ORDER BY ${orderBy})`,
    hrn: sql`row_number() OVER (PARTITION BY t.ok, ${sql.join(key)}, t.row_hash ORDER BY ${orderBy})`,
  };
}
