/**
 * Where a finding came from (issue 21): for every event a match writes — opened, reopened, closed by data — the
 * records behind it, in `finding_lineage` (migration 0021); and the reader `ruralhub findings --explain` shows.
 *
 * The records behind an event are the versions, valid at the match's as-of date (`validAt`, the rules' own
 * predicate), of each feed the rule requires or uses, that belong to the finding's subject:
 *   person    — the feed's person column (`identity.id`, else `surrogate.person`) equals the finding's ID number;
 *   household — a feed declaring the household (`surrogate.household`: the roster) by that column; any other feed
 *               by its person column against the household's members, read from the rule's feed that declares
 *               both (the roster's members at the as-of). Household feeds of the catalog (住房, 饮水, 灾情) are
 *               keyed by one member's ID — normally the head's, but not always — so the members, not the head
 *               alone, find them, as R08 does. Without such a feed among the rule's, the head's ID is used;
 *   record    — the versions loaded from the finding's file and row (`details.file`, `details.row`: what a record
 *               finding is found by), and the rows of the feeds' loads standing at the as-of date quarantined from that file and row
 *               (R13's rejected IDs have no version: the row is what made the finding; R13 reads the same loads).
 * A closed-by-data event gets the same: what the data said about the subject when the rule stopped finding it
 * (possibly nothing: the subject left every feed). Moves not made by a match (export, answer, review) have no
 * lineage: no data made them.
 *
 * This is wider than the rule's own join: every version of the subject in the rule's feeds, not only the rows the
 * rule's condition picked (R02's insurance rows of other years, say). Reading the rule's own choice would mean a
 * second query per rule; the subject's versions are what an operator checks a finding against.
 *
 * One set-based INSERT … SELECT per rule run (ARCHITECTURE principle 10), in the run's transaction after the
 * transitions: the events of the run are found by their run id (one event per finding per run). A dry run does not
 * call it (its transaction is rolled back, and would take the lineage with it).
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { loadsAt, validAt } from '../../pipelines/rules/as-of.ts';
import type { RuleInfo } from '../../pipelines/rules/rule.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { maskIdNumber, maskIdNumberFields } from '../normalize/mask.ts';
import type { Database } from '../warehouse/schema.ts';

/** Feed declarations by id: the project's registry, or an extension's. */
export type FeedLookup = Readonly<Record<string, FeedDefinition>>;

export interface LineageParams {
  rule: Pick<RuleInfo, 'id' | 'requires' | 'uses'>;
  /** The match run whose events get their lineage (a dry run's 0 too). */
  runId: number;
  asOf: string;
  /**
   * Default: the project's feeds. A feed the rule names that is not here (an extension's, when its declaration is
   * not passed) has no lineage rows: which column names its person is in its declaration only.
   */
  feeds?: FeedLookup;
}

/** The column of a feed naming the person a record is about: its identity ID, else its surrogate person. */
export const personColumn = (f: FeedDefinition): string | undefined => f.identity?.id ?? f.surrogate?.person;

/** `jsonb_build_object('k', <value of k>, …)` over a feed's key fields. */
function keyObject(feed: FeedDefinition, value: (field: string) => RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`jsonb_build_object(${sql.join(feed.key.flatMap((k) => [sql.lit(k), value(k)]))})`;
}

/**
 * Writes the lineage of every event run `runId` wrote for `rule`'s findings; returns the rows written. Call it in
 * the run's transaction after the transitions (src/matching/run-match.ts).
 */
export async function insertFindingLineage(trx: Kysely<Database>, p: LineageParams): Promise<number> {
  const lookup = new Map<string, FeedDefinition>(Object.entries(p.feeds ?? FEEDS));
  const feeds = [...new Set([...p.rule.requires, ...(p.rule.uses ?? [])])]
    .map((id) => lookup.get(id))
    .filter((f): f is FeedDefinition => f !== undefined);
  if (feeds.length === 0) return 0;
  const { asOf } = p;
  // The household's members: the rule's feed that says both who a person is and which household (the roster).
  const members = feeds.find((f) => f.surrogate?.household && personColumn(f));

  const versionColumns = (feed: FeedDefinition) =>
    sql`ev.event_id, ev.finding_id, ${feed.id}::text AS feed, v.version_id, NULL::bigint AS quarantine_id,
        v.run_id, v.source, v.sheet, v.row_number, ${keyObject(feed, (k) => sql.ref(`v.${k}`))} AS record_key`;
  const branches: RawBuilder<unknown>[] = [];
  for (const feed of feeds) {
    const table = sql`${sql.table(feed.id)} AS v`;
    const person = personColumn(feed);
    const household = feed.surrogate?.household;
    const cols = versionColumns(feed);
    if (person) {
      branches.push(sql`SELECT ${cols} FROM ev
        JOIN ${table} ON ${sql.ref(`v.${person}`)} = ev.id_number AND ${validAt('v', asOf)}
        WHERE ev.subject_kind = 'person'`);
    }
    if (household) {
      branches.push(sql`SELECT ${cols} FROM ev
        JOIN ${table} ON ${sql.ref(`v.${household}`)} = ev.household_id AND ${validAt('v', asOf)}
        WHERE ev.subject_kind = 'household'`);
    } else if (person && members) {
      const mPerson = personColumn(members)!;
      const mHousehold = members.surrogate!.household!;
      branches.push(sql`SELECT ${cols} FROM ev
        JOIN ${sql.table(members.id)} AS m ON ${sql.ref(`m.${mHousehold}`)} = ev.household_id AND ${validAt('m', asOf)}
        JOIN ${table} ON ${sql.ref(`v.${person}`)} = ${sql.ref(`m.${mPerson}`)} AND ${validAt('v', asOf)}
        WHERE ev.subject_kind = 'household'`);
    } else if (person) {
      branches.push(sql`SELECT ${cols} FROM ev
        JOIN ${table} ON ${sql.ref(`v.${person}`)} = ev.id_number AND ${validAt('v', asOf)}
        WHERE ev.subject_kind = 'household'`);
    }
    // Feed tables have no index on (source, row_number): the one-time filter (an uncorrelated EXISTS) keeps a
    // run without record events from scanning every feed table of the rule.
    branches.push(sql`SELECT ${cols} FROM ev
      JOIN ${table} ON v.source = ev.file AND v.row_number = ev.row AND ${validAt('v', asOf)}
      WHERE ev.subject_kind = 'record' AND EXISTS (SELECT 1 FROM ev WHERE ev.subject_kind = 'record')`);
    // The quarantined rows of the feed's load that stood at the as-of date, as R13 judges them (loadsAt).
    branches.push(sql`SELECT DISTINCT ON (ev.event_id, q.sheet, q.row_number)
        ev.event_id, ev.finding_id, ${feed.id}::text, NULL::bigint, q.id, q.run_id, q.source, q.sheet,
        q.row_number, ${keyObject(feed, (k) => sql`q.record -> ${sql.lit(k)}`)}
      FROM ev
      JOIN quarantine q ON q.feed = ${feed.id} AND q.source = ev.file AND q.row_number = ev.row
        AND q.run_id IN (${loadsAt(asOf)})
      WHERE ev.subject_kind = 'record'
      ORDER BY ev.event_id, q.sheet, q.row_number, q.id`);
  }
  const result = await sql`
    WITH ev AS MATERIALIZED (
      SELECT e.id AS event_id, e.finding_id, f.subject_kind, f.id_number, f.household_id,
             f.details ->> 'file' AS file,
             CASE WHEN f.details ->> 'row' ~ '^[0-9]{1,9}$' THEN (f.details ->> 'row')::int END AS row
      FROM finding_events e JOIN findings f ON f.id = e.finding_id
      WHERE e.run_id = ${p.runId} AND f.rule_id = ${p.rule.id}
    )
    INSERT INTO finding_lineage (finding_id, event_id, match_run_id, as_of, feed, version_id, quarantine_id,
                                 run_id, source, sheet, row_number, data_date, record_key)
    SELECT b.finding_id, b.event_id, ${p.runId}, ${asOf}::date, b.feed, b.version_id, b.quarantine_id,
           b.run_id, b.source, b.sheet, b.row_number, r.data_date, b.record_key
    FROM (${sql.join(
      branches.map((b) => sql`(${b})`),
      sql` UNION ALL `,
    )}) AS b (event_id, finding_id, feed, version_id, quarantine_id, run_id, source, sheet, row_number, record_key)
    LEFT JOIN runs r ON r.id = b.run_id`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/** One record behind an event, as the lineage copied it. */
export interface LineageRecord {
  feed: string;
  version_id: number | null;
  quarantine_id: number | null;
  run_id: number;
  source: string;
  sheet: string | null;
  row_number: number;
  data_date: string | null;
  record_key: Record<string, unknown>;
}

/** One event of a finding, with the records behind it (none for moves not made by a match). */
export interface EventLineage {
  id: number;
  on_date: string;
  from_state: string | null;
  to_state: string;
  reason: string;
  run_id: number | null;
  /** The as-of date of the match that made it; null for moves not made by a match. */
  as_of: string | null;
  records: LineageRecord[];
}

export interface FindingLineage {
  finding: {
    id: number;
    rule_id: string;
    department: string;
    subject_kind: string;
    subject_key: string;
    id_number: string | null;
    household_id: string | null;
    name: string | null;
    township: string | null;
    village: string | null;
    state: string;
    close_reason: string | null;
    first_seen_on: string;
    last_seen_on: string;
    deadline: string;
    details: unknown;
  };
  events: EventLineage[];
}

/**
 * A finding, its events in order and the records behind each; null when there is no such finding (or the
 * session's department scope hides it). Unfiltered: the caller decides who may see it and masks what it shows.
 */
export async function readFindingLineage(db: Kysely<Database>, id: number): Promise<FindingLineage | null> {
  const finding = await db
    .selectFrom('findings')
    .select([
      'id',
      'rule_id',
      'department',
      'subject_kind',
      'subject_key',
      'id_number',
      'household_id',
      'name',
      'township',
      'village',
      'state',
      'close_reason',
      'first_seen_on',
      'last_seen_on',
      'deadline',
      'details',
    ])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!finding) return null;
  const events = await db
    .selectFrom('finding_events')
    .select(['id', 'on_date', 'from_state', 'to_state', 'reason', 'run_id'])
    .where('finding_id', '=', id)
    .orderBy('id')
    .execute();
  const lineage = await db
    .selectFrom('finding_lineage')
    .select([
      'event_id',
      'as_of',
      'feed',
      'version_id',
      'quarantine_id',
      'run_id',
      'source',
      'sheet',
      'row_number',
      'data_date',
      'record_key',
    ])
    .where('finding_id', '=', id)
    .orderBy('event_id')
    .orderBy('feed')
    .orderBy('source')
    .orderBy('sheet')
    .orderBy('row_number')
    .orderBy('id')
    .execute();
  return {
    finding: { ...finding, id: Number(finding.id) },
    events: events.map((e) => {
      const mine = lineage.filter((l) => Number(l.event_id) === Number(e.id));
      return {
        id: Number(e.id),
        on_date: e.on_date,
        from_state: e.from_state,
        to_state: e.to_state,
        reason: e.reason,
        run_id: e.run_id === null ? null : Number(e.run_id),
        // A match's events are dated by its as-of; one that found no record (a subject gone from every feed) too.
        as_of: mine[0]?.as_of ?? (e.run_id === null ? null : e.on_date),
        records: mine.map(({ event_id: _e, as_of: _a, ...l }) => ({
          ...l,
          version_id: l.version_id === null ? null : Number(l.version_id),
          quarantine_id: l.quarantine_id === null ? null : Number(l.quarantine_id),
          run_id: Number(l.run_id),
          record_key: (l.record_key ?? {}) as Record<string, unknown>,
        })),
      };
    }),
  };
}

/** A record behind an event as a reader shows it: the feed's title, the key fields by their Chinese labels. */
export interface ShownRecord {
  feed: string;
  /** The feed's Chinese title (防返贫监测对象名册 …); the id for a feed no longer declared. */
  feed_title: string;
  /** `version`: a feed version; `quarantined`: a row rejected by its load (no version exists). */
  kind: 'version' | 'quarantined';
  version_id: number | null;
  /** The record's key fields: label → value (an enum by its first Chinese spelling, ID numbers masked). */
  key: Record<string, string | null>;
  source: string;
  sheet: string | null;
  row: number;
  run_id: number;
  data_date: string | null;
}

export interface ShownLineage {
  finding: Omit<FindingLineage['finding'], 'subject_key' | 'id'> & { id: number };
  events: (Omit<EventLineage, 'records'> & { records: ShownRecord[] })[];
}

/**
 * The lineage as a bureau reader shows it: ID numbers masked (first 4 + last 4, the one mask) in the finding, its
 * details and the records' keys, unless `fullIds` (which the caller audits); the subject key, which holds the ID,
 * is left out.
 */
export function presentLineage(
  l: FindingLineage,
  opts: { fullIds: boolean; feeds?: FeedLookup },
): ShownLineage {
  const lookup = new Map<string, FeedDefinition>(Object.entries(opts.feeds ?? FEEDS));
  const mask = (v: string | null) => (v === null || opts.fullIds ? v : maskIdNumber(v));
  const { subject_key: _s, ...f } = l.finding;
  const details =
    f.details && typeof f.details === 'object'
      ? opts.fullIds
        ? f.details
        : maskIdNumberFields(f.details as Record<string, unknown>)
      : f.details;
  const keyOf = (feed: FeedDefinition | undefined, r: LineageRecord) => {
    const key: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(r.record_key)) {
      const spec = feed?.fields[name];
      const text = value === null || value === undefined ? null : String(value);
      const type = spec?.type;
      const shown =
        text === null
          ? null
          : type?.kind === 'id_number'
            ? mask(text)
            : type?.kind === 'enum' && r.version_id !== null
              ? (type.values[text]?.[0] ?? text)
              : text;
      key[spec ? (spec.label ?? spec.aliases[0] ?? name) : name] = shown;
    }
    return key;
  };
  return {
    finding: { ...f, id_number: mask(f.id_number), details },
    events: l.events.map((e) => ({
      ...e,
      records: e.records.map((r) => {
        const feed = lookup.get(r.feed);
        return {
          feed: r.feed,
          feed_title: feed?.title ?? r.feed,
          kind: r.version_id !== null ? 'version' : 'quarantined',
          version_id: r.version_id,
          key: keyOf(feed, r),
          source: r.source,
          sheet: r.sheet,
          row: r.row_number,
          run_id: r.run_id,
          data_date: r.data_date,
        };
      }),
    })),
  };
}
