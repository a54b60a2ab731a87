/**
 * The findings listing, one query for every reader: /api/findings, the console's findings and department pages,
 * and `ruralhub findings`. It filters `findings` by rule, department, township, state and deadline; the caller
 * picks the order and the page, and a department's reader runs it inside its department scope (src/http/scope.ts),
 * so PostgreSQL still decides which rows it sees.
 */
import { type Kysely, sql } from 'kysely';
import { FINDING_STATES } from '../../schemas/vocab.ts';
import type { Database } from '../warehouse/schema.ts';

/** The state filter's words: `not_closed` (the default everywhere), `all`, or one state. */
export const FINDINGS_STATE_FILTERS = ['not_closed', 'all', ...FINDING_STATES] as const;

export interface FindingsFilter {
  /** Only these rules (absent or empty: every rule). */
  rules?: readonly string[];
  department?: string;
  township?: string;
  /** One of FINDINGS_STATE_FILTERS; absent or empty: `not_closed`. */
  state?: string;
  /** Only findings not closed whose deadline is before this day (YYYY-MM-DD). */
  overdueOn?: string;
}

/** `findings` with the filter applied; select, order and page it as the reader needs. */
export function selectFindings(db: Kysely<Database>, f: FindingsFilter) {
  let q = db.selectFrom('findings');
  if (f.rules?.length) q = q.where('rule_id', 'in', f.rules);
  if (f.department) q = q.where('department', '=', f.department);
  if (f.township) q = q.where('township', '=', f.township);
  const state = f.state || 'not_closed';
  if (state === 'not_closed') q = q.where('state', '<>', 'closed');
  else if (state !== 'all') q = q.where('state', '=', state);
  if (f.overdueOn) q = q.where('state', '<>', 'closed').where('deadline', '<', f.overdueOn);
  return q;
}

/** The columns of a findings listing (the API's items; the console and the CLI show a selection of them). */
export const FINDING_COLUMNS = [
  'id',
  'rule_id',
  'department',
  'subject_kind',
  'id_number',
  'household_id',
  'name',
  'township',
  'village',
  'state',
  'feedback',
  'first_seen_on',
  'last_seen_on',
  'deadline',
  'details',
] as const;

/** Days past the deadline on `asOf` (0 when not past). */
export const overdueDays = (asOf: string) =>
  sql<number>`greatest(0, ${asOf}::date - deadline)`.as('overdue_days');
