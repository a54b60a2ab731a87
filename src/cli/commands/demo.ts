import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import type { ImportSummary } from '../../load/import-feed.ts';
import { fmtDuration, watchedByPerson } from '../progress.ts';
import { formatTable } from '../table.ts';

interface DemoOpts {
  persons: string;
  residents: string;
  seed: string;
  asOf?: string;
  out?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the whole loop on a synthetic county: generate department files, import, match, write the lists and the monthly report',
    )
    .option('-p, --persons <n>', 'focus population of the synthetic county', '3000')
    .option('--residents <n>', 'other residents (insurance and medical settlements only)', '0')
    .option('-s, --seed <n>', 'random seed (same seed, same county)', '7')
    .option('--as-of <date>', 'reference date, YYYY-MM-DD (default: today, Beijing time)')
    .option('-o, --out <dir>', 'where files go (default: <paths.output_dir>)')
    .addHelpText(
      'after',
      `
The department files come as departments send them: CSV in GB18030 and UTF-8 (with and without BOM, comma,
semicolon or tab), .xlsx from Excel and from another writer (a 填表说明 sheet first, hidden sheets), a binary
.xls, title rows above the header, totals rows and footer lines (制表人：…, 联系电话：…) below it. The region
list is the whole province's (province, cities, other counties): the demo county's subtree is loaded.

Runs the same code paths as the individual commands (regions load, import, match, lists export), so the config's
county.code must be the demo county's (520102, as in config/demo-county.yaml). Uses DATABASE_URL when
set, else an embedded PostgreSQL in .ruralhub/pg. Safe to run again: unchanged files are no-op imports and
findings are not duplicated.

Example:
  $ ruralhub demo --persons 20000 --seed 42`,
    )
    .action(async (opts: DemoOpts, cmd: Command) => {
      // Loaded when the demo runs, never for --help (start-up: README, "Start-up").
      const [
        { FEED_IDS },
        { resolveFeed },
        { exportLists },
        { COUNTY },
        { serveDeathsFromDatabase },
        { generateDemoCounty },
        { plantedRules },
        { configuredSource, importFeed },
        { runMatch },
        { loadRegions },
        { writeMonthlyReport },
        { asOfDate, makeContext, withWarehouse },
        { feedLines, importTable, matchTable, noteLines, problemLines },
      ] = await Promise.all([
        import('../../../pipelines/feeds/index.ts'),
        import('../../../pipelines/feeds/resolve.ts'),
        import('../../delivery/export-lists.ts'),
        import('../../demo/county.ts'),
        import('../../demo/department-db.ts'),
        import('../../demo/generate.ts'),
        import('../../demo/planted.ts'),
        import('../../load/import-feed.ts'),
        import('../../matching/run-match.ts'),
        import('../../regions/load-regions.ts'),
        import('../../reporting/run-report.ts'),
        import('../context.ts'),
        import('../summaries.ts'),
      ]);
      const globals = cmd.optsWithGlobals();
      const ctx = makeContext(globals);
      // On a terminal these lines are what a person reads; the INFO log would bury them (it stays complete
      // as JSON when stderr is not a terminal, or with --verbose).
      watchedByPerson(ctx.log, globals);
      const persons = Number(opts.persons);
      const seed = Number(opts.seed);
      if (!Number.isInteger(persons) || persons < 50 || persons > 5_000_000) {
        throw configError(`--persons: expected a whole number from 50 to 5000000, got '${opts.persons}'`);
      }
      const residents = Number(opts.residents);
      if (!Number.isInteger(residents) || residents < 0 || residents > 20_000_000) {
        throw configError(`--residents: expected a whole number from 0 to 20000000, got '${opts.residents}'`);
      }
      if (!Number.isInteger(seed)) throw configError(`--seed: expected a whole number, got '${opts.seed}'`);
      // The demo writes a synthetic county into the configured warehouse: never into a real county's, whose
      // region table and feeds it would replace. The region load would refuse it later, after the files.
      if (ctx.config.county.code !== COUNTY.code) {
        throw configError(
          `the demo county is ${COUNTY.name} (${COUNTY.code}), but county.code in the config is ${ctx.config.county.code}: run the demo with a config for the demo county (config/demo-county.yaml)`,
        );
      }
      const asOf = asOfDate(ctx, opts.asOf);
      const outDir = resolve(opts.out ?? ctx.config.paths.output_dir);
      const say = (line: string) => ctx.out.write(`${line}\n`);
      const t0 = performance.now();
      const elapsed = () => fmtDuration(performance.now() - t0);

      say(`[1/6] generating the demo county (${persons} persons, seed ${seed}, as of ${asOf}) …`);
      const county = await generateDemoCounty({
        dir: join(outDir, 'demo'),
        persons,
        residents,
        seed,
        asOf,
      });
      say(`      files in ${county.dir}`);
      say('[2/6] opening the warehouse and applying migrations …');
      const opening = performance.now();
      await withWarehouse(
        ctx,
        async (wh) => {
          say(
            `      PostgreSQL at ${wh.where}${wh.embedded ? ' (embedded)' : ''}, schema ${wh.schema}  [${fmtDuration(performance.now() - opening)}]`,
          );
          // The list is the whole province's: the configured county picks its subtree, as `regions load` does.
          const regions = await loadRegions(wh, county.regionsFile, ctx.config.county.code);
          say(
            `      region table: ${regions.township} townships, ${regions.village} villages (of the province's list: ${regions.skipped_above} rows above the county and ${regions.skipped_outside} of other counties skipped)`,
          );
          say('[3/6] importing department files …');
          const imports: ImportSummary[] = [];
          // The deaths feed comes from the 公安局's database (a table on the same server), not from its file.
          const deathsSource = await serveDeathsFromDatabase(wh, county.files.deaths!);
          for (const feedId of FEED_IDS) {
            const path = county.files[feedId];
            if (!path) {
              say(`      ${feedId}: the demo county writes no file for this feed; not loaded`);
              continue;
            }
            const feed = resolveFeed(feedId);
            const fromDb = feedId === 'deaths';
            const started = performance.now();
            imports.push(
              await importFeed({
                wh,
                feed,
                feedConfig: ctx.config.feeds[feed.id],
                ...(fromDb ? { source: configuredSource(feed, { source: deathsSource }) } : { path }),
                log: ctx.log,
                today: asOf,
                timeZone: ctx.config.timezone,
              }),
            );
            // The feed's own time: the run's elapsed time beside each feed read as if each took seconds.
            for (const line of feedLines(imports.at(-1)!, performance.now() - started)) say(`      ${line}`);
          }
          say(importTable(imports));
          const problems = problemLines(imports);
          if (problems.length)
            say(
              `      rejected values (quarantined; \`ruralhub quarantine\` lists them):\n${problems.join('\n')}`,
            );
          const notes = noteLines(imports);
          if (notes.length) say(notes.join('\n'));
          say('[4/6] cross-matching …');
          const outcomes = await runMatch({ wh, config: ctx.config, log: ctx.log, asOf });
          say(matchTable(outcomes));
          say('[5/6] writing department lists …');
          const files = await exportLists({
            wh,
            outDir: join(outDir, 'lists'),
            asOf,
            log: ctx.log,
            actor: 'demo',
            timeZone: ctx.config.timezone,
          });
          say(
            formatTable(
              ['department', 'items', 'file'],
              files.map((f) => [f.department, f.items, f.paths.join(', ')]),
            ),
          );
          say('[6/6] writing the monthly report …');
          const report = await writeMonthlyReport({
            wh,
            config: ctx.config,
            month: asOf.slice(0, 7),
            outDir: join(outDir, 'reports'),
            bureauCopy: true,
            actor: 'demo',
          });
          say(`      ${report.path}  (\`ruralhub report monthly --month ${asOf.slice(0, 7)}\` prints it)`);
          const injected = [...plantedRules(county.truth)]
            .map(([r, cases]) => `${r} ${cases.length}`)
            .join(', ');
          say(
            `done in ${elapsed()}. The generator injected these findings: ${injected} (${county.truthFile}).`,
          );
        },
        { schema: 'auto' },
      );
    });
}
