/**
 * The daily allowance of person lookups per API token (the API and the console together): beyond
 * `approvals.person_lookups_per_day` a token looks people up only under a `person-lookups` approval another
 * bureau token gave for that day. A lookup one at a time stays one step; what needs four eyes is a token
 * walking through the population.
 *
 * The lookups counted are the token's `person.lookup` audit rows since the start of the county's day (the
 * database's clock): the audit log is what a lookup leaves, so nothing else has to be kept in step with it.
 * Two lookups of one token at the same moment may both pass at the edge of the allowance — one lookup too many
 * at most per concurrent request, bounded by the per-minute limit; the bound is the point, not the last unit.
 *
 * An approval's scope is { token_id, day, lookups }: `lookups` more that day for that token. It is marked used
 * by the first lookup past the allowance and stays in force for the rest of that day.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../warehouse/schema.ts';

export interface LookupAllowance {
  /** Lookups this token made today, before this one. */
  used: number;
  /** The daily allowance plus what approvals for today add. */
  allowed: number;
  /** Whether this lookup may go ahead. */
  ok: boolean;
}

/**
 * Counts today's lookups of a token and, when the daily allowance is spent, the approvals that extend it; marks
 * those approvals used when this lookup is the first to need them. `today` is the county's date now.
 */
export async function personLookupAllowance(
  db: Kysely<Database>,
  p: { tokenId: number; timeZone: string; today: string; perDay: number; now: Date },
): Promise<LookupAllowance> {
  const actor = `token:${p.tokenId}`;
  // audit() writes `token:ID` or `token:ID (label)`; the partial index of migration 0023 covers the day's lookups.
  const counted = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM audit_log
    WHERE action = 'person.lookup'
      AND at >= (date_trunc('day', now() AT TIME ZONE ${p.timeZone}) AT TIME ZONE ${p.timeZone})
      AND (actor = ${actor} OR actor LIKE ${`${actor} (%`})`.execute(db);
  const used = counted.rows[0]?.n ?? 0;
  if (used < p.perDay) return { used, allowed: p.perDay, ok: true };
  const approvals = await db
    .selectFrom('approvals')
    .select(['id', 'scope', 'used_at'])
    .where('kind', '=', 'person-lookups')
    .where('requested_by', '=', actor)
    .where('decision', '=', 'approved')
    .where(sql<boolean>`scope->>'day' = ${p.today}`)
    .where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '>', p.now)]))
    .execute();
  const extra = approvals.reduce((n, a) => {
    const k = (a.scope as { lookups?: unknown }).lookups;
    return n + (typeof k === 'number' ? k : 0);
  }, 0);
  const allowed = p.perDay + extra;
  const ok = used < allowed;
  const unused = approvals.filter((a) => a.used_at === null).map((a) => Number(a.id));
  if (ok && unused.length)
    await db
      .updateTable('approvals')
      .set({ used_at: p.now })
      .where('id', 'in', unused)
      .where('used_at', 'is', null)
      .execute();
  return { used, allowed, ok };
}

/** The one line a lookup past the allowance is refused with (HTTP 403), naming how to ask. */
export const lookupRefusal = (a: LookupAllowance) =>
  `more than ${a.allowed} person lookups today by this token need a second person's approval: ` +
  "POST /api/approvals/person-lookups?lookups=N&reason=… (its id in the answer), then another bureau token's " +
  'POST /api/approvals/{id}/approve';
