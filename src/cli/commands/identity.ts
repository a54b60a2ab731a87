import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { FEED_IDS, type FeedId } from '../../../pipelines/feeds/index.ts';
import { REVIEW_STATUSES, type ReviewStatus } from '../../../schemas/vocabulary.ts';
import { parseFormat, writeRows } from '../output.ts';

const itemIds = (ids: readonly string[]) =>
  ids.map((id) => {
    if (!/^[0-9]{1,15}$/.test(id)) throw configError(`'${id}' is not an identity-review item id`);
    return Number(id);
  });

export function registerIdentity(program: Command): void {
  const identity = program
    .command('identity')
    .description('person resolution: records whose ID is missing or invalid (DOMAIN §5.1)');
  identity.addHelpText(
    'after',
    `
A loaded record's ID is its person key. A record whose ID is missing or invalid is linked to the roster person
with the same name (traditional = simplified), birth date and village when exactly one exists — only when the
department sends birth date (出生日期) and village (村) columns. Any other such record stays quarantined and
becomes an item here; nothing is ever merged silently.

Example:
  $ ruralhub identity list
  $ ruralhub identity link 12 --person 3481 --note "学籍系统录错一位，已核对户口本"
  $ ruralhub identity dismiss 13 --note "非本县人员"`,
  );
  identity
    .command('list')
    .description('identity-review items (default: open ones)')
    .option('--status <status>', `${REVIEW_STATUSES.join(', ')} or all`, 'open')
    .option('--feed <feed>', 'only this feed')
    .option('--format <format>', 'table, csv or json', 'table')
    .addHelpText(
      'after',
      `
candidate_persons lists "person_key:masked ID" for every roster person with the record's name, birth date
and village (none, or more than one, is why the item is here). Pass a key to \`identity link\`.

Example:
  $ ruralhub identity list --feed student_roll --format csv > 待核实身份.csv`,
    )
    .action(async (opts: { status: string; feed?: string; format?: string }, cmd: Command) => {
      const [{ listReview, REVIEW_COLUMNS }, { makeContext, withWarehouse }, { maskIdColumnValue }] =
        await Promise.all([
          import('../../identity/review.ts'),
          import('../context.ts'),
          import('../../normalize/mask.ts'),
        ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format);
      if (opts.status !== 'all' && !(REVIEW_STATUSES as readonly string[]).includes(opts.status)) {
        throw configError(
          `--status: expected one of ${REVIEW_STATUSES.join(', ')}, all; got '${opts.status}'`,
        );
      }
      if (opts.feed && !(FEED_IDS as readonly string[]).includes(opts.feed)) {
        throw configError(`--feed: expected one of ${FEED_IDS.join(', ')}; got '${opts.feed}'`);
      }
      await withWarehouse(ctx, async (wh) => {
        const rows = await listReview(wh, {
          status: opts.status as ReviewStatus | 'all',
          ...(opts.feed ? { feed: opts.feed as FeedId } : {}),
        });
        // The raw ID through the one mask of an ID column, as quarantine shows it: listReview leaves a value of
        // fewer than 8 characters as written (a region code and a birth year's first digits are digits of an ID).
        const shown = rows.map((r) => ({
          ...r,
          raw_id: typeof r.raw_id === 'string' ? maskIdColumnValue(r.raw_id) : r.raw_id,
        }));
        writeRows(ctx.out, format, REVIEW_COLUMNS, shown);
      });
    });
  identity
    .command('link <item...>')
    .description('link items to a person; the next load of the feed stores them under that person')
    .requiredOption('--person <key>', 'the person_key (from candidate_persons, or the persons table)')
    .option('--note <text>', 'why (kept with the item and in the audit log)')
    .addHelpText(
      'after',
      '\nAn item or person that does not exist is an error (exit 2), and then nothing is changed.\n\n' +
        'Example:\n  $ ruralhub identity link 12 --person 3481 --note "已核对户口本"',
    )
    .action(async (items: string[], opts: { person: string; note?: string }, cmd: Command) => {
      const [{ linkReview }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../identity/review.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      if (!/^[0-9]{1,15}$/.test(opts.person))
        throw configError(`--person: expected a person_key, got '${opts.person}'`);
      const ids = itemIds(items);
      await withWarehouse(ctx, async (wh) => {
        const done = await linkReview(wh, {
          ids,
          personKey: Number(opts.person),
          actor: process.env.USER ?? 'cli',
          note: opts.note,
        });
        ctx.out.write(
          `linked ${done.length} item(s) to person ${opts.person}; ` +
            'they are loaded at the next import of their feed\n',
        );
      });
    });
  identity
    .command('dismiss <item...>')
    .description('dismiss items: the records stay quarantined, also when they come again')
    .option('--note <text>', 'why (kept with the item and in the audit log)')
    .addHelpText('after', '\nExample:\n  $ ruralhub identity dismiss 13 --note "非本县人员"')
    .action(async (items: string[], opts: { note?: string }, cmd: Command) => {
      const [{ dismissReview }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../identity/review.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const ids = itemIds(items);
      await withWarehouse(ctx, async (wh) => {
        const done = await dismissReview(wh, { ids, actor: process.env.USER ?? 'cli', note: opts.note });
        ctx.out.write(`dismissed ${done.length} item(s)\n`);
      });
    });
}
