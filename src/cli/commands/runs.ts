import type { Command } from 'commander';
import { formatLocal, isoLocal } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import { listOptions, rowLimit } from '../list-options.ts';
import { parseFormat, writeRows } from '../output.ts';
import { formatTable, moreLine, parseColumns } from '../table.ts';

const LIMIT = 20;
/** The widest line the default table may have: a terminal's 120 columns. */
export const RUNS_TABLE_WIDTH = 120;

/**
 * The columns of the table (`--format table`): an import's counts (blank for a match, which reads no file) and a
 * match's own figures from its ledger details (blank for an import). CSV/JSON keep the ledger's columns.
 */
export const RUNS_TABLE_COLUMNS = [
  'id',
  'kind',
  'feed/rule',
  'source',
  'status',
  'started_at',
  'finished_at',
  'read',
  'loaded',
  'new',
  'changed',
  'unchanged',
  'ended',
  'quarantined',
  'duplicates',
  'skipped',
  'population',
  'found',
  'opened',
  'still_open',
  'reopened',
  'closed',
  'data_date',
  'data_date_from',
  'error',
] as const;
export type RunsTableColumn = (typeof RUNS_TABLE_COLUMNS)[number];

/**
 * What `ruralhub runs` shows without --columns: 113 columns with ids and counts of four digits. The file (`source`)
 * is there with --columns, cut to fit 120 (or left out, with the error, when it cannot).
 */
export const RUNS_DEFAULT_COLUMNS: readonly RunsTableColumn[] = [
  'id',
  'kind',
  'feed/rule',
  'status',
  'started_at',
  'read',
  'loaded',
  'quarantined',
  'opened',
  'closed',
  'data_date',
];

/** Text columns cut (or left out) when the table would be wider than the terminal. */
const SHRINK: readonly RunsTableColumn[] = ['source', 'feed/rule', 'error', 'data_date_from'];

/** A ledger row as the table reads it (times already the county's). */
export interface RunForTable {
  id: number | string;
  kind: string;
  feed: string | null;
  source: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  rows_read: number | string;
  rows_loaded: number | string;
  rows_new: number | string;
  rows_changed: number | string;
  rows_unchanged: number | string;
  rows_ended: number | string;
  rows_quarantined: number | string;
  exact_duplicates: number | string;
  conflicting_duplicates: number | string;
  rows_skipped: number | string;
  error: string | null;
  data_date: string | null;
  data_date_from: string | null;
  details: unknown;
}

type Cell = string | number | null;

/** A match run's figures as its ledger details hold them (run-match.ts); absent from a no-op's. */
function matchFigures(details: unknown) {
  const d = details !== null && typeof details === 'object' ? (details as Record<string, unknown>) : {};
  const n = (k: string): number | null => (typeof d[k] === 'number' ? d[k] : null);
  const rule = typeof d.rule === 'string' ? d.rule : Array.isArray(d.rules) ? d.rules.join(',') : null;
  const opened = n('new') === null ? null : (n('new') ?? 0) + (n('reopened') ?? 0);
  return {
    rule,
    population: n('population'),
    found: n('found'),
    opened,
    still_open: n('stillOpen'),
    reopened: n('reopened'),
    closed: n('closed'),
  };
}

function cellsOf(r: RunForTable): Record<RunsTableColumn, Cell> {
  const imp = r.kind === 'import';
  const count = (v: number | string): Cell => (imp ? Number(v) : null);
  const m = r.kind === 'match' ? matchFigures(r.details) : null;
  return {
    id: Number(r.id),
    kind: r.kind,
    'feed/rule': r.feed ?? m?.rule ?? (r.kind === 'match' ? r.source : null),
    // A match run's source is its rule, already in feed/rule.
    source: m !== null && r.source === (m.rule ?? r.source) ? null : r.source,
    status: r.status,
    started_at: r.started_at,
    finished_at: r.finished_at,
    read: count(r.rows_read),
    loaded: count(r.rows_loaded),
    new: count(r.rows_new),
    changed: count(r.rows_changed),
    unchanged: count(r.rows_unchanged),
    ended: count(r.rows_ended),
    quarantined: count(r.rows_quarantined),
    duplicates: imp ? Number(r.exact_duplicates) + Number(r.conflicting_duplicates) : null,
    skipped: count(r.rows_skipped),
    population: m?.population ?? null,
    found: m?.found ?? null,
    opened: m?.opened ?? null,
    still_open: m?.still_open ?? null,
    reopened: m?.reopened ?? null,
    closed: m?.closed ?? null,
    data_date: r.data_date,
    data_date_from: r.data_date_from,
    error: r.error,
  };
}

/**
 * The runs as a table: the chosen columns, cut to RUNS_TABLE_WIDTH; then "… N more" when `omitted` runs were
 * left out by --limit; then each shown failed run's error on its own line when the error column is not shown.
 */
export function runsTable(
  rows: readonly RunForTable[],
  o: { columns: readonly RunsTableColumn[]; omitted: number },
): string {
  const lines = [
    formatTable(
      o.columns,
      rows.map((r) => {
        const c = cellsOf(r);
        return o.columns.map((k) => c[k]);
      }),
      { width: RUNS_TABLE_WIDTH, shrink: SHRINK },
    ),
  ];
  if (o.omitted > 0) lines.push(moreLine(o.omitted));
  if (!o.columns.includes('error'))
    for (const r of rows) if (r.error) lines.push(`  run ${r.id}: ${r.error}`);
  return lines.join('\n');
}

export function registerRuns(program: Command): void {
  const command = program
    .command('runs')
    .description('the run ledger: one row per import, match and export run, newest first')
    .option('--feed <feed>', 'only runs of this feed')
    .option('--failed', 'only failed runs')
    .option(
      '--columns <a,b,c>',
      `table: the columns to show, in order (default ${RUNS_DEFAULT_COLUMNS.join(',')})`,
    );
  listOptions(command, { help: 'how many runs', default: LIMIT })
    .addHelpText(
      'after',
      `
Times: the county's (config timezone), YYYY-MM-DD HH:mm:ss; in csv/json ISO 8601 with its offset.

For every import: rows_read = rows_loaded + rows_quarantined + exact_duplicates + conflicting_duplicates
(the database refuses to record a run for which it does not hold).

Table columns (--columns): ${RUNS_TABLE_COLUMNS.join(', ')}.
An import's counts are blank for a match; a match's figures (population, found, opened = new + reopened,
still_open, reopened, closed) are blank for an import. The default set fits 120 columns; a failed run's
error is printed under the table. csv/json: the ledger's columns, unchanged.

Example:
  $ ruralhub runs --feed roster --format json | jq '.[0].rows_quarantined'
  $ ruralhub runs --limit 50 --columns id,feed/rule,source,status,read,new,changed,ended,error`,
    )
    .action(
      async (
        opts: { feed?: string; failed?: boolean; limit: string; format?: string; columns?: string },
        cmd: Command,
      ) => {
        const { makeContext, withWarehouse } = await import('../context.ts');
        const ctx = makeContext(cmd.optsWithGlobals());
        const format = parseFormat(opts.format);
        if (opts.columns !== undefined && format !== 'table')
          throw configError('--columns: the table only (csv and json keep every column)');
        const columns = parseColumns(opts.columns, RUNS_TABLE_COLUMNS, RUNS_DEFAULT_COLUMNS, {
          feed: 'feed/rule',
          rule: 'feed/rule',
        });
        const limit = rowLimit(opts.limit, LIMIT);
        // Loaded while the warehouse connects, not before (README, "Start-up").
        const reading = Promise.all([import('kysely'), import('../../warehouse/ledger.ts')]);
        reading.catch(() => undefined);
        await withWarehouse(ctx, async (wh) => {
          const [{ sql }, { RUN_COLUMNS: COLUMNS }] = await reading;
          let q = wh.db
            .selectFrom('runs')
            .select([...COLUMNS, 'details'])
            .orderBy('id', 'desc')
            .limit(limit);
          let total = wh.db.selectFrom('runs').select(sql<number>`count(*)::int`.as('n'));
          if (opts.feed) {
            q = q.where('feed', '=', opts.feed);
            total = total.where('feed', '=', opts.feed);
          }
          if (opts.failed) {
            q = q.where('status', '=', 'failed');
            total = total.where('status', '=', 'failed');
          }
          const rows = await q.execute();
          const tz = ctx.config.timezone;
          // People read the county's time (seconds: two runs in one minute); files get ISO 8601 with its offset.
          const at = (d: Date | null) =>
            d === null ? null : format === 'table' ? formatLocal(tz, d, { seconds: true }) : isoLocal(tz, d);
          if (format !== 'table') {
            const shown = rows.map(({ details: _, ...r }) => ({
              ...r,
              started_at: at(r.started_at),
              finished_at: at(r.finished_at),
            }));
            writeRows(ctx.out, format, COLUMNS, shown);
            return;
          }
          const omitted =
            rows.length < limit ? 0 : ((await total.executeTakeFirst())?.n ?? rows.length) - rows.length;
          const shown = rows.map((r) => ({
            ...r,
            started_at: at(r.started_at),
            finished_at: at(r.finished_at),
          }));
          ctx.out.write(`${runsTable(shown, { columns, omitted })}\ntimes in ${tz}\n`);
        });
      },
    );
}
