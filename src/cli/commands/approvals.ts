/**
 * `ruralhub approvals request|list|approve|deny`: the four-eyes step before a bulk disclosure of full ID numbers
 * (src/approvals/; docs/privacy.md, "Approvals"). At the command line each person names themself with --by; the
 * approver must name someone other than the requester. The command runs with the warehouse's database rights, so
 * this is a recorded procedure, not a lock: the audit log shows who asked and who allowed.
 */
import type { Command } from 'commander';
import { formatLocal, isoLocal } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import { APPROVAL_KINDS, FINDING_STATES } from '../../../schemas/vocabulary.ts';
import type { Approval } from '../../approvals/approvals.ts';
import type { Context } from '../context.ts';
import { parseFormat, writeRows } from '../output.ts';
import { parseRuleIds } from './match.ts';

interface RequestOpts {
  by?: string;
  reason?: string;
  rule?: string[];
  department?: string;
  township?: string;
  state?: string;
  overdue?: boolean;
  asOf?: string;
}

export function registerApprovals(program: Command): void {
  const approvals = program
    .command('approvals')
    .description(
      "a second person's approval for bulk exports of full ID numbers: request, list, approve, deny",
    );

  approvals
    .command('request')
    .description('ask for an approval; prints its id, which another person approves or denies')
    .argument('<kind>', `what is asked: ${APPROVAL_KINDS.filter((k) => k !== 'person-lookups').join(', ')}`)
    .requiredOption('--by <name>', 'your name (recorded; the approver must be someone else)')
    .requiredOption('--reason <text>', 'why the export is needed (recorded)')
    .option('-r, --rule <id...>', 'findings-full-ids: only these rules (as `findings --rule`)')
    .option('-d, --department <name>', 'findings-full-ids: only this department')
    .option('-t, --township <name>', 'findings-full-ids: only this township')
    .option(
      '-s, --state <state>',
      'findings-full-ids: the state filter (as `findings --state`)',
      'not_closed',
    )
    .option('--overdue', 'findings-full-ids: only findings past their deadline (as of --as-of)')
    .option('--as-of <date>', 'findings-full-ids: the date --overdue counts from, YYYY-MM-DD')
    .addHelpText(
      'after',
      `
The approval covers exactly this filter and at most the number of rows it lists now; it must be decided and
used within approvals.valid_hours (default 24) and allows one run.

Example:
  $ ruralhub approvals request findings-full-ids --rule R02 --by 王敏 --reason '医保局核对参保，县局函〔2026〕12号'
  $ ruralhub approvals approve 7 --by 李强
  $ ruralhub findings --rule R02 --full-ids --approval 7 --format csv > r02.csv`,
    )
    .action(async (kind: string, opts: RequestOpts, cmd: Command) => {
      const [
        { cliPrincipal, isApprovalKind, requestApproval },
        { describeFilter, findingsScope, fullIdsFilter },
        { FINDINGS_STATE_FILTERS, selectFindings },
        { asOfDate, makeContext, withWarehouse },
      ] = await Promise.all([
        import('../../approvals/approvals.ts'),
        import('../../approvals/findings-full-ids.ts'),
        import('../../findings/query.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const by = cliPrincipal(opts.by);
      if (kind !== 'findings-full-ids')
        throw configError(
          isApprovalKind(kind)
            ? `${kind} approvals are asked for by an API token (POST /api/approvals), not at the command line`
            : `approvals request: expected a kind (findings-full-ids), got '${kind}'`,
        );
      const state = opts.state ?? 'not_closed';
      if (!(FINDINGS_STATE_FILTERS as readonly string[]).includes(state))
        throw configError(
          `--state: expected not_closed, all or one of ${FINDING_STATES.join(', ')}, got '${state}'`,
        );
      const filter = fullIdsFilter({
        rules: await parseRuleIds(opts.rule),
        department: opts.department,
        township: opts.township,
        state,
        overdueOn: opts.overdue ? asOfDate(ctx, opts.asOf) : undefined,
      });
      await withWarehouse(ctx, async (wh) => {
        const counted = await selectFindings(wh.db, {
          rules: filter.rules,
          department: filter.department ?? undefined,
          township: filter.township ?? undefined,
          state: filter.state,
          overdueOn: filter.overdue_on ?? undefined,
        })
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow();
        const rows = Number(counted.n);
        const a = await requestApproval(wh.db, {
          kind: 'findings-full-ids',
          scope: findingsScope(filter, rows),
          by,
          reason: opts.reason ?? '',
          validHours: ctx.config.approvals.valid_hours,
          now: new Date(),
        });
        ctx.out.write(
          `approval ${a.id} requested: findings --full-ids of ${rows} rows (${describeFilter(filter)}), ` +
            `by ${opts.by?.trim()}; another person approves it with \`ruralhub approvals approve ${a.id} --by NAME\` ` +
            `before ${formatLocal(ctx.config.timezone, a.expires_at)} (${ctx.config.timezone})\n`,
        );
      });
    });

  approvals
    .command('list')
    .description('approvals, newest first, with their status (pending, approved, denied, used, expired)')
    .option('--open', 'only pending and approved ones not used or expired')
    .option('--format <format>', 'table, csv or json', 'table')
    .addHelpText('after', '\nExample:\n  $ ruralhub approvals list --open')
    .action(async (opts: { open?: boolean; format?: string }, cmd: Command) => {
      const [{ approvalStatus, listApprovals }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../approvals/approvals.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format);
      await withWarehouse(ctx, async (wh) => {
        const now = new Date();
        const list = await listApprovals(wh.db, { open: opts.open === true, now });
        writeRows(
          ctx.out,
          format,
          LIST_COLUMNS,
          list.map(listRow(ctx, now, format === 'table', approvalStatus)),
        );
      });
    });

  for (const decision of ['approve', 'deny'] as const) {
    approvals
      .command(decision)
      .description(
        decision === 'approve'
          ? 'approve a pending request (you must not be the person who asked)'
          : 'deny a pending request, with a reason',
      )
      .argument('<id>', 'the approval id (ruralhub approvals list --open)')
      .requiredOption('--by <name>', 'your name (recorded; not the requester)')
      .option(
        '--reason <text>',
        decision === 'approve' ? 'why it is approved (recorded)' : 'why it is denied (recorded; required)',
      )
      .addHelpText('after', `\nExample:\n  $ ruralhub approvals ${decision} 7 --by 李强`)
      .action(async (id: string, opts: { by?: string; reason?: string }, cmd: Command) => {
        const [{ approvalId, cliPrincipal, decideApproval }, { makeContext, withWarehouse }] =
          await Promise.all([import('../../approvals/approvals.ts'), import('../context.ts')]);
        const ctx = makeContext(cmd.optsWithGlobals());
        const by = cliPrincipal(opts.by);
        const n = approvalId(id, 'id');
        if (decision === 'deny' && (opts.reason?.trim().length ?? 0) < 2)
          throw configError('approvals deny: --reason is required (the requester reads why)');
        await withWarehouse(ctx, async (wh) => {
          const a = await decideApproval(wh.db, {
            id: n,
            decision: decision === 'approve' ? 'approved' : 'denied',
            by,
            reason: opts.reason,
            now: new Date(),
          });
          ctx.out.write(
            a.decision === 'approved'
              ? `approval ${a.id} approved by ${opts.by?.trim()}; it allows one run until ${formatLocal(ctx.config.timezone, a.expires_at)} (${ctx.config.timezone}): add --approval ${a.id}\n`
              : `approval ${a.id} denied by ${opts.by?.trim()}\n`,
          );
        });
      });
  }
}

const LIST_COLUMNS = [
  'id',
  'kind',
  'status',
  'scope',
  'requested_by',
  'reason',
  'requested_at',
  'decided_by',
  'decision_reason',
  'decided_at',
  'expires_at',
  'used_at',
] as const;

const listRow =
  (ctx: Context, now: Date, local: boolean, approvalStatus: (a: Approval, now: Date) => string) =>
  (a: Approval) => {
    const tz = ctx.config.timezone;
    const t = (d: Date | null) => (d === null ? null : local ? formatLocal(tz, d) : isoLocal(tz, d));
    return {
      id: a.id,
      kind: a.kind,
      status: approvalStatus(a, now),
      scope: a.scope,
      requested_by: a.requested_by,
      reason: a.reason,
      requested_at: t(a.requested_at),
      decided_by: a.decided_by,
      decision_reason: a.decision_reason,
      decided_at: t(a.decided_at),
      expires_at: t(a.expires_at),
      used_at: t(a.used_at),
    };
  };
