/**
 * The bulk stage: a file whose connector offers its bytes is staged through COPY, with the records that are
 * current versions byte for byte left out — the file hashed while PostgreSQL sends the current versions' hashes
 * (src/load/recognize.ts, from the recognition cache when it describes the feed's table), then only the records
 * that are not one of them staged. UTF-8 files are normalized in Node as they stage (normalize-bulk.ts).
 *
 * Malformed for COPY, the file is read record by record instead (stage-records.ts).
 */
import { mapHeader } from '../normalize/header-map.ts';
import { type FirstPass, firstPass } from './first-pass.ts';
import { KeySet } from './key-set.ts';
import { LineHasher } from './line-hasher.ts';
import { normalizesInNode, stageNormalized } from './normalize-bulk.ts';
import { needsBase, writeBase } from './recognition-cache.ts';
import {
  type CurrentVersions,
  copyUnseen,
  loadCurrentVersions,
  type RecognitionCounts,
  type Recognized,
} from './recognize.ts';
import type { RunContext, RunHandles, Staged } from './run-context.ts';
import { copyBulk, createRawTable, dropStaging } from './stage.ts';

/**
 * The file staged by the bulk path; null when its connector offers no bytes or COPY rejected them (nothing of it
 * is staged then). Sets `handles.base` when it starts writing a new base of the recognition cache.
 */
export async function stageBulk(run: RunContext, handles: RunHandles): Promise<Staged | null> {
  const { wh, params: p, feed, path, connector, source, headerAliases: extra, isHeader, phase } = run;
  const { db } = wh;
  const {
    runId,
    raw,
    norm,
    unseen,
    state,
    generation,
    distributed,
    fingerprint,
    lateBefore,
    bytes,
    log: rlog,
  } = run;
  const bulk = connector?.bulk && path ? await connector.bulk({ path }, { isHeader }) : null;
  if (!bulk) return null;
  let header: readonly string[] | undefined;
  let recognized: Recognized | null = null;
  /** Staged by the bulk path (not read row by row). */
  let bulkStaged = false;
  /** Normalized as it was staged (the bulk path, in Node): normalized staging is there already. */
  let normalizedInNode = false;
  /** The valid rows' keys, counted as they are normalized in Node (key-set.ts). */
  const keys = new KeySet();
  const bulkMapping = mapHeader(feed, bulk.columns, source, extra); // fail fast on missing columns
  await createRawTable(db, raw, bulk.columns.length);
  phase('inspect');
  try {
    const totalBytes = bytes ?? undefined;
    // A record's bytes mean the same values only under the same header, column mapping and encoding.
    const lineFingerprint = JSON.stringify([
      'xxh3-128',
      fingerprint,
      bulk.encoding,
      bulk.delimiter,
      bulk.columns,
      bulkMapping.columns,
    ]);
    const expected = Number(state?.current_rows ?? 0);
    // A large re-sent snapshot is mostly recognised: PostgreSQL's core is idle and can hash. Not for a first
    // load, where it is busy parsing every row.
    const hasher = await LineHasher.create(lineFingerprint, expected >= 100_000);
    let n: number;
    let current: CurrentVersions | null;
    const counts: RecognitionCounts = { records: 0, recognized: 0, again: 0 };
    try {
      // The file's records hashed, and looked up once PostgreSQL has sent the current versions' hashes (first
      // pass: first-pass.ts); then only the records kept read again and staged (second pass). A late load is
      // compared with the versions valid at its date, not the current ones: nothing to recognise it by (and
      // the bulk path's data date is known before staging: no title rows).
      const versions = lateBefore
        ? Promise.resolve(null)
        : loadCurrentVersions(db, wh.pool, feed, expected, generation, { distributed });
      const first =
        expected > 0 && !lateBefore
          ? firstPass(
              bulk.open(),
              hasher,
              versions.then((v) => v?.set ?? null),
              counts,
              { delimiter: bulk.delimiter },
            )
          : null;
      let pass: FirstPass | null;
      [current, pass] = await Promise.all([versions, first]);
      phase('recognize');
      // The hashing thread's memory is let go before the second pass (which hashes its few records here).
      if (pass) await hasher.close();
      const onBytes = (bytes: number) => p.onProgress?.({ phase: 'staging', bytes, totalBytes });
      const recognition = { set: current?.set ?? null, counts, hasher, pass };
      // UTF-8 files are normalized in Node as they stage (src/load/normalize-bulk.ts); others in SQL below.
      normalizedInNode = await normalizesInNode(db, bulk);
      n = normalizedInNode
        ? await stageNormalized(db, wh.pool, {
            feed,
            source: bulk,
            raw,
            norm,
            columns: bulkMapping.columns,
            fingerprint,
            today: p.today,
            timeZone: p.timeZone,
            recognition,
            onBytes,
            keys,
          })
        : await copyBulk(db, wh.pool, raw, bulk, recognition, onBytes);
    } finally {
      await hasher.close();
    }
    header = bulk.columns;
    bulkStaged = true;
    if (current) {
      phase('stage');
      // While PostgreSQL normalizes, on the other core: the next load then reads an image of the set (~66 MB
      // for 2M versions) instead of the table or pairs to add one by one.
      if (needsBase(current)) {
        handles.base = writeBase(db, wh.pool, feed, current, generation);
        handles.base.catch(() => undefined); // awaited before publishing; a failure surfaces there
      }
      await copyUnseen(db, wh.pool, unseen, current);
      phase('unseen');
      recognized = { unseen, current, counts, pulledIn: 0 };
    }
    if (current?.refused) {
      rlog.warn({ reason: current.refused }, 'recognition cache not used: the feed table was read instead');
    }
    rlog.info(
      {
        rows: n,
        recognized: counts.recognized,
        encoding: bulk.encoding,
        path: 'bulk',
        ...(current
          ? {
              // The table, or the cache: its base an image of the set or pairs, and how many rows.
              versions_from: current.fromCache ? (current.fromImage ? 'cache' : 'cache pairs') : 'table',
              ...(current.fromCache ? { cache_rows: current.steps } : {}),
              new_base: handles.base !== null,
            }
          : {}),
      },
      'staged',
    );
  } catch (err) {
    // Malformed for COPY (ragged rows, stray quotes, bad bytes: PostgreSQL's data exceptions, SQLSTATE class
    // 22): the tolerant reader reports row by row. Anything else (a changed file, a lost connection, a bug)
    // fails the run rather than hide behind the slow path.
    // Once the file is staged (header set) a data exception is not the file's — the few ids of copyUnseen — and
    // reading it row by row would not help: it fails the run as it is, not later on a dropped staging table.
    if (!rejectedByCopy(err) || header !== undefined) throw err;
    rlog.info(
      { reason: (err as Error).message.split('\n')[0] },
      'bulk parser rejected the file; reading row by row',
    );
    recognized = null;
    normalizedInNode = false;
    await dropStaging(db, runId);
  }
  if (!header) return null;
  return {
    header,
    headerRow: 1,
    bulkStaged,
    normalizedInNode,
    keysUnique: normalizedInNode && !keys.maybeRepeated,
    recognized,
    connectorProblems: [],
    connectorSkipped: 0,
    checkpoint: undefined,
    readBounds: undefined,
    titles: undefined,
    columnStated: null,
  };
}

const rejectedByCopy = (err: unknown): boolean =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('22');
