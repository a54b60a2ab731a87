import type { Kysely } from 'kysely';
import { firstChars } from '../normalize/text.ts';
import type { Database } from '../warehouse/schema.ts';
import type { ConnectorProblem, RunContext } from './run-context.ts';

/**
 * Characters kept of a row the connector could not read: such a row can run to max_record_bytes (1 MB) of
 * runaway quoting, and up to 100,000 of them are quarantined. Values quarantined from staging are kept whole.
 */
const MAX_RAW_CHARS = 4000;

/** Rows the connector could not read (ragged, a quote never closed …), quarantined with the run. */
export async function quarantineConnectorProblems(
  trx: Kysely<Database>,
  run: Pick<RunContext, 'runId' | 'feed' | 'source'>,
  connectorProblems: readonly ConnectorProblem[],
): Promise<void> {
  const { runId, feed, source } = run;
  if (!connectorProblems.length) return;
  await trx
    .insertInto('quarantine')
    .values(
      connectorProblems.map((m) => {
        const kept = firstChars(m.raw, MAX_RAW_CHARS);
        return {
          run_id: runId,
          feed: feed.id,
          source,
          sheet: m.position.sheet ?? null,
          row_number: m.position.row,
          field: m.field ?? null,
          raw_value: kept,
          problem: m.problem,
          detail:
            kept.length < m.raw.length
              ? `${m.detail} (the row's first ${MAX_RAW_CHARS} characters kept)`
              : m.detail,
        };
      }),
    )
    .execute();
}
