/**
 * The full picture of one person across the twelve feeds (current and past versions), their household's
 * household-level records, and their findings with history — for an authorized, audited lookup.
 */
import { type Kysely, sql } from 'kysely';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { maskPhone } from '../normalize/mask.ts';
import type { Database } from '../warehouse/schema.ts';

/** Technical columns of the history tables an API reader does not need. */
const INTERNAL = new Set(['row_hash', 'version_id', 'run_id', 'ended_run_id']);

/** Technical columns left out; a phone number masked (the lookup is for checking a case, not for calling). */
const clean = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r)
        .filter(([k]) => !INTERNAL.has(k))
        .map(([k, v]) => [k, k === 'phone' && typeof v === 'string' ? maskPhone(v) : v]),
    ),
  );

export interface PersonPicture {
  id_number: string;
  household_id: string | null;
  feeds: Record<string, Record<string, unknown>[]>;
  findings: Record<string, unknown>[];
}

export async function personPicture(db: Kysely<Database>, id: string): Promise<PersonPicture | null> {
  const heads = await sql<{ household_id: string; head: string }>`
    SELECT r.household_id, h.id_number AS head FROM roster r
    JOIN roster h ON h.household_id = r.household_id AND h.valid_to IS NULL AND h.relation = '户主'
    WHERE r.id_number = ${id} AND r.valid_to IS NULL`.execute(db);
  const headIds = [...new Set([id, ...heads.rows.map((h) => h.head)])];
  const feeds: Record<string, Record<string, unknown>[]> = {};
  let found = false;
  for (const feedId of FEED_IDS) {
    const fields = FEEDS[feedId].fields;
    const cond = fields.id_number
      ? sql`id_number = ${id}`
      : fields.head_id_number
        ? sql`head_id_number = ANY(${headIds}::text[])`
        : null;
    if (!cond) continue;
    const rows = await sql<Record<string, unknown>>`
      SELECT * FROM ${sql.table(feedId)} WHERE ${cond} ORDER BY valid_from`.execute(db);
    feeds[feedId] = clean(rows.rows);
    if (fields.id_number && rows.rows.length) found = true;
  }
  const findings = await sql<Record<string, unknown>>`
    SELECT f.id, f.rule_id, f.department, f.state, f.close_reason, f.feedback, f.feedback_reason,
      f.first_seen_on, f.last_seen_on, f.deadline, f.details,
      coalesce((SELECT jsonb_agg(jsonb_build_object('on', e.on_date, 'from', e.from_state, 'to', e.to_state,
        'reason', e.reason) ORDER BY e.id) FROM finding_events e WHERE e.finding_id = f.id), '[]') AS history
    FROM findings f WHERE f.id_number = ${id} ORDER BY f.rule_id`.execute(db);
  if (!found && !findings.rows.length) return null;
  return { id_number: id, household_id: heads.rows[0]?.household_id ?? null, feeds, findings: findings.rows };
}
