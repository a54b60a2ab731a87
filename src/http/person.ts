/**
 * The full picture of one person across the twelve feeds (current and past versions), their household (its id
 * from the roster, its members) and the household-level records, and their findings with history — for an
 * authorized, audited lookup. Read here once; the API serializes it for machines (personJson) and the console
 * renders it for a clerk (console/persons.ts).
 */
import { type Kysely, sql } from 'kysely';
import { isoLocal } from '../../core/clock.ts';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { maskIdNumber, maskPhone } from '../normalize/mask.ts';
import { nameKey } from '../normalize/name.ts';
import type { Database } from '../warehouse/schema.ts';

/**
 * Columns of the history tables no reader of a person needs: the version's surrogate id, the run ids (the
 * provenance shown is the file, sheet, row and load time), and the recognition hashes (bytea: a Buffer in JSON).
 */
const INTERNAL = new Set(['row_hash', 'raw_hash', 'version_id', 'run_id', 'ended_run_id']);

/**
 * Technical columns and any binary value left out (a hash column added later must not reach a page as a Buffer);
 * a phone number masked (the lookup is for checking a case, not for calling).
 */
const clean = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r)
        .filter(([k, v]) => !INTERNAL.has(k) && !Buffer.isBuffer(v))
        .map(([k, v]) => [k, k === 'phone' && typeof v === 'string' ? maskPhone(v) : v]),
    ),
  );

/** A household member as the roster holds them now (the ID masked unless it is the person looked up). */
export interface Member {
  id_number: string;
  name: string | null;
  relation: string | null;
  sex: string | null;
  labor_capacity: string | null;
}

/** One finding of the person or of their household, with its history. */
export interface PersonFinding {
  id: number;
  rule_id: string;
  department: string;
  subject_kind: string;
  state: string;
  close_reason: string | null;
  feedback: string | null;
  feedback_reason: string | null;
  first_seen_on: string;
  last_seen_on: string;
  deadline: string;
  sent_on: string | null;
  closed_on: string | null;
  details: unknown;
  history: { on: string; from: string | null; to: string; reason: string | null }[];
}

export interface PersonPicture {
  id_number: string;
  /** The household the roster puts the person in now (null: not on the roster's current version). */
  household_id: string | null;
  members: Member[];
  /** Every version of every feed's records about the person (or their household), oldest first. */
  feeds: Record<string, Record<string, unknown>[]>;
  findings: PersonFinding[];
}

export async function personPicture(db: Kysely<Database>, id: string): Promise<PersonPicture | null> {
  const own = await db
    .selectFrom('roster')
    .select('household_id')
    .where('id_number', '=', id)
    .where('valid_to', 'is', null)
    .executeTakeFirst();
  const householdId = own?.household_id ?? null;
  // The household's current members, its head first (户主, else the lowest ID, as the rules choose one).
  const members = householdId
    ? await db
        .selectFrom('roster')
        .select(['id_number', 'name', 'relation', 'sex', 'labor_capacity'])
        .where('household_id', '=', householdId)
        .where('valid_to', 'is', null)
        .orderBy(sql`relation = '户主'`, 'desc')
        .orderBy('id_number')
        .execute()
    : [];
  // A household feed's record names the household by its head's ID; a department's idea of the head may be any
  // member the roster lists, so every member's ID finds the household's records.
  const householdIds = [...new Set([id, ...members.map((m) => m.id_number)])];
  const feeds: Record<string, Record<string, unknown>[]> = {};
  let found = false;
  for (const feedId of FEED_IDS) {
    const fields = FEEDS[feedId].fields;
    const cond = fields.id_number
      ? sql`id_number = ${id}`
      : fields.head_id_number
        ? sql`head_id_number = ANY(${householdIds}::text[])`
        : null;
    if (!cond) continue;
    const rows = await sql<Record<string, unknown>>`
      SELECT * FROM ${sql.table(feedId)} WHERE ${cond} ORDER BY valid_from`.execute(db);
    feeds[feedId] = clean(rows.rows);
    if (fields.id_number && rows.rows.length) found = true;
  }
  const findings = await sql<PersonFinding>`
    SELECT f.id, f.rule_id, f.department, f.subject_kind, f.state, f.close_reason, f.feedback, f.feedback_reason,
      f.first_seen_on, f.last_seen_on, f.deadline, f.sent_on, f.closed_on, f.details,
      coalesce((SELECT jsonb_agg(jsonb_build_object('on', e.on_date, 'from', e.from_state, 'to', e.to_state,
        'reason', e.reason) ORDER BY e.id) FROM finding_events e WHERE e.finding_id = f.id), '[]') AS history
    FROM findings f
    WHERE f.id_number = ${id} OR (f.id_number IS NULL AND f.household_id = ${householdId})
    ORDER BY f.state = 'closed', f.rule_id, f.id`.execute(db);
  if (!found && !findings.rows.length) return null;
  // The other members' IDs masked, as /api/households shows them: the lookup's purpose is this person.
  const shown = members.map((m) => (m.id_number === id ? m : { ...m, id_number: maskIdNumber(m.id_number) }));
  return { id_number: id, household_id: householdId, members: shown, feeds, findings: findings.rows };
}

/**
 * The picture for machines: every instant as ISO 8601 with the county's offset (a clerk's 09:00 is 09:00+08:00,
 * not 01:00Z), dates as they are (YYYY-MM-DD).
 */
export function personJson(p: PersonPicture, timeZone: string): PersonPicture {
  const times = (rows: Record<string, unknown>[]) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, v instanceof Date ? isoLocal(timeZone, v) : v]),
      ),
    );
  return { ...p, feeds: Object.fromEntries(Object.entries(p.feeds).map(([f, rows]) => [f, times(rows)])) };
}

/** A roster person found by name and village, for a lookup that starts from what a clerk knows. */
export interface Candidate {
  /** persons.person_key: what a link to the person carries, so no full ID lands in a URL or a server log. */
  person_key: number;
  id_number: string;
  name: string;
  township: string | null;
  village: string | null;
  household_id: string;
}

/**
 * The current roster persons whose name is `name` (compared by name key: white space, middle dots and
 * traditional forms do not count) in the village `village`, by ID.
 */
export async function personsByName(
  db: Kysely<Database>,
  name: string,
  village: string,
): Promise<Candidate[]> {
  const key = nameKey(name);
  if (!key) return [];
  const rows = await db
    .selectFrom('roster as r')
    .innerJoin('persons as p', 'p.id_number', 'r.id_number')
    .select(['p.person_key', 'r.id_number', 'r.name', 'r.township', 'r.village', 'r.household_id'])
    .where('r.valid_to', 'is', null)
    .where('r.village', '=', village.trim())
    .orderBy('r.id_number')
    .execute();
  return rows.filter((r) => nameKey(r.name) === key).map((r) => ({ ...r, person_key: Number(r.person_key) }));
}

/** The ID number of the person with this surrogate key (persons.person_key), if any. */
export async function idOfPersonKey(db: Kysely<Database>, key: number): Promise<string | null> {
  const row = await db
    .selectFrom('persons')
    .select('id_number')
    .where('person_key', '=', key)
    .executeTakeFirst();
  return row?.id_number ?? null;
}
