import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { REGION_LEVELS } from '../../../schemas/vocab.ts';
import { configError } from '../../errors.ts';
import { loadRegions } from '../../regions/load-regions.ts';
import { makeContext, withWarehouse } from '../context.ts';
import { parseFormat, writeRows } from '../output.ts';

export function registerRegions(program: Command): void {
  const regions = program.command('regions').description("the county's region table (DOMAIN §5.4)");
  regions
    .command('load <file>')
    .description('replace the region table from a CSV with 行政区划代码, 名称, 级别, 上级代码')
    .addHelpText(
      'after',
      `
The file is checked whole (12-digit codes, a known level — 县/区, 乡/镇/街道, 村/社区 —, a parent one level
up that is in the file, no code twice); a file with a bad row loads nothing and names every bad row. Once
loaded, imports check feeds' township/village names (within their township) and village codes against it:
unknown or ambiguous values are quarantined with region_unknown / region_ambiguous.

Example:
  $ ruralhub regions load 示范县行政区划.csv`,
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      if (!existsSync(file)) throw configError(`input file not found: ${file}`);
      await withWarehouse(ctx, async (wh) => {
        const n = await loadRegions(wh, file);
        ctx.out.write(
          `region table loaded: ${n.county} county, ${n.township} townships, ${n.village} villages\n`,
        );
      });
    });
  regions
    .command('list')
    .description('the loaded region table')
    .option('--level <level>', `only ${REGION_LEVELS.join(', ')}`)
    .option('--format <format>', 'table, csv or json', 'table')
    .action(async (opts: { level?: string; format?: string }, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format);
      if (opts.level && !(REGION_LEVELS as readonly string[]).includes(opts.level)) {
        throw configError(`--level: expected one of ${REGION_LEVELS.join(', ')}, got '${opts.level}'`);
      }
      await withWarehouse(ctx, async (wh) => {
        let q = wh.db.selectFrom('regions').select(['code', 'name', 'level', 'parent_code']).orderBy('code');
        if (opts.level) q = q.where('level', '=', opts.level as (typeof REGION_LEVELS)[number]);
        writeRows(ctx.out, format, ['code', 'name', 'level', 'parent_code'], await q.execute());
      });
    });
}
