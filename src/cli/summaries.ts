import type { ImportSummary } from '../load/import-feed.ts';
import type { RuleOutcome } from '../matching/run-match.ts';
import { formatTable } from './table.ts';

export function importTable(rows: readonly ImportSummary[]): string {
  return formatTable(
    [
      'feed',
      'file',
      'status',
      'read',
      'loaded',
      'new',
      'changed',
      'ended',
      'quarantined',
      'duplicates',
      'skipped',
    ],
    rows.map((s) => [
      s.feed,
      s.source,
      s.status,
      s.counts.rows_read,
      s.counts.rows_loaded,
      s.counts.rows_new,
      s.counts.rows_changed,
      s.counts.rows_ended,
      s.counts.rows_quarantined,
      s.counts.exact_duplicates + s.counts.conflicting_duplicates,
      s.counts.rows_skipped,
    ]),
  );
}

/** Rejected values by feed and problem, for the lines under "rejected values". */
export function problemLines(rows: readonly ImportSummary[]): string[] {
  return rows.flatMap((s) => Object.entries(s.problems).map(([p, n]) => `  ${s.feed}: ${n} × ${p}`));
}

/** What else an import has to say (a no-op's earlier run, a held snapshot's reason), one line per feed. */
export function noteLines(rows: readonly ImportSummary[]): string[] {
  return rows.flatMap((s) => (s.message ? [`  ${s.feed}: ${s.message}`] : []));
}

export function matchTable(rows: readonly RuleOutcome[]): string {
  return formatTable(
    [
      'rule',
      'name',
      'owner',
      'status',
      'population',
      'found',
      'new',
      'still open',
      'closed',
      'reopened',
      'ms',
    ],
    rows.map((r) => [
      r.rule,
      r.name,
      r.owner,
      r.status === 'skipped' ? `skipped: ${r.reason}` : r.status,
      r.population,
      r.found,
      r.new,
      r.stillOpen,
      r.closed,
      r.reopened,
      Math.round(r.durationMs),
    ]),
  );
}
