import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { REGION_LEVELS } from '../../../schemas/vocabulary.ts';
import type { RegionCounts } from '../../regions/load-regions.ts';
import { parseFormat, writeRows } from '../output.ts';

export function registerRegions(program: Command): void {
  const regions = program.command('regions').description("the county's region table (DOMAIN §5.4)");
  regions
    .command('load <file>')
    .description(
      "replace the region table with the configured county's rows of a code list (行政区划代码, 名称, 级别, 上级代码)",
    )
    .addHelpText(
      'after',
      `
The published list is taken as it is: the county's own or its whole province's, in CSV (UTF-8 with or without
BOM, or GB18030). Rows above the county (省, 市) and rows of other counties are skipped and counted; the
configured county (county.code in the config) and the townships and villages under it are loaded. 级别 may
be a word (县/区/县级市/旗, 乡/镇/街道, 村/社区/居委会 …) or a number (1=省 … 5=村); blank or absent, the
code's shape says it where it can (…000000 a county, …000 a township). Every kept row is checked (12-digit
code, level agreeing with the code, a parent one level up that is in the list, no code twice); a file with
a refused row loads nothing and names every refused row by file, row and field. Once loaded, imports check
feeds' township/village names (within their township) and village codes against it: unknown or ambiguous
values are quarantined with region_unknown / region_ambiguous.

Example:
  $ ruralhub regions load 贵州省统计用区划代码.csv`,
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const [{ loadRegions }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../regions/load-regions.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      if (!existsSync(file)) throw configError(`input file not found: ${file}`);
      await withWarehouse(ctx, async (wh) => {
        const n = await loadRegions(wh, file, ctx.config.county.code);
        ctx.out.write(`${describeRegionLoad(n)}\n`);
      });
    });
  regions
    .command('list')
    .description('the loaded region table')
    .option('--level <level>', `only ${REGION_LEVELS.join(', ')}`)
    .option('--format <format>', 'table, csv or json', 'table')
    .action(async (opts: { level?: string; format?: string }, cmd: Command) => {
      const { makeContext, withWarehouse } = await import('../context.ts');
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

/** The counts of a load, reconciling: read = loaded + skipped above + skipped outside + refused. */
export function describeRegionLoad(n: RegionCounts): string {
  return [
    `region table loaded for ${n.county_code} ${n.county_name}: ${n.read} rows read`,
    `  loaded: ${n.loaded} (${n.county} county, ${n.township} townships, ${n.village} villages)`,
    `  skipped above the county: ${n.skipped_above}`,
    `  skipped outside the county: ${n.skipped_outside}`,
    `  refused: ${n.refused}`,
  ].join('\n');
}
