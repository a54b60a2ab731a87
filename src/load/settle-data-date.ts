/**
 * The date a run's data describes, settled once the file is staged, and whether the load is late: earlier than a
 * data date already loaded, it takes its place in the history (publish-late.ts).
 */
import type { Kysely } from 'kysely';
import { dataError } from '../../core/errors.ts';
import { checkStatedDate, statedDataDate, whereStated } from '../normalize/data-date.ts';
import type { Database } from '../warehouse/schema.ts';
import { lateLoadOf } from './publish-late.ts';
import type { Dated, RunContext, Staged } from './run-context.ts';

/** The run's data date (into its ledger row) and its late load, if it is one. */
export async function settleDataDate(run: RunContext, staged: Staged): Promise<Dated> {
  const { wh, params: p, feed, runId, log: rlog, loadDay } = run;
  const { db } = wh;
  let dataDate: { date: string; from: string } | undefined = p.dataDate;
  // The data date: the caller's, else the file's statement above its header (the bulk path is taken only when
  // the header is the first line: no title rows) or a source's data-date column, else the load's local date. A statement that is not a date, or
  // is later than today, fails the load naming where it stands: the file is wrong about itself.
  const stated = statedDataDate(staged.titles) ?? staged.columnStated ?? null;
  if (dataDate) {
    if (stated && stated.date !== dataDate.date)
      rlog.info(
        { stated: stated.date ?? stated.text, given: dataDate.date },
        'data date given; the file states another',
      );
  } else if (stated) {
    const checked = checkStatedDate(stated, loadDay);
    if ('error' in checked) throw dataError(checked.error);
    dataDate = { date: checked.date, from: whereStated(stated) };
    await setDataDate(db, runId, dataDate);
  } else {
    dataDate = { date: loadDay, from: 'load_day' };
    await setDataDate(db, runId, dataDate);
  }
  // Earlier than a data date already loaded: the load takes its place in the history (publish-late.ts).
  const late = await lateLoadOf(db, feed, dataDate.date);
  if (late && staged.recognized)
    throw new Error('internal: a late load was recognised against the current versions');
  if (late)
    rlog.info({ data_date: late.date, next: late.next }, 'late load: published in its place in the history');
  return { dataDate, late };
}

/** The run's data date into its ledger row as soon as it is known: a run held or failed later keeps it. */
export async function setDataDate(
  db: Kysely<Database>,
  runId: number,
  d: { date: string; from: string },
): Promise<void> {
  await db
    .updateTable('runs')
    .set({ data_date: d.date, data_date_from: d.from })
    .where('id', '=', runId)
    .execute();
}
