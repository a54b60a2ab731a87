import { ruleById } from '../../pipelines/rules/index.ts';
import type { ImportSummary } from '../load/import-feed.ts';
import type { RuleOutcome } from '../matching/run-match.ts';
import { fmtDuration } from './progress.ts';
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
      'data date',
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
      s.dataDate?.date ?? '',
    ]),
  );
}

/** Rejected values by feed and problem, for the lines under "rejected values". */
export function problemLines(rows: readonly ImportSummary[]): string[] {
  return rows.flatMap((s) => Object.entries(s.problems).map(([p, n]) => `  ${s.feed}: ${n} × ${p}`));
}

/**
 * What else an import has to say (a no-op's earlier run, a held snapshot's reason), one line per run, naming its
 * feed and, when the command loaded several files, its file.
 */
export function noteLines(rows: readonly ImportSummary[]): string[] {
  const files = rows.length > 1;
  return rows.flatMap((s) => (s.message ? [`  ${s.feed}${files ? ` ${s.source}` : ''}: ${s.message}`] : []));
}

/** Owners listed in their column up to this many; a rule with more has them on a line under the table. */
const OWNERS_IN_COLUMN = 3;

/** The departments a rule's findings go to: its `owners` (R10, R13), else its owner. */
export function ruleOwners(r: Pick<RuleOutcome<string>, 'rule' | 'owner'>): readonly string[] {
  return ruleById(r.rule)?.owners ?? [r.owner];
}

/**
 * A match's outcome per rule. The owners column names every department a rule's findings go to (R10: three);
 * a rule routed to more than OWNERS_IN_COLUMN has their count there and the departments on a line under the table.
 */
export function matchTable(rows: readonly RuleOutcome<string>[]): string {
  const below: string[] = [];
  const table = formatTable(
    [
      'rule',
      'name',
      'owners',
      'status',
      'population',
      'found',
      'new',
      'still open',
      'closed',
      'reopened',
      'ms',
    ],
    rows.map((r) => {
      const owners = ruleOwners(r);
      let shown = owners.join('、');
      if (owners.length > OWNERS_IN_COLUMN) {
        shown = `${owners.length} 个部门（见下）`;
        below.push(`  ${r.rule} owners: ${owners.join('、')}`);
      }
      return [
        r.rule,
        r.name,
        shown,
        r.status === 'skipped' ? `skipped: ${r.reason}` : r.status,
        r.population,
        r.found,
        r.new,
        r.stillOpen,
        r.closed,
        r.reopened,
        Math.round(r.durationMs),
      ];
    }),
  );
  return [table, ...below].join('\n');
}

/**
 * One import in a few lines for a person at a terminal, with the time the feed itself took: what happened
 * and what to look at, where the INFO log said the same in forty. (A run's note, such as a no-op's earlier run, is
 * left to noteLines under the table.)
 */
export function feedLines(s: ImportSummary, ms: number): string[] {
  const c = s.counts;
  const parts: string[] = [];
  if (s.status !== 'noop') {
    parts.push(
      `${c.rows_read} read`,
      `${c.rows_loaded} loaded (${c.rows_new} new, ${c.rows_changed} changed, ${c.rows_ended} ended)`,
    );
    if (c.rows_quarantined) parts.push(`${c.rows_quarantined} quarantined`);
    const duplicates = c.exact_duplicates + c.conflicting_duplicates;
    if (duplicates) parts.push(`${duplicates} duplicates`);
    if (c.rows_skipped) parts.push(`${c.rows_skipped} skipped`);
  }
  const lines = [
    `${s.feed}  ${s.source}  ${s.status}${parts.length ? `: ${parts.join(', ')}` : ''}  [${fmtDuration(ms)}]`,
  ];
  if (s.dataDate) lines.push(`  data date ${s.dataDate.date} (${s.dataDate.from})`);
  if (s.unmappedColumns.length) lines.push(`  columns not used: ${s.unmappedColumns.join(', ')}`);
  return lines;
}
