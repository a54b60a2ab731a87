/**
 * The scope of a `findings --full-ids` approval: the listing's filter, exactly, and the number of rows it listed
 * when the approval was asked. The approval covers that filter and at most that many rows: a wider filter, or a
 * listing that has grown since (a match ran), needs a new approval — what the approver saw is what runs.
 */
import { configError } from '../../core/errors.ts';

export interface FullIdsFilter {
  /** Sorted; empty: every rule. */
  rules: string[];
  department: string | null;
  township: string | null;
  state: string;
  /** The --overdue day, or null without --overdue. */
  overdue_on: string | null;
}

export function fullIdsFilter(f: {
  rules?: readonly string[];
  department?: string;
  township?: string;
  state?: string;
  overdueOn?: string;
}): FullIdsFilter {
  return {
    rules: [...new Set(f.rules ?? [])].sort(),
    department: f.department || null,
    township: f.township || null,
    state: f.state || 'not_closed',
    overdue_on: f.overdueOn || null,
  };
}

export const findingsScope = (filter: FullIdsFilter, rows: number) => ({ filter, rows });

/** Whether an approved scope covers this listing: null when it does, else why not. */
export function coversFindings(filter: FullIdsFilter, rows: number) {
  return (scope: Record<string, unknown>): string | null => {
    const approved = scope.filter as FullIdsFilter | undefined;
    if (JSON.stringify(canonical(approved)) !== JSON.stringify(canonical(filter)))
      return `it was approved for ${describeFilter(approved)}, this listing is ${describeFilter(filter)}`;
    const max = typeof scope.rows === 'number' ? scope.rows : 0;
    if (rows > max) return `it was approved for ${max} rows and the listing now has ${rows}`;
    return null;
  };
}

const canonical = (f: FullIdsFilter | undefined) =>
  f && {
    rules: [...f.rules].sort(),
    department: f.department,
    township: f.township,
    state: f.state,
    overdue_on: f.overdue_on,
  };

/** The filter as the command's own options, the way the approval command and the refusal print it. */
export function filterOptions(f: FullIdsFilter): string[] {
  const o: string[] = [];
  if (f.rules.length) o.push('--rule', ...f.rules);
  if (f.department) o.push('--department', quote(f.department));
  if (f.township) o.push('--township', quote(f.township));
  if (f.state !== 'not_closed') o.push('--state', f.state);
  if (f.overdue_on) o.push('--overdue', '--as-of', f.overdue_on);
  return o;
}

export function describeFilter(f: FullIdsFilter | undefined): string {
  if (!f) return 'no filter';
  const o = filterOptions(f);
  return o.length ? `'${o.join(' ')}'` : 'every rule, not closed';
}

/** A value as a POSIX shell word: left bare when it is one, else in single quotes. */
function quote(v: string): string {
  return /^[\p{L}\p{N}._@/-]+$/u.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * The one line a bulk `findings --full-ids` is refused with: how many rows, the threshold, and the command that
 * asks for the approval, with this listing's filter already in it.
 */
export function fullIdsRefusal(filter: FullIdsFilter, rows: number, maxRows: number) {
  const ask = ['ruralhub approvals request findings-full-ids', ...filterOptions(filter)].join(' ');
  return configError(
    `findings --full-ids of ${rows} rows (more than ${maxRows}) needs a second person's approval: ` +
      `${ask} --by YOUR_NAME --reason '…'; once another person has run \`ruralhub approvals approve ID --by THEIR_NAME\`, ` +
      'run this again with --approval ID',
  );
}
