/**
 * Kysely's view of the warehouse tables (migrations are the source of truth; keep this in step).
 * Feed tables hold every version of a record: the current one has valid_to = NULL. Their types are derived from
 * the feed registry (pipelines/feeds/index.ts), as their tables are (src/warehouse/feed-table.ts): a new feed
 * needs no edit here.
 */
import type { ColumnType, Generated } from 'kysely';
import type { DECLARED_FEEDS, FeedId } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition, FieldSpec } from '../../schemas/feed.ts';
import type { FeedbackAnswer, IdLink, RegionLevel, ReviewStatus, SlotStatus } from '../../schemas/vocab.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** `date` columns come back as 'YYYY-MM-DD' strings (the pg type parser is set so in connect.ts). */
type DateText = ColumnType<string, string, string>;
/** `bigint` columns come back as numbers: counts and ids stay far below 2^53 (set in connect.ts). */
type Int8 = number;
/** A timestamp the database fills in by default. */
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Numeric = ColumnType<string, string | number, string | number>;

export interface RunsTable {
  id: Generated<Int8>;
  kind: string;
  feed: string | null;
  status: string;
  source: string | null;
  source_sha256: string | null;
  started_at: GeneratedTimestamp;
  finished_at: Timestamp | null;
  rows_read: Generated<Int8>;
  rows_loaded: Generated<Int8>;
  rows_new: Generated<Int8>;
  rows_changed: Generated<Int8>;
  rows_unchanged: Generated<Int8>;
  rows_ended: Generated<Int8>;
  rows_quarantined: Generated<Int8>;
  exact_duplicates: Generated<Int8>;
  conflicting_duplicates: Generated<Int8>;
  rows_skipped: Generated<Int8>;
  details: Generated<unknown>;
  error: string | null;
  pid: number | null;
  /** The date the loaded data describes (migration 0019); NULL before it, and until a run knows it. */
  data_date: DateText | null;
  /** Where the data date came from: 'flag', 'job', 'file …' (with sheet and row) or 'load_day'. */
  data_date_from: string | null;
}

export interface FeedStateTable {
  feed: string;
  last_run_id: Int8 | null;
  last_sha256: string | null;
  /** Hash of the load's settings besides the file (migration 0011); NULL before it. */
  last_settings_hash: string | null;
  last_bytes: Int8 | null;
  cursor: string | null;
  last_success_at: Timestamp | null;
  current_rows: Generated<Int8>;
  /** Replaced by every statement that writes the feed's table (trigger of migration 0014). */
  generation: string | null;
  /** The generation recognition_cache describes; the cache is trusted only while it equals `generation`. */
  cache_generation: string | null;
}

export interface RecognitionCacheTable {
  feed: string;
  seq: Generated<Int8>;
  image: Buffer | null;
  pairs: Buffer | null;
  ids: Buffer | null;
  removed: Buffer | null;
}

export interface QuarantineTable {
  id: Generated<Int8>;
  run_id: Int8;
  feed: string;
  source: string;
  sheet: string | null;
  row_number: number;
  field: string | null;
  raw_value: string | null;
  problem: string;
  detail: string | null;
  /** The whole raw row: canonical field → raw cell text (migration 0003). */
  record: unknown;
  /** The day retention emptied raw_value and record (migration 0022); NULL while they are kept. */
  raw_purged_on: DateText | null;
}

export interface LoadConflictsTable {
  run_id: Int8;
  feed: string;
  business_key: string;
  source: string;
  row_number: number;
  winner_row: number;
  /** Both rows' person ID when they share it, and their names when these differ (migration 0012). */
  person_id: string | null;
  name: string | null;
  winner_name: string | null;
}

interface HistoryColumns {
  version_id: Generated<Int8>;
  row_hash: Buffer;
  /** Hash of the raw values (under the settings fingerprint) the version was made from; NULL before migration 0010. */
  raw_hash: Buffer | null;
  valid_from: Timestamp;
  valid_to: Timestamp | null;
  run_id: Int8;
  ended_run_id: Int8 | null;
  source: string;
  sheet: string | null;
  row_number: number;
  /** The data dates the version describes, [data_from, data_to) (migration 0020); data_to NULL while current. */
  data_from: DateText;
  data_to: DateText | null;
}

/** Column type of a declared field as the warehouse returns it. */
type ColumnOf<S extends FieldSpec> = S['type']['kind'] extends 'date'
  ? DateText
  : S['type']['kind'] extends 'money'
    ? Numeric
    : S['type']['kind'] extends 'integer' | 'year'
      ? number
      : S['type']['kind'] extends 'boolean'
        ? boolean
        : string;

/**
 * A feed's table type, derived from its declaration as the table is (src/warehouse/feed-table.ts): its fields
 * (required ones NOT NULL, the others nullable), the history columns, and `id_link` when it declares `identity`.
 */
type FeedTable<F extends FeedDefinition> = HistoryColumns &
  (F extends { identity: object } ? { id_link: IdLink | null } : unknown) & {
    [K in keyof F['fields']]: F['fields'][K] extends { required: true }
      ? ColumnOf<F['fields'][K]>
      : ColumnOf<F['fields'][K]> | null;
  };

/** The project's feed tables, by feed id. */
type FeedTables = { [K in FeedId]: FeedTable<(typeof DECLARED_FEEDS)[K]> };

export interface FindingsTable {
  id: Generated<Int8>;
  rule_id: string;
  subject_key: string;
  subject_kind: string;
  department: string;
  state: string;
  close_reason: string | null;
  id_number: string | null;
  household_id: string | null;
  name: string | null;
  township: string | null;
  village: string | null;
  details: Generated<unknown>;
  first_seen_on: DateText;
  first_seen_run: Int8;
  last_seen_on: DateText;
  last_seen_run: Int8;
  deadline: DateText;
  sent_on: DateText | null;
  closed_on: DateText | null;
  feedback: FeedbackAnswer | null;
  feedback_reason: string | null;
  rectified_on: DateText | null;
  feedback_on: DateText | null;
  list_version: string | null;
}

export interface FindingEventsTable {
  id: Generated<Int8>;
  finding_id: Int8;
  run_id: Int8 | null;
  at: GeneratedTimestamp;
  from_state: string | null;
  to_state: string;
  reason: string;
  /** Defaults to the current date; transitions pass their business date. */
  on_date: ColumnType<string, string | undefined, string>;
}

/**
 * A record behind a finding's event (migration 0021): a feed version valid at the match's as-of that belongs to
 * the finding's subject, or the quarantined row of a rejected record. What the version said is copied, so the
 * row stays readable after later loads end the version.
 */
export interface FindingLineageTable {
  id: Generated<Int8>;
  finding_id: Int8;
  event_id: Int8;
  match_run_id: Int8;
  as_of: DateText;
  feed: string;
  version_id: Int8 | null;
  quarantine_id: Int8 | null;
  /** The load that wrote the version (or quarantined the row). */
  run_id: Int8;
  source: string;
  sheet: string | null;
  row_number: number;
  /** runs.data_date of that load; NULL when unknown (loads before 0019). */
  data_date: DateText | null;
  /** The record's key fields (canonical name → value; a quarantined row's raw text). */
  record_key: Generated<unknown>;
}

export interface AuditLogTable {
  id: Generated<Int8>;
  at: GeneratedTimestamp;
  actor: string;
  role: string;
  department: string | null;
  action: string;
  target: string | null;
  row_count: Generated<number>;
  details: Generated<unknown>;
  /** inet: the remote address of an API or console request; NULL for the CLI and the scheduler. */
  client_addr: string | null;
  /** The hash chain (migration 0017): set by the database's trigger only, so never written from here. */
  chain_seq: ColumnType<Int8, never, never>;
  prev_hash: ColumnType<string, never, never>;
  row_hash: ColumnType<string, never, never>;
}

export interface AuditChainHeadTable {
  one: ColumnType<boolean, never, never>;
  seq: ColumnType<Int8, never, never>;
  hash: ColumnType<string, never, never>;
}

export interface JobSlotsTable {
  job: string;
  slot: Date;
  kind: string;
  status: SlotStatus;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  claimed_by: string | null;
  claimed_at: Date | null;
  finished_at: Date | null;
  run_ids: Generated<Int8[]>;
  error: string | null;
}

export interface ApiTokensTable {
  id: Generated<Int8>;
  token_sha256: string;
  role: string;
  department: string | null;
  label: string | null;
  created_at: GeneratedTimestamp;
  last_used_at: Date | null;
  revoked_at: Date | null;
  /** NULL: never expires. */
  expires_at: Date | null;
}

/** A console login (migration 0016): the cookie's random id, stored hashed, for one token. */
export interface ConsoleSessionsTable {
  id: Generated<Int8>;
  session_sha256: string;
  token_id: Int8;
  created_at: GeneratedTimestamp;
  last_seen_at: GeneratedTimestamp;
}

export interface RegionsTable {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
  loaded_at: GeneratedTimestamp;
}

export interface PersonsTable {
  person_key: Generated<Int8>;
  /** NULL once retention purged it (migration 0022: the person left monitoring and every list long ago). */
  id_number: string | null;
  first_run_id: Int8 | null;
  first_seen: Generated<Timestamp>;
  /** The day retention purged the ID number; NULL exactly while id_number is kept. */
  id_purged_on: DateText | null;
}

/**
 * What deleted closed findings contributed to the monthly report (migration 0022), counted, without persons:
 * per month and state at its end; an `onward` row holds for its month and every later one.
 */
export interface RetiredFindingMonthsTable {
  id: Generated<Int8>;
  /** The month's first day. */
  month: DateText;
  onward: boolean;
  rule_id: string;
  department: string;
  township: string;
  village: string;
  /** The findings' state at the month's end. */
  state: string;
  n: number;
  open_at_start: number;
  new: number;
  closed: number;
  closed_by_review: number;
  reopened: number;
  /** Of the n, not closed and past their deadline at the month's end. */
  overdue: number;
  max_days_overdue: number | null;
  retired_on: DateText;
}

export interface HouseholdsTable {
  household_key: Generated<Int8>;
  household_id: string;
  first_run_id: Int8 | null;
  first_seen: Generated<Timestamp>;
}

export interface IdentityReviewTable {
  id: Generated<Int8>;
  /** The feed's id: one of the registry's, or an extension's. */
  feed: string;
  fingerprint: string;
  status: Generated<ReviewStatus>;
  problem: string;
  raw_id: string | null;
  name: string | null;
  birth_date: DateText | null;
  village: string | null;
  candidates: number;
  candidate_keys: Generated<string[]>;
  source: string;
  sheet: string | null;
  row_number: number;
  first_run_id: Int8;
  last_run_id: Int8;
  person_key: Int8 | null;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
  note: string | null;
}

/**
 * An approval of a bulk operation (migration 0023): asked by one principal, decided once by another, used once.
 * Principals are written as `cli:NAME` or `token:ID` (src/approvals/approvals.ts).
 */
export interface ApprovalsTable {
  id: Generated<Int8>;
  /** One of APPROVAL_KINDS (src/approvals/approvals.ts); the table's check holds the same list. */
  kind: string;
  /** What exactly is approved, compared with the operation that uses it. */
  scope: unknown;
  requested_by: string;
  reason: string;
  requested_at: GeneratedTimestamp;
  decided_by: string | null;
  decision: 'approved' | 'denied' | null;
  decided_at: Timestamp | null;
  decision_reason: string | null;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface Database extends FeedTables {
  runs: RunsTable;
  feed_state: FeedStateTable;
  recognition_cache: RecognitionCacheTable;
  quarantine: QuarantineTable;
  load_conflicts: LoadConflictsTable;
  findings: FindingsTable;
  finding_events: FindingEventsTable;
  finding_lineage: FindingLineageTable;
  audit_log: AuditLogTable;
  audit_chain_head: AuditChainHeadTable;
  job_slots: JobSlotsTable;
  api_tokens: ApiTokensTable;
  console_sessions: ConsoleSessionsTable;
  regions: RegionsTable;
  persons: PersonsTable;
  households: HouseholdsTable;
  identity_review: IdentityReviewTable;
  retired_finding_months: RetiredFindingMonthsTable;
  approvals: ApprovalsTable;
}
