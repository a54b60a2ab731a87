/**
 * A failed run: its ledger row marked failed with the reason (and the file's hash), and the error the caller
 * gets — a full disk named as such, a database fault as transient, anything else as the load's failure.
 */
import { dataError, RuralHubError, terminalError } from '../../core/errors.ts';
import { databaseFault, within } from '../warehouse/connect.ts';
import { failRun } from '../warehouse/ledger.ts';
import type { LoadInput, RunHandles } from './run-context.ts';

/** Records the failure (bounded: the database may not answer) and returns the error to throw. */
export async function runFailed(input: LoadInput, handles: RunHandles, thrown: unknown): Promise<unknown> {
  const { wh, source, limits } = input;
  // A full disk (the warehouse's: SQLSTATE 53100; or this host's: ENOSPC) is named as such, not as bad data:
  // a person must free space. The load's one transaction rolled back: nothing of it was published.
  const code = (thrown as { code?: unknown } | null)?.code;
  const err =
    code === '53100' || code === 'ENOSPC'
      ? terminalError(
          `${source}: import failed, disk full: ${(thrown as Error).message}; nothing of this load was published`,
          thrown,
        )
      : thrown;
  // A lost or stalled connection, a statement over its limit: transient (exit 75), named in the ledger.
  const failure = databaseFault(err) ?? err;
  // Bounded: after a database fault the database may not answer these either. Then the run stays `running`
  // and the next run of the feed marks it abandoned (failAbandoned).
  if (handles.runId) await within(failRun(wh.db, handles.runId, failure), limits.graceMs);
  await within(handles.recordSha?.() ?? Promise.resolve(), limits.graceMs);
  return failure instanceof RuralHubError
    ? failure
    : dataError(`${source}: import failed: ${(err as Error).message}`, err);
}
