/**
 * A dry-run backfill: what a match at each of several reference dates would produce, against the findings as
 * they stand now. Each date is one dry run of the catalog (runMatch with `dryRun`): the rules' own statements,
 * rolled back, so nothing is written — no run-ledger row, finding or event. A real backfill is not offered: it
 * would close, reopen and re-date the live findings date after date, and the departments' lists with them.
 */
import type { RuleId } from '../../pipelines/rules/index.ts';
import { type DryRunFinding, type MatchParams, type RuleOutcome, runMatch } from './run-match.ts';

/** What a match at one date would do for one rule: counts only (a backfill shows no person). */
export interface BackfillCounts {
  asOf: string;
  rule: RuleId;
  /** ran; unchanged (a real match at this date would be a recorded no-op: same inputs); skipped (feeds missing or stale). */
  status: RuleOutcome['status'];
  /** Why a skipped rule did not run. */
  reason?: string;
  /** The rule's population at the date; null when skipped. */
  population: number | null;
  /** Findings the rule would have open (open or reopened) at the date: new + keep + reopen. Null when skipped. */
  open: number | null;
  /** Compared with the findings as they stand: would be opened… */
  new: number | null;
  /** …stay open… */
  keep: number | null;
  /** …be closed by data… */
  close: number | null;
  /** …or be reopened. */
  reopen: number | null;
  durationMs: number;
}

export interface BackfillParams extends Omit<MatchParams, 'asOf' | 'dryRun' | 'onRule' | 'force'> {
  /** The reference dates, in order (as-of-dates.ts). */
  dates: readonly string[];
  /** Which findings are counted (a department's, a township's); default: all. */
  counts?: (f: DryRunFinding) => boolean;
  /** Called after each rule of each date; `done` and `total` count (date, rule) pairs. */
  onRule?(asOf: string, outcome: RuleOutcome, done: number, total: number): void;
}

/** Runs the dry run at each date in turn (one rule at a time, as a match does) and returns its counts per date and rule. */
export async function backfill(p: BackfillParams): Promise<BackfillCounts[]> {
  const { dates, counts, onRule, ...match } = p;
  const out: BackfillCounts[] = [];
  for (const [i, asOf] of dates.entries()) {
    const outcomes = await runMatch({
      ...match,
      asOf,
      dryRun: true,
      onRule: (o, done, total) => onRule?.(asOf, o, i * total + done, dates.length * total),
    });
    for (const o of outcomes) out.push(countsOf(asOf, o, counts));
  }
  return out;
}

/**
 * The counts of one rule's dry run, from its findings by action rather than from the transition counts: those
 * cannot be filtered by department or township, and their `found` also counts a finding closed by review and
 * still suppressed, which the department does not have open.
 */
function countsOf(
  asOf: string,
  o: RuleOutcome,
  keep: ((f: DryRunFinding) => boolean) | undefined,
): BackfillCounts {
  const base = { asOf, rule: o.rule, status: o.status, durationMs: o.durationMs };
  if (o.status === 'skipped') {
    return {
      ...base,
      reason: o.reason,
      population: null,
      open: null,
      new: null,
      keep: null,
      close: null,
      reopen: null,
    };
  }
  const by = { new: 0, keep: 0, close: 0, reopen: 0 };
  for (const f of o.findings ?? []) if (!keep || keep(f)) by[f.action] += 1;
  return { ...base, population: o.population ?? 0, open: by.new + by.keep + by.reopen, ...by };
}
