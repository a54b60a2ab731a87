/**
 * Person resolution on the load path (DOMAIN §5.1): the normalized ID is the person key; a staged row whose
 * ID is missing or invalid — and which has no other problem — is linked to a person
 *   1. by an operator's earlier decision in identity review (same feed, raw ID, name key, birth date, village), or
 *   2. to the one current roster person with the same name key, birth date and village, when exactly one exists.
 * A linked row is loaded under that person's ID with `id_link` saying how; every other such row stays
 * quarantined and becomes (or refreshes) an identity-review item at publish (recordReview). Never a guess:
 * zero or several candidates, or a row without birth date or village, is never linked automatically.
 *
 * Runs between normalize and plan, so the plan, the ledger and the publish all see the linked rows as loaded.
 * Set-based: the work is proportional to the rows that need linking, except one pass over the roster (its
 * birth-date and village columns only) when some row does.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { IdLink } from '../../schemas/vocab.ts';
import type { Database } from '../warehouse/schema.ts';
import { rankDuplicates, rowHash } from './normalize-staged.ts';
import { rawColumn } from './stage.ts';

export interface LinkParams {
  feed: FeedDefinition;
  norm: string;
  raw: string;
  /** canonical field → 0-based raw column */
  columns: Readonly<Record<string, number>>;
}

export interface LinkCounts {
  /** Rows whose ID was missing or invalid and had no other problem. */
  unresolved: number;
  linked: Readonly<Record<IdLink, number>>;
}

const NONE: LinkCounts = { unresolved: 0, linked: { unique_candidate: 0, operator: 0 } };

/** The identity fields of a feed that declares them (staged rows aliased n; absent hints are NULL). */
export function identityOf(feed: FeedDefinition) {
  const id = feed.identity;
  if (!id) return undefined;
  const ref = (f: string | undefined) => (f ? sql.ref(`n.${f}`) : sql`NULL`);
  return {
    idField: id.id,
    id: sql.ref(`n.${id.id}`),
    name: ref(id.name),
    birthDate: id.birthDate ? sql`${ref(id.birthDate)}::date` : sql`NULL::date`,
    village: ref(id.village),
  };
}

/**
 * The review item's identity: the same broken record next week (same raw ID, name, birth date, village) is
 * the same item, however its row moved. The raw ID is compared with white space removed.
 */
export function fingerprintOf(
  rawId: RawBuilder<unknown>,
  name: RawBuilder<unknown>,
  birthDate: RawBuilder<unknown>,
  village: RawBuilder<unknown>,
): RawBuilder<string> {
  return sql<string>`md5(concat_ws('|', coalesce(rh_key(${rawId}), ''), coalesce(rh_name_key(${name}), ''),
    coalesce(${birthDate}::text, ''), coalesce(rh_key(${village}), '')))`;
}

export async function linkRecords(db: Kysely<Database>, p: LinkParams): Promise<LinkCounts> {
  const ident = identityOf(p.feed);
  if (!ident) return NONE;
  const norm = sql.id(p.norm);
  const col = p.columns[ident.idField];
  const rawId = col === undefined ? sql`NULL::text` : sql.ref(`r.${rawColumn(col)}`);

  // Rows to resolve: not skipped, rejected, and every problem is on the ID field.
  const marked =
    await sql`UPDATE ${norm} n SET link_fp = ${fingerprintOf(rawId, ident.name, ident.birthDate, ident.village)}
    FROM ${sql.id(p.raw)} r
    WHERE r.rec_no = n.rec_no AND n.skip IS NULL AND NOT n.ok
      AND NOT EXISTS (SELECT 1 FROM unnest(n.problems) pr WHERE split_part(pr, ':', 1) <> ${ident.idField})`.execute(
      db,
    );
  const unresolved = Number(marked.numAffectedRows ?? 0);
  if (unresolved === 0) return NONE;

  // Candidates: current roster persons born that day in that village (a hash join over two cheap columns),
  // then the name key compared on that handful only — the fence (OFFSET 0) keeps the costlier name key off
  // the scan of the whole roster.
  await sql`UPDATE ${norm} n SET link_keys = c.keys
    FROM (
      SELECT x.rec_no, array_agg(p.person_key ORDER BY p.person_key) AS keys
      FROM (
        SELECT u.rec_no, u.name_key, r.id_number, r.name
        FROM (
          SELECT n.rec_no, rh_name_key(${ident.name}) AS name_key, to_char(${ident.birthDate}, 'YYYYMMDD') AS born,
                 rh_key(${ident.village}) AS village
          FROM ${norm} n WHERE n.link_fp IS NOT NULL
        ) u
        JOIN roster r ON r.valid_to IS NULL AND substr(r.id_number, 7, 8) = u.born AND rh_key(r.village) = u.village
        OFFSET 0
      ) x
      JOIN persons p ON p.id_number = x.id_number
      WHERE rh_name_key(x.name) = x.name_key
      GROUP BY x.rec_no
    ) c
    WHERE n.rec_no = c.rec_no`.execute(db);

  // An operator's decision first, then the one candidate. `from` yields the person as p.
  const linkTo = (how: IdLink, from: RawBuilder<unknown>, where: RawBuilder<unknown>) =>
    sql`UPDATE ${norm} n SET ${sql.id(ident.idField)} = p.id_number, id_link = ${how}, problems = '{}', ok = TRUE
      FROM ${from}
      WHERE n.link_fp IS NOT NULL AND n.id_link IS NULL AND ${where}`.execute(db);
  const byOperator = await linkTo(
    'operator',
    sql`identity_review v JOIN persons p ON p.person_key = v.person_key`,
    sql`v.feed = ${p.feed.id} AND v.fingerprint = n.link_fp AND v.status = 'linked'`,
  );
  const byCandidate = await linkTo(
    'unique_candidate',
    sql`persons p`,
    sql`cardinality(n.link_keys) = 1 AND p.person_key = n.link_keys[1]`,
  );
  const linked = {
    operator: Number(byOperator.numAffectedRows ?? 0),
    unique_candidate: Number(byCandidate.numAffectedRows ?? 0),
  };
  if (linked.operator + linked.unique_candidate === 0) return { unresolved, linked };

  // A linked row now has content and a key: hash it, and rank it among the valid rows with the same key.
  await sql`UPDATE ${norm} n SET row_hash = ${rowHash(p.feed, 'n')} WHERE n.id_link IS NOT NULL`.execute(db);
  await rankDuplicates(db, p.feed, p.norm);
  return { unresolved, linked };
}
