/**
 * Identity review, the operator's side: list the records that could not be linked to exactly one person, link
 * one to a person (by surrogate key — an operator never has to type a full ID number) or dismiss it. A decision
 * takes effect at the feed's next load: the linked record is then stored under the person's ID with
 * id_link = 'operator'. Every decision is written to the append-only audit log.
 */
import { sql } from 'kysely';
import { configError } from '../../core/errors.ts';
import type { ReviewStatus } from '../../schemas/vocab.ts';
import { maskIdColumnValue, maskIdNumber } from '../normalize/mask.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';

/** The documented columns of `ruralhub identity list` (the raw ID and candidate IDs are masked). */
export const REVIEW_COLUMNS = [
  'id',
  'status',
  'feed',
  'source',
  'row_number',
  'problem',
  'raw_id',
  'name',
  'birth_date',
  'village',
  'candidates',
  'candidate_persons',
  'person_key',
  'resolved_by',
  'note',
] as const;

export type ReviewItem = Record<(typeof REVIEW_COLUMNS)[number], string | number | null>;

/** Masks what could be an ID number, whatever state it is in (a destroyed ID may still carry most digits). */
const maskRaw = (v: string | null) => (v === null ? null : maskIdColumnValue(v));

export async function listReview(
  wh: Warehouse,
  filter: { status?: ReviewStatus | 'all'; feed?: string } = {},
): Promise<ReviewItem[]> {
  const status = filter.status ?? 'open';
  const rows = await sql<{
    id: number;
    status: ReviewStatus;
    feed: string;
    source: string;
    row_number: number;
    problem: string;
    raw_id: string | null;
    name: string | null;
    birth_date: string | null;
    village: string | null;
    candidates: number;
    candidate_persons: string | null;
    person_key: number | null;
    resolved_by: string | null;
    note: string | null;
  }>`SELECT v.id, v.status, v.feed, v.source, v.row_number, v.problem, v.raw_id, v.name, v.birth_date::text,
      v.village, v.candidates, v.person_key, v.resolved_by, v.note,
      (SELECT string_agg(p.person_key || ':' || p.id_number, ' ' ORDER BY p.person_key)
         FROM persons p WHERE p.person_key = ANY (v.candidate_keys)) AS candidate_persons
    FROM identity_review v
    WHERE (${status} = 'all' OR v.status = ${status}) AND (${filter.feed ?? null}::text IS NULL OR v.feed = ${filter.feed ?? null})
    ORDER BY v.id`.execute(wh.db);
  return rows.rows.map((r) => ({
    ...r,
    raw_id: maskRaw(r.raw_id),
    // "key:ID key:ID" → "key:masked key:masked": the operator picks a key; the ID only confirms which person.
    candidate_persons:
      r.candidate_persons
        ?.split(' ')
        .map((c) => {
          const [key, id] = c.split(':');
          return `${key}:${maskIdNumber(id ?? '')}`;
        })
        .join(' ') ?? null,
  }));
}

export interface Decision {
  ids: readonly number[];
  actor: string;
  note?: string | undefined;
}

/** Links items to one person (re-linking corrects an earlier decision). Returns the ids changed. */
export async function linkReview(wh: Warehouse, d: Decision & { personKey: number }): Promise<number[]> {
  const person = await wh.db
    .selectFrom('persons')
    .select('person_key')
    .where('person_key', '=', d.personKey)
    .executeTakeFirst();
  if (!person) throw configError(`--person ${d.personKey}: no person has that key (see candidate_persons)`);
  return decide(wh, d, 'linked', d.personKey);
}

/** Dismisses items: the records stay quarantined, and the same record next time stays dismissed. */
export function dismissReview(wh: Warehouse, d: Decision): Promise<number[]> {
  return decide(wh, d, 'dismissed', null);
}

async function decide(
  wh: Warehouse,
  d: Decision,
  status: Exclude<ReviewStatus, 'open'>,
  personKey: number | null,
): Promise<number[]> {
  return wh.db.transaction().execute(async (trx) => {
    // All or nothing: a mistyped id is the operator's mistake (exit 2, like an unknown --person), and the
    // items typed beside it are left undecided rather than half the decision applied.
    const found = await trx
      .selectFrom('identity_review')
      .select('id')
      .where('id', 'in', [...d.ids])
      .execute();
    const known = new Set(found.map((r) => Number(r.id)));
    const missing = [...new Set(d.ids)].filter((id) => !known.has(id));
    if (missing.length)
      throw configError(
        `no identity-review item ${missing.join(', ')} (\`ruralhub identity list --status all\` lists them); nothing was changed`,
      );
    const done = await trx
      .updateTable('identity_review')
      .set({
        status,
        person_key: personKey,
        resolved_by: d.actor,
        resolved_at: sql`now()`,
        note: d.note ?? null,
      })
      // Any item, linked ones too: a wrong link must be correctable (the next load moves the record).
      .where('id', 'in', [...d.ids])
      .returning('id')
      .execute();
    const ids = done.map((r) => r.id);
    await writeAudit(trx, {
      actor: d.actor,
      role: 'operator',
      action: `identity.${status === 'linked' ? 'link' : 'dismiss'}`,
      target: ids.join(','),
      rowCount: ids.length,
      details: { requested: d.ids.length, person_key: personKey, note: d.note ?? null },
    });
    return ids;
  });
}

/** Decisions on a feed's items since `since` (a later load of the same file must apply them). */
export async function decisionsSince(
  db: Warehouse['db'],
  /** A feed id: the registry's or an extension's (the loader asks for any feed it loads). */
  feed: string,
  since: Date | string | null,
): Promise<number> {
  if (since === null) return 0;
  const r = await db
    .selectFrom('identity_review')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('feed', '=', feed)
    .where('resolved_at', '>', new Date(since))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
