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
