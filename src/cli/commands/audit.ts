import type { Command } from 'commander';
import { configError, dataError } from '../../../core/errors.ts';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log: check that nobody rewrote it');
  audit
    .command('verify')
    .description('walk the audit log hash chain; exit 3 naming the first changed, deleted or inserted row')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Every audit row holds the hash of its content and of the row before it (migration 0017). This recomputes
them in chain order and compares the newest row with the chain head, so a row changed, deleted (the
newest ones too) or inserted outside the chain — even with the table's triggers switched off — is found.
Only row ids and chain positions are printed, never the rows' content. Note the head hash it prints
somewhere else (the monthly report, a ticket): someone who can rewrite the whole chain and its head
cannot change a hash already written down. It also warns when the connected role could switch the
database's protection off (a superuser, SET on session_replication_role, the table's owner).

Exit codes: 0 intact; 3 broken (the row is named); 2 configuration error; 75 database unreachable.

Example:
  $ ruralhub audit verify || notify-operator`,
    )
    .action(async (opts: { format?: string }, cmd: Command) => {
      const [{ makeContext, withWarehouse }, { auditRoleRisks, describeBreak, verifyAuditChain }] =
        await Promise.all([import('../context.ts'), import('../../warehouse/audit.ts')]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = opts.format ?? 'text';
      if (format !== 'text' && format !== 'json')
        throw configError(`--format: expected one of text, json, got '${format}'`);
      await withWarehouse(ctx, async (wh) => {
        const report = await verifyAuditChain(wh.db);
        // A warning, not a failure: the embedded server and most test setups connect as a superuser.
        for (const risk of await auditRoleRisks(wh.db))
          process.stderr.write(`ruralhub: warning: ${risk} (see README, "Operating it")\n`);
        if (format === 'json') ctx.out.write(`${JSON.stringify(report, null, 2)}\n`);
        if (report.broken) throw dataError(`audit log broken: ${describeBreak(report.broken)}`);
        if (format === 'text')
          ctx.out.write(
            `audit log intact: ${report.rows} row(s), chain head position ${report.headSeq}, sha256 ${report.headHash}\n`,
          );
      });
    });
}
