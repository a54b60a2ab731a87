import type { Command } from 'commander';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create or update the warehouse schema (forward-only, numbered, locked; safe to run again)')
    .addHelpText('after', '\nExample:\n  $ DATABASE_URL=postgres://etl@db/county ruralhub migrate')
    .action(async (_opts, cmd: Command) => {
      const [{ migrate }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../warehouse/migrate.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      await withWarehouse(
        ctx,
        async (wh) => {
          const r = await migrate(wh.db, wh.schema);
          ctx.out.write(
            r.applied.length
              ? `applied ${r.applied.length} migration(s) to ${wh.where} schema ${wh.schema}: ${r.applied.join(', ')}\n`
              : `schema ${wh.schema} at ${wh.where} is up to date (${r.skipped} migration(s) already applied)\n`,
          );
          // A newly registered feed's table, made from its declaration (src/warehouse/feed-table.ts).
          if (r.feedTables.length) ctx.out.write(`created the table of feed(s) ${r.feedTables.join(', ')}\n`);
        },
        { schema: 'none' },
      );
    });
}
