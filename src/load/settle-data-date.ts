/** The date a run's data describes, into the run's ledger row. */
import type { Kysely } from 'kysely';
import type { Database } from '../warehouse/schema.ts';

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
