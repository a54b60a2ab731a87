/**
 * At publish, in the run's transaction: every staged row that needed linking and was not linked becomes an
 * identity-review item, or refreshes the one it already is (same fingerprint: its latest position, problem and
 * candidates). An item's status is the operator's and is never changed here; a `dismissed` item stays dismissed
 * when the same record comes again, and its row stays quarantined.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../warehouse/schema.ts';
import { identityOf } from './link-identities.ts';
import { rawColumn, type StagedRun } from './stage.ts';

/** Returns the number of items written (new or refreshed). */
export async function recordReview(trx: Kysely<Database>, p: StagedRun): Promise<number> {
  const ident = identityOf(p.feed);
  if (!ident) return 0;
  const col = p.columns[ident.idField];
  const rawId = col === undefined ? sql`NULL::text` : sql`rh_text(${sql.ref(`r.${rawColumn(col)}`)})`;
  const r =
    await sql`INSERT INTO identity_review (feed, fingerprint, problem, raw_id, name, birth_date, village,
      candidates, candidate_keys, source, sheet, row_number, first_run_id, last_run_id)
    SELECT DISTINCT ON (n.link_fp) ${p.feed.id}, n.link_fp, split_part(n.problems[1], ':', 2), ${rawId},
      ${ident.name}, ${ident.birthDate}, ${ident.village}, coalesce(cardinality(n.link_keys), 0),
      coalesce(n.link_keys, '{}'), ${p.source}, n.sheet, n.row_number, ${p.runId}, ${p.runId}
    FROM ${sql.id(p.norm)} n
    JOIN ${sql.id(p.raw)} r ON r.rec_no = n.rec_no
    WHERE n.link_fp IS NOT NULL AND n.id_link IS NULL
    ORDER BY n.link_fp, n.rec_no
    ON CONFLICT (feed, fingerprint) DO UPDATE SET
      problem = excluded.problem, candidates = excluded.candidates, candidate_keys = excluded.candidate_keys,
      source = excluded.source, sheet = excluded.sheet, row_number = excluded.row_number,
      last_run_id = excluded.last_run_id`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}
