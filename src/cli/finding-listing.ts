/**
 * The columns of the command line's listings of findings (`findings`, `match --dry-run`). A leaf: the help texts
 * name them without loading the rules (README, "Start-up").
 */

/**
 * The columns naming a finding and its subject, as `findings` and `match --dry-run` print them (CSV/JSON): what
 * each listing adds around them is its own.
 */
export const FINDING_SUBJECT_COLUMNS = [
  'rule',
  'owner',
  'subject_kind',
  'id_number',
  'household_id',
  // A record whose ID could not be recovered has no person: it is found by its file and spreadsheet row.
  'source_file',
  'source_row',
  'name',
  'township',
  'village',
  'state',
] as const;

/** The documented column set of `ruralhub findings` (CSV/JSON). */
export const FINDING_COLUMNS = [
  'id',
  ...FINDING_SUBJECT_COLUMNS,
  'first_seen',
  'last_seen',
  'deadline',
  'overdue_days',
  'details',
] as const;
export type FindingColumn = (typeof FINDING_COLUMNS)[number];

/** What the table shows without --columns: the finding, whom it is about, where, its state and time, its details. */
export const FINDING_TABLE_COLUMNS: readonly FindingColumn[] = [
  'id',
  'rule',
  'owner',
  'id_number',
  'name',
  'township',
  'village',
  'state',
  'deadline',
  'overdue_days',
  'details',
];

/** How many findings the table shows without --limit (csv and json list every one). */
export const FINDINGS_TABLE_LIMIT = 50;
