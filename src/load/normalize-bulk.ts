/**
 * The bulk path's stage and normalize in one pass, in Node: a delimited UTF-8 file's records — past the
 * recognizer (src/load/recognize.ts), which drops the current versions' — are normalized by the TypeScript twins
 * (src/load/row-normalizer.ts) on the hashing thread (src/load/hash-worker.ts) and, when that one is behind, on
 * this one, and stream into normalized staging by binary COPY. Normalized staging gets exactly the rows the SQL
 * statement (src/load/normalize-staged.ts) would have made from raw staging; raw staging gets only the rows
 * quarantine, identity linking and review read (the rejected ones) and the few left to SQL, which the statement
 * then normalizes into the same table.
 *
 * Why: normalizing in SQL cost 7–30 µs a row (rh_id, two md5s, ROW text), the twins a fraction of it, and the
 * file's 2M rows no longer pass through PostgreSQL twice (raw, then normalized).
 */
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { BulkSource } from '../../connectors/connector.ts';
import { vocabularyKey } from '../../core/chars.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { columnTypeOf } from '../warehouse/feed-table.ts';
import type { Database } from '../warehouse/schema.ts';
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from './copy-binary.ts';
import { HashWorker } from './hash-worker.ts';
import type { KeySet } from './key-set.ts';
import { buildNormalize, missingProblem } from './normalize-staged.ts';
import {
  type RegionSets,
  type RowBatch,
  type RowField,
  RowNormalizer,
  type RowOutput,
  type RowPlan,
} from './row-normalizer.ts';
import { type BulkRecognition, copyStream, rawColumn, rowsToStage, writeCopy } from './stage.ts';

export interface BulkNormalizeParams {
  feed: FeedDefinition;
  source: BulkSource;
  /** Raw staging (created, empty) and the normalized staging table to make. */
  raw: string;
  norm: string;
  /** canonical field → 0-based column of the file */
  columns: Readonly<Record<string, number>>;
  today: string;
  timeZone: string;
  /** The settings fingerprint (normalizationFingerprint), for the rows left to SQL. */
  fingerprint: string;
  recognition: BulkRecognition;
  onBytes?: (bytes: number) => void;
  /**
   * The valid rows' business keys are counted into it: once staged, `keys.maybeRepeated` false means no two
   * valid rows share a key, and the ranking statement need not run. Rows left to SQL make it "maybe".
   */
  keys?: KeySet;
  /** Overrides THREAD_QUEUE (tests: the thread's path on any machine). */
  threadQueue?: number;
}

/** Rows above the first record: the header line (the bulk path is taken only when it is the first line). */
const HEADER_ROW = 1;
/**
 * Batches handed to the thread and not back yet, before this thread normalizes one itself; 0: no thread (one
 * core). PostgreSQL's COPY backend takes ~20 % of a core while Node normalizes (binary rows are cheap to take in),
 * so on two cores the thread has most of the second one. Measured on 2 cores, a first load of 2M roster rows,
 * PostgreSQL 15, runs alternated: stage 10.9–11.8 s with the thread, 12.8–14.5 s without; peak RSS 272–281 MB
 * against 236–241. (Before the row normalizer cost ~7 µs a row instead of ~5 the thread lost there: 500k rows,
 * stage to ranking, 36.2 s with it against 16.2–18.5 s without, peak RSS 292–308 MB.)
 */
const THREAD_QUEUE = availableParallelism() > 1 ? 2 : 0;
/**
 * Fewer rows than this in a batch are normalized here: the hand-over costs more than it saves, and the rows a
 * re-sent snapshot stages (the few not recognised) never start the thread at all.
 */
const THREAD_MIN_ROWS = 512;
/** Batches normalized and not yet written, before the file is read on: memory stays a few chunks. */
const IN_FLIGHT = 4;

/**
 * Whether the file's rows can be normalized in Node with the same result as in SQL: UTF-8 bytes (a GB18030 CSV
 * arrives here already transcoded to UTF-8 by connectors/gb18030.ts), and dates printed as ISO in the row text the
 * row hash is taken of.
 */
export async function normalizesInNode(db: Kysely<Database>, source: BulkSource): Promise<boolean> {
  if (source.encoding !== 'UTF8') return false;
  const { rows } = await sql<{ style: string }>`SELECT current_setting('DateStyle') AS style`.execute(db);
  return rows[0]?.style.startsWith('ISO') ?? false;
}

/** Stages and normalizes the file (see the top of this file). Returns the records staged. */
export async function stageNormalized(
  db: Kysely<Database>,
  pool: pg.Pool,
  p: BulkNormalizeParams,
): Promise<number> {
  const { feed, raw, norm, source } = p;
  const width = source.columns.length;
  const params = {
    feed,
    rawTable: raw,
    normTable: norm,
    columns: p.columns,
    width,
    headerRow: HEADER_ROW,
    today: p.today,
    timeZone: p.timeZone,
    fingerprint: p.fingerprint,
    lookupKnown: false,
  };
  const plan: RowPlan = {
    width,
    delimiter: source.delimiter.charCodeAt(0),
    headerRow: HEADER_ROW,
    today: p.today,
    timeZone: p.timeZone,
    fields: rowFields(feed, p.columns),
    regions: await regionSets(db, feed),
    identity: feed.identity !== undefined,
    seed: p.recognition.hasher.seed,
    key: feed.key.map((k) => Object.keys(feed.fields).indexOf(k)),
  };
  const queue = p.threadQueue ?? THREAD_QUEUE;
  /** Started by the first batch worth handing over (it loads the normalizers meanwhile). */
  let worker: HashWorker | null = null;
  const thread = (): HashWorker => {
    if (!worker) {
      worker = new HashWorker(plan.seed);
      worker.plan(plan);
    }
    return worker;
  };
  const here = await RowNormalizer.create(plan);
  const toSql: number[] = [];
  let staged = 0;
  const normClient = await pool.connect();
  let rawClient: pg.PoolClient | null = null;
  let failed: Error | null = null;
  try {
    // The table as the SQL statement makes it, from the raw table while it is empty (the same columns and
    // types), in the COPY's transaction: COPY … FREEZE then writes its rows frozen, so that ANALYZE, ranking,
    // the plan and publishing do not each dirty every page setting hint bits (a bench run on PostgreSQL 15 took
    // 10.7 s for ANALYZE and ranking after a plain COPY; with FREEZE, 3.6–4.0 s, as after the statement's 3.9–4.2
    // s; 500k roster rows).
    await normClient.query('BEGIN');
    const create = buildNormalize(params).compile(db);
    await normClient.query(create.sql, [...create.parameters]);
    await assertLayout(normClient, db, feed, norm);
    rawClient = await pool.connect();
    const normCopy = copyStream(
      normClient,
      sql`COPY ${sql.id(norm)} FROM STDIN WITH (FORMAT binary, FREEZE)`.compile(db).sql,
    );
    const rawCols = [
      sql.id('rec_no'),
      sql.id('raw_hash'),
      ...source.columns.map((_, i) => sql.id(rawColumn(i))),
    ];
    const rawCopy = copyStream(
      rawClient,
      sql`COPY ${sql.id(raw)} (${sql.join(rawCols)}) FROM STDIN WITH (FORMAT binary)`.compile(db).sql,
    );
    const finished = [normCopy, rawCopy].map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          s.on('finish', resolve);
          s.on('error', reject);
        }),
    );
    // Awaited on success; on a failure the COPYs are destroyed on purpose and their errors are not news.
    for (const f of finished) f.catch(() => undefined);
    const write = async (stream: Writable, bytes: Uint8Array) => {
      if (bytes.length)
        await writeCopy(stream, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    };
    await write(normCopy, COPY_BINARY_HEADER);
    await write(rawCopy, COPY_BINARY_HEADER);

    const pending: Promise<RowOutput>[] = [];
    const drain = async (keep: number) => {
      while (pending.length > keep) {
        const out = await pending.shift()!;
        staged += out.rows + out.toSql.length;
        for (const r of out.toSql) toSql.push(r);
        p.keys?.addAll(out.keys);
        await write(normCopy, out.norm);
        await write(rawCopy, out.raw);
      }
    };
    const dispatch = async (rows: RowBatch) => {
      const big = queue > 0 && rows.starts.length >= THREAD_MIN_ROWS;
      const done =
        big && thread().rowsWaiting < queue
          ? thread().rows(rows)
          : new Promise<RowOutput>((resolve) => resolve(here.normalize(rows)));
      done.catch(() => undefined); // awaited in turn by drain; the first failure is the one reported
      pending.push(done);
      await drain(IN_FLIGHT);
    };

    for await (const rows of rowsToStage(source, p.recognition, false, p.onBytes)) await dispatch(rows);
    await drain(0);
    await write(normCopy, COPY_BINARY_TRAILER);
    await write(rawCopy, COPY_BINARY_TRAILER);
    normCopy.end();
    rawCopy.end();
    await Promise.all(finished);
    await normClient.query('COMMIT');
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // (set inside thread(): TypeScript's narrowing does not see it)
    await (worker as HashWorker | null)?.close();
    // A connection left mid-COPY is not fit for the next statement: discarded on a failure.
    normClient.release(failed ?? undefined);
    rawClient?.release(failed ?? undefined);
  }
  if (toSql.length) {
    await buildNormalize({ ...params, recNos: toSql }).execute(db);
    p.keys?.repeated(); // their keys were not seen here
  }
  return staged;
}

/** The feed's fields as the row normalizer reads them. */
function rowFields(feed: FeedDefinition, columns: Readonly<Record<string, number>>): RowField[] {
  return Object.entries(feed.fields).map(([name, spec]) => {
    const t = spec.type;
    return {
      name,
      kind: t.kind,
      col: columns[name] ?? null,
      missing: missingProblem(spec),
      ...(t.kind === 'enum'
        ? {
            vocabulary: Object.entries(t.values).flatMap(([canon, spellings]) =>
              spellings.map((s) => [vocabularyKey(s), canon] as const),
            ),
          }
        : {}),
    };
  });
}

/** The regions table as the region checks read it, for a feed with region fields; null when it is empty. */
async function regionSets(db: Kysely<Database>, feed: FeedDefinition): Promise<RegionSets | null> {
  if (!['township', 'village', 'village_code'].some((f) => f in feed.fields)) return null;
  const { rows } = await sql<{ code: string; name: string; level: string; parent: string | null }>`
    SELECT r.code, r.name, r.level, p.name AS parent FROM regions r LEFT JOIN regions p ON p.code = r.parent_code`.execute(
    db,
  );
  if (!rows.length) return null;
  const townships: Record<string, number> = {};
  const pairs: Record<string, number> = {};
  const villages: string[] = [];
  const villageCodes: string[] = [];
  for (const r of rows) {
    if (r.level === 'township') townships[r.name] = (townships[r.name] ?? 0) + 1;
    if (r.level !== 'village') continue;
    villages.push(r.name);
    villageCodes.push(r.code);
    if (r.parent !== null) pairs[`${r.parent}\t${r.name}`] = (pairs[`${r.parent}\t${r.name}`] ?? 0) + 1;
  }
  return { townships, pairs, villages, villageCodes };
}

/**
 * The normalized table's columns and types must be those the row normalizer writes, in order (its binary rows
 * carry no names): a change of the SQL statement's shape fails every bulk load here, not with garbled rows.
 */
async function assertLayout(
  client: pg.PoolClient,
  db: Kysely<Database>,
  feed: FeedDefinition,
  norm: string,
): Promise<void> {
  const expected = [
    'rec_no bigint',
    'row_number integer',
    'sheet text',
    'skip text',
    'raw_hash bytea',
    'known boolean',
    ...Object.entries(feed.fields).map(([name, spec]) => `${name} ${columnTypeOf(spec.type)}`),
    'problems text[]',
    'ok boolean',
    'row_hash bytea',
    'rn bigint',
    'hrn bigint',
    ...(feed.identity ? ['id_link text', 'link_fp text', 'link_keys bigint[]'] : []),
  ];
  const query = sql<{ col: string }>`
    SELECT attname || ' ' || format_type(atttypid, atttypmod) AS col FROM pg_attribute
    WHERE attrelid = ${norm}::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`.compile(db);
  const { rows } = await client.query<{ col: string }>(query.sql, [...query.parameters]);
  const actual = rows.map((r) => r.col);
  if (actual.join(', ') !== expected.join(', '))
    throw new Error(
      `internal: normalized staging is (${actual.join(', ')}); the row normalizer writes (${expected.join(', ')})`,
    );
}
