import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { maskIdNumber } from '../../normalize/mask.ts';
import { parseFormat, writeRows } from '../output.ts';

interface Opts {
  department?: string;
  accept?: string[];
  acceptAll?: boolean;
  reject?: string[];
  note?: string;
  asOf?: string;
  format?: string;
}

/** `ruralhub findings review`: the bureau's queue of 核实不属实 answers. */
export function registerReview(findings: Command): void {
  findings
    .command('review')
    .description('list 核实不属实 (not_an_issue) answers awaiting the bureau; accept or reject them')
    .option('-d, --department <name>', 'only answers from this department')
    .option('--accept <id...>', 'accept these items: closed by review, not reopened for a year')
    .option('--accept-all', 'accept every listed item (with --department: that department only)')
    .option('--reject <id...>', 'reject these items: back to the department as sent, answer cleared')
    .option('--note <text>', 'why (recorded in the history of rejected items)')
    .option('--as-of <date>', 'date of the decision, YYYY-MM-DD (default: today)')
    // No default here: `findings --format` is the parent's option too, and commander gives it the value.
    .option('--format <format>', 'table, csv or json (default: table)')
    .addHelpText(
      'after',
      `
Without --accept/--reject it lists the queue. Accepted items are suppressed: the matcher does not reopen them
until rules.<id>.suppress_days (default 365) have passed.

Example:
  $ ruralhub findings review --department 教育局
  $ ruralhub findings review --accept 1042 1043 && ruralhub findings review --reject 1050 --note "需提供学籍证明"`,
    )
    .action(async (opts: Opts, cmd: Command) => {
      const [
        { decideReviews, PENDING_REVIEW_COLUMNS: COLUMNS, pendingReviews },
        { asOfDate, makeContext, withWarehouse },
      ] = await Promise.all([import('../../delivery/review.ts'), import('../context.ts')]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format ?? (cmd.optsWithGlobals() as { format?: string }).format);
      const asOf = asOfDate(ctx, opts.asOf);
      for (const id of [...(opts.accept ?? []), ...(opts.reject ?? [])]) {
        if (!/^[0-9]{1,18}$/.test(id)) throw configError(`'${id}' is not an item id (清单编号)`);
      }
      await withWarehouse(ctx, async (wh) => {
        const actor = process.env.USER ?? 'cli';
        const accept = opts.acceptAll
          ? (await pendingReviews(wh, opts.department)).map((r) => r.id)
          : (opts.accept ?? []);
        if (accept.length || opts.reject?.length) {
          const accepted = accept.length
            ? await decideReviews({ wh, ids: accept, decision: 'accept', asOf, actor })
            : [];
          const rejected = opts.reject?.length
            ? await decideReviews({ wh, ids: opts.reject, decision: 'reject', asOf, actor, note: opts.note })
            : [];
          const asked = accept.length + (opts.reject?.length ?? 0);
          ctx.out.write(
            `accepted ${accepted.length}, rejected ${rejected.length}` +
              (asked > accepted.length + rejected.length
                ? `; ${asked - accepted.length - rejected.length} item(s) were not awaiting review`
                : '') +
              '\n',
          );
          return;
        }
        const rows = await pendingReviews(wh, opts.department);
        writeRows(
          ctx.out,
          format,
          COLUMNS,
          rows.map((r) => ({ ...r, id_number: r.id_number && maskIdNumber(r.id_number) })),
        );
      });
    });
}
