/**
 * Closed vocabularies, each defined once: the `as const` list and its type. This module imports nothing, so that
 * what only names a vocabulary (a command's help text, a label) loads no validator with it (README, "Start-up");
 * schemas/vocab.ts builds the zod enums from these lists and re-exports them. A new value is added here and
 * nowhere else.
 */

// Feed ids are the feed registry's keys (pipelines/feeds/index.ts: FeedId, FEED_IDS), not a list here.

/** Write modes (ARCHITECTURE principle 4). */
export const WRITE_MODES = ['snapshot', 'incremental'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

/** Departments, by the Chinese name they use themselves (it is what appears on their lists). */
export const DEPARTMENTS = [
  '乡村振兴局',
  '教育局',
  '医保局',
  '民政局',
  '住建局',
  '水利局',
  '人社局',
  '残联',
  '公安局',
  '应急管理局',
] as const;
export type Department = (typeof DEPARTMENTS)[number];

// Rule ids are the rule registry's keys (pipelines/rules/index.ts: RuleId, RULE_IDS), not a list here.

/** Finding states of DOMAIN §7. `overdue` is derived (deadline passed), never stored. */
export const FINDING_STATES = ['open', 'sent', 'feedback', 'closed', 'reopened'] as const;
export type FindingState = (typeof FINDING_STATES)[number];

/**
 * A department's answer to a finding (DOMAIN §7), with the Chinese wording of the list's drop-down. Stored
 * in findings.feedback; the finding's state becomes `feedback`.
 */
export const FEEDBACK_ANSWERS = ['rectified', 'not_an_issue', 'in_progress'] as const;
export type FeedbackAnswer = (typeof FEEDBACK_ANSWERS)[number];
export const FEEDBACK_LABELS: Readonly<Record<FeedbackAnswer, string>> = {
  rectified: '已整改',
  not_an_issue: '核实不属实',
  in_progress: '整改中',
};

/** How a department's list and the bureau's reports name each state. */
export const FINDING_STATE_LABELS: Readonly<Record<FindingState, string>> = {
  open: '待派发',
  sent: '已派发',
  feedback: '已反馈',
  closed: '已销号',
  reopened: '重新打开',
};

export const CLOSE_REASONS = ['data', 'review'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const SUBJECT_KINDS = ['person', 'household', 'record'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

export const RUN_KINDS = ['import', 'match', 'export'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ['running', 'succeeded', 'noop', 'failed', 'held', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Levels of the region table (DOMAIN §5.4), and the 级别 words of published code lists that name them. */
export const REGION_LEVELS = ['county', 'township', 'village'] as const;
export type RegionLevel = (typeof REGION_LEVELS)[number];
export const REGION_LEVEL_WORDS: Readonly<Record<RegionLevel, readonly string[]>> = {
  county: ['county', '县', '区', '县级市', '市辖区', '旗', '县级'],
  township: ['township', '乡', '镇', '街道', '乡镇', '苏木', '乡级'],
  village: ['village', '村', '社区', '村委会', '居委会', '村级', '嘎查'],
};

/**
 * How a loaded record got the ID it is stored under when its own was missing or invalid (DOMAIN §5.1):
 * the one roster person with its name key, birth date and village, or an operator's decision in identity review.
 * A record stored under its own ID has none.
 */
export const ID_LINKS = ['unique_candidate', 'operator'] as const;
export type IdLink = (typeof ID_LINKS)[number];

/** An identity-review item: waiting for an operator, linked by one to a person, or dismissed (stays quarantined). */
export const REVIEW_STATUSES = ['open', 'linked', 'dismissed'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

/**
 * A scheduled slot's life: claimed by one scheduler (`running`), then `succeeded`, `retry` (transient fault,
 * attempts left), `failed`, `held` (a needed feed is stale; re-checked), or `skipped` (superseded by a later
 * slot after a downtime, or the feed was busy).
 */
export const SLOT_STATUSES = ['running', 'succeeded', 'retry', 'failed', 'held', 'skipped'] as const;
export type SlotStatus = (typeof SLOT_STATUSES)[number];

/**
 * Why a value was rejected. Shared by the TypeScript normalizers (src/normalize) and their SQL twins
 * (src/warehouse/functions), which are tested against each other.
 */
export const PROBLEM_CODES = [
  // ID numbers (DOMAIN §5.1)
  'id_missing',
  'id_sci_notation', // Excel showed it as 4.30102E+17: digits lost, unrecoverable
  'id_bad_format', // wrong length or characters
  'id_bad_region', // first two digits are no province code
  'id_bad_checksum',
  'id_bad_birth_date', // impossible calendar date, before 1900
  'id_future_birth_date',
  // names (§5.2)
  'name_missing',
  // dates (§5.3)
  'date_unparseable',
  'date_ambiguous',
  'date_missing',
  // money and numbers
  'money_unparseable',
  'money_out_of_range', // a trillion yuan or more: no department's amount, a shifted column or an ID
  'number_unparseable',
  // closed vocabularies in feeds
  'value_not_in_vocabulary',
  'value_missing',
  // regions (§5.4), checked when a region table is loaded
  'region_unknown', // a code or name the county's region table does not have (within its parent)
  'region_ambiguous', // a name that more than one region under the same parent carries
  // whole-row problems, found by the connector while reading
  'ragged_row', // more values than the header has columns
  'text_damaged', // a U+FFFD the source's bytes do not hold: bytes that could not be decoded
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];
const PROBLEM_CODE_SET: ReadonlySet<string> = new Set(PROBLEM_CODES);
/** A stored quarantine row's code is one of these (an older row's may not be). */
export const isProblemCode = (v: string): v is ProblemCode => PROBLEM_CODE_SET.has(v);
export type RowProblem = Extract<ProblemCode, 'ragged_row' | 'text_damaged'>;

/** Error kinds (ARCHITECTURE principle 6): decides exit code, retry and wording. */
export const ERROR_KINDS = ['config', 'transient', 'data', 'terminal'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Database dialects a department source may be (feeds.<feed>.source.dialect; connectors/sql/dialects.ts). */
export const SQL_DIALECTS = ['mysql', 'postgres'] as const;
export type SqlDialect = (typeof SQL_DIALECTS)[number];

/** What may be approved (src/approvals/approvals.ts); the table's CHECK holds the same list (migration 0023). */
export const APPROVAL_KINDS = ['findings-full-ids', 'person-lookups'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** Roles of an API token (src/http/tokens.ts). */
export const API_ROLES = ['bureau', 'operator', 'department'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Formats of a department's list (src/delivery/export-lists.ts). */
export const LIST_FORMATS = ['xlsx', 'csv'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];
