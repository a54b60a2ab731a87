/**
 * Recognition of unchanged rows before they reach PostgreSQL, for delimited files read in bulk.
 *
 * A department re-sends its whole snapshot every month with a few rows changed. Each record of the file is
 * hashed in Node (src/load/line-hasher.ts); a record whose hash is that of a current version is the very line
 * that version was loaded from, so it is counted and dropped here — only the other records are staged,
 * normalized and diffed. What the loader learns about the dropped ones is kept in the set (which current
 * versions the file carried) and handed to SQL as the short list of those it did not carry.
 *
 * When the feed has current versions, the file is read twice: the first pass (src/load/first-pass.ts) hashes
 * every record while PostgreSQL sends the current versions' hashes (the two take about as long, and run on both
 * cores at once) and looks each one up as soon as they are in; the second copies out only the records kept and
 * stages them. A first load hashes as it stages.
 *
 * Every staged record carries its record number and hash in two leading columns, so the hash stored with a
 * version is the one the next load computes.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { RuralHubError } from '../../core/errors.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Database } from '../warehouse/schema.ts';
import type { LineHasher } from './line-hasher.ts';
import { ImageReader, PAIR_BYTES, RAW_HASH_BYTES, RawHashSet, UnreadableImageError } from './raw-hash-set.ts';
import { type RecordBatch, RecordSplitter } from './record-splitter.ts';
import type { RowBatch } from './row-normalizer.ts';

/**
 * The current versions a load may recognise by raw hash (`alias` names the feed table). Versions linked to a
 * person by name and birth date (id_link) are not: their link is decided again with every load.
 */
export const recognizable = (feed: FeedDefinition, alias: string): RawBuilder<unknown> =>
  sql`(${sql.ref(`${alias}.valid_to`)} IS NULL AND ${sql.ref(`${alias}.raw_hash`)} IS NOT NULL${
    feed.identity ? sql` AND ${sql.ref(`${alias}.id_link`)} IS NULL` : sql``
  })`;

/**
 * The feed's current versions: the hash of each recognizable one, in a set; the ids of the others, which no
 * file can carry unchanged. Null for a feed with no current version (a first load).
 */
export interface CurrentVersions {
  set: RawHashSet;
  unrecognizable: number[];
  /** All current versions. */
  total: number;
  /** Read from the recognition cache (src/load/recognition-cache.ts) rather than from the feed table… */
  fromCache: boolean;
  /** …and from a base that is the set's image (not pairs to add one by one). */
  fromImage: boolean;
  /** Steps of the cache read, and the hashes and ids they held (the base, added and removed since). */
  steps: number;
  entries: number;
  /** Why the cache, valid by its generation, was not used and the table read instead (src/load/stage-bulk.ts warns). */
  refused?: string;
}

/**
 * The recognizable versions with a hash of a line hash's size (`alias` names the feed table or a step's
 * returned rows): the ones a recognition set holds.
 */
export const hashedVersion = (feed: FeedDefinition, alias: string): RawBuilder<unknown> =>
  sql`(${recognizable(feed, alias)} AND octet_length(${sql.ref(`${alias}.raw_hash`)}) = ${sql.lit(RAW_HASH_BYTES)})`;

/** How loadCurrentVersions reads the current versions. */
export interface CurrentVersionsOptions {
  /** Heap blocks per packed value when the table is read (default BLOCKS_PER_VALUE; tests take 1). */
  blocksPerValue?: number;
  /** From the recognition cache when it describes the table (default); false: from the table itself. */
  cache?: boolean;
  /** The feed's table is distributed by Citus (src/load/placement.ts): read without block ranges. */
  distributed?: boolean;
  /** Bytes of the cache's image per row read (default IMAGE_SLICE; tests take a few). */
  imageSlice?: number;
}

/**
 * Reads the current versions: from the recognition cache when it describes the feed's table as it is (its
 * generation is the table's), else from the table itself. `generation` is the feed's as the load found it
 * when it started: a write since (by anything but a load, which holds the feed's lock) fails the load.
 */
export async function loadCurrentVersions(
  db: Kysely<Database>,
  pool: pg.Pool,
  feed: FeedDefinition,
  expected: number,
  generation: string | null,
  options: CurrentVersionsOptions = {},
): Promise<CurrentVersions | null> {
  const {
    blocksPerValue = BLOCKS_PER_VALUE,
    cache = true,
    distributed = false,
    imageSlice = IMAGE_SLICE,
  } = options;
  const current: CurrentVersions = {
    set: new RawHashSet(0), // replaced by the one read
    unrecognizable: [],
    total: 0,
    fromCache: false,
    fromImage: false,
    steps: 0,
    entries: 0,
  };
  const client = await pool.connect();
  try {
    // One snapshot for the generation and what it describes. One PostgreSQL process, not three: the file is
    // hashed on the other core meanwhile (measured on 2 cores: 0.92 s serial, 0.70 s with two parallel workers
    // that then compete with the hashing).
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
    const st = db
      .selectFrom('feed_state')
      .select(['generation', 'cache_generation', 'current_rows'])
      .where('feed', '=', feed.id)
      .compile();
    const row = (
      await client.query<{
        generation: string | null;
        cache_generation: string | null;
        current_rows: string;
      }>(st.sql, [...st.parameters])
    ).rows[0];
    if ((row?.generation ?? null) !== generation) throw new FeedWrittenError(feed.id);
    current.fromCache = cache && row?.cache_generation != null && row.cache_generation === row.generation;
    const stmt = (
      current.fromCache
        ? cachedCopy(feed, imageSlice)
        : distributed
          ? distributedCopy(feed)
          : packedCopy(feed, blocksPerValue)
    ).compile(db);
    await pipeline(client.query(copyTo(stmt.sql)), packedVersions(current, expected));
    // A cache that does not add up to the versions its load left (a step lost, or read out of its order: what
    // only a hand on the table does) would recognise records as versions that ended, or end live ones: the
    // table is read instead.
    if (current.fromCache && row && current.total !== Number(row.current_rows)) {
      throw new UnreadableImageError(
        `a recognition cache of ${current.total} versions where the feed has ${row.current_rows}`,
      );
    }
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    client.release(true); // mid-COPY or mid-transaction: not fit to go back to the pool
    // A base written on a machine of the other byte order, cut short, or a cache that does not add up: the table
    // is read instead (and a new base written).
    if (err instanceof UnreadableImageError) {
      const fromTable = await loadCurrentVersions(db, pool, feed, expected, generation, {
        ...options,
        cache: false,
      });
      if (fromTable) fromTable.refused = err.message;
      return fromTable;
    }
    throw err;
  }
  return current.total ? current : null;
}

/** Heap blocks per packed value: 16 MB of table, at most ~14 MB of hashes and ids (bytea's limit is 1 GB). */
const BLOCKS_PER_VALUE = 2048;

/**
 * The current versions, packed by PostgreSQL into values per range of the table's blocks: hash + int8 id of
 * each recognizable one, int8 id of each other (no image, no removals: the shape of a cache step, read by the
 * same parser). One COPY row per version cost more in Node than the whole scan in PostgreSQL (pg-copy-streams
 * handles each row's message on its own: measured 1.5 s against 0.4 s packed for 2M versions); one value for
 * the whole table would arrive only once the scan is over. Ranges of blocks (TID range scans, in the heap's
 * order) stream: Node takes in one while PostgreSQL packs the next. Filtered aggregates, not GROUP BY: the
 * planner sorted 2M rows to form two groups.
 */
function packedCopy(feed: FeedDefinition, blocksPerValue: number): RawBuilder<unknown> {
  const ok = hashedVersion(feed, 'f');
  const step = sql.lit(blocksPerValue);
  const blocks = sql`(pg_relation_size(quote_ident(${sql.lit(feed.id)})::regclass)
    / current_setting('block_size')::bigint)::bigint`;
  return sql`COPY (SELECT NULL::int8 AS at, NULL::bytea AS image, a.pairs, a.ids, NULL::bytea AS removed
      FROM generate_series(0::bigint, ${blocks}, ${step}) AS b(lo)
      CROSS JOIN LATERAL (
        SELECT string_agg(f.raw_hash || int8send(f.version_id), ''::bytea) FILTER (WHERE ${ok}) AS pairs,
               string_agg(int8send(f.version_id), ''::bytea) FILTER (WHERE NOT ${ok}) AS ids
        FROM ${sql.id(feed.id)} f
        WHERE f.ctid >= format('(%s,0)', b.lo)::tid AND f.ctid < format('(%s,0)', b.lo + ${step})::tid
          AND f.valid_to IS NULL) a)
    TO STDOUT WITH (FORMAT binary)`;
}

/**
 * packedCopy for a feed table distributed by Citus: a scan by ranges of ctid in a LATERAL subquery cannot be pushed
 * down to the shards ("cannot push down this subquery"), and block ranges mean nothing across shards. The workers
 * send each current version's hash and id, which the coordinator packs per range of version ids (~12 MB values,
 * as packedCopy's: Node takes in one while the next is packed, and no value nears bytea's 1 GB).
 */
function distributedCopy(feed: FeedDefinition): RawBuilder<unknown> {
  const ok = hashedVersion(feed, 'f');
  return sql`COPY (SELECT NULL::int8 AS at, NULL::bytea AS image,
        string_agg(f.raw_hash || int8send(f.version_id), ''::bytea) FILTER (WHERE ${ok}) AS pairs,
        string_agg(int8send(f.version_id), ''::bytea) FILTER (WHERE NOT ${ok}) AS ids,
        NULL::bytea AS removed
      FROM ${sql.id(feed.id)} f WHERE f.valid_to IS NULL
      GROUP BY f.version_id / ${sql.lit(VERSIONS_PER_VALUE)})
    TO STDOUT WITH (FORMAT binary)`;
}

/** Versions per packed value of distributedCopy: at most 12 MB of hashes and ids. */
const VERSIONS_PER_VALUE = 2 ** 19;

/**
 * The cache's base image first, then its steps newest first: a step's removals then apply to the steps read
 * after it (older ones) and to the image. The image comes in slices of IMAGE_SLICE bytes, a row each: as one
 * value (~66 MB for 2M versions) PostgreSQL detoasted and sent it in 0.67–0.83 s, in 1 MB slices (each read
 * from its own TOAST chunks) in 0.10–0.24 s, and Node takes in one slice while the next is read.
 * No ORDER BY over the slices: a sort holds every slice (66 MB: it spilled to disk past work_mem, and nothing
 * was sent before it ended — 0.38 s against 0.21 s without, PostgreSQL 15). Each row says where it belongs
 * instead (`at`: a slice's number, a step's seq), and packedVersions fails on a row out of place, so the load
 * reads the table: PostgreSQL runs this plan (an Append of a nested loop over generate_series, then the steps
 * sorted by seq) in that order, but SQL does not promise it. The steps, small, are sorted by the query.
 */
function cachedCopy(feed: FeedDefinition, imageSlice: number): RawBuilder<unknown> {
  const slice = sql.lit(imageSlice);
  return sql`COPY (SELECT s.i::int8 AS at, substr(c.image, 1 + s.i * ${slice}, ${slice}) AS image,
        NULL::bytea AS pairs, NULL::bytea AS ids, NULL::bytea AS removed
      FROM recognition_cache c
      CROSS JOIN LATERAL generate_series(0, (octet_length(c.image) - 1) / ${slice}) AS s(i)
      WHERE c.feed = ${sql.lit(feed.id)} AND c.image IS NOT NULL
      UNION ALL
      (SELECT c.seq, NULL, c.pairs, c.ids, c.removed FROM recognition_cache c
        WHERE c.feed = ${sql.lit(feed.id)} AND c.image IS NULL ORDER BY c.seq DESC))
    TO STDOUT WITH (FORMAT binary)`;
}

/** Bytes of the image per row of cachedCopy. */
const IMAGE_SLICE = 2 ** 20;

/**
 * PostgreSQL's binary COPY of (at int8, then image, pairs, ids, removed — all bytea): a 19-byte header, then per
 * tuple an int16 field count (−1 ends the data) and per field an int32 length (−1: NULL) and its bytes. Values
 * are read as they arrive: an image is the set itself (src/load/raw-hash-set.ts); the others come in units of 24
 * bytes (hash, id) in `pairs`, 8 (id) in `ids` and `removed`. Steps come newest first, after the image if there
 * is one: a version removed by a step is left out of the steps read after it (older ones: it was added before
 * the removal) and out of the image. Additions after an image are held until its removals are done. `at` says
 * where a row belongs (cachedCopy: a slice's number, a step's seq; NULL for the table's packed values): a slice
 * or a step out of place raises UnreadableImageError, and the load reads the table instead.
 */
export function packedVersions(into: CurrentVersions, expected: number): Writable {
  const HEADER = 19;
  const [AT, IMAGE, PAIRS, IDS, REMOVED] = [0, 1, 2, 3, 4] as const;
  const UNITS = [8, 1, PAIR_BYTES, 8, 8] as const;
  type Field = typeof AT | typeof IMAGE | typeof PAIRS | typeof IDS | typeof REMOVED;
  const removed = new Set<number>();
  let set: RawHashSet | null = null;
  let image: ImageReader | null = null;
  let live = 0;
  /** Pairs read after an image, kept until the image's removals are done. */
  const later: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let headerDone = false;
  let ended = false;
  /** The field being read (−1: at a tuple's start) and the bytes of it not read yet (−1: its length). */
  let field: Field | -1 = -1;
  let left = -1;
  /** The tuple's `at` (null: NULL), the next slice's number, the last step's seq. */
  let position: number | null = null;
  let slices = 0;
  let lastStep: number | null = null;
  const outOfPlace = () => new UnreadableImageError('recognition cache rows out of order');
  // An int64 read as two halves: exact below 2^53, and without a BigInt per version.
  const idAt = (buf: Buffer, at: number) => buf.readInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
  const bad = () => new Error('unexpected packed versions from PostgreSQL');
  const take = (buf: Buffer, at: number, end: number): void => {
    if (end === at) return; // NULL, or the rest of the value yet to come
    if (field === AT) {
      position = idAt(buf, at);
      return;
    }
    const all = removed.size === 0;
    const unit = UNITS[field as Field];
    if (field === IMAGE) {
      // An image is the base: its slices are the first values, if any.
      if (into.steps !== 1 || set) throw outOfPlace();
      image ??= new ImageReader();
      image.push(buf.subarray(at, end));
      return;
    }
    set ??= new RawHashSet(expected);
    if (field === PAIRS) {
      const keep = image ? Buffer.allocUnsafe(end - at) : null;
      let k = 0;
      for (; at < end; at += unit) {
        const id = idAt(buf, at + RAW_HASH_BYTES);
        if (!all && removed.has(id)) continue;
        if (keep) k += buf.copy(keep, k, at, at + unit);
        else set.add(buf, at, id);
        into.total++;
      }
      if (keep && k) later.push(keep.subarray(0, k));
    } else if (field === IDS) {
      for (; at < end; at += unit) {
        const id = idAt(buf, at);
        if (all || !removed.has(id)) {
          into.unrecognizable.push(id);
          into.total++;
        }
      }
    } else for (; at < end; at += unit) removed.add(idAt(buf, at));
  };
  const finishImage = () => {
    ({ set, live } = image!.finish());
    into.total += live;
    into.entries += live;
    into.fromImage = true;
  };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const buf: Buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      if (!headerDone) {
        if (buf.length < HEADER) {
          pending = buf;
          return done();
        }
        at = HEADER;
        headerDone = true;
      }
      try {
        while (!ended) {
          if (field === -1) {
            if (buf.length - at < 2) break;
            const fields = buf.readInt16BE(at);
            at += 2;
            if (fields === -1) {
              ended = true; // trailer
              at = buf.length;
              if (image && !set) finishImage(); // an image and no step
              break;
            }
            if (fields !== UNITS.length) throw bad();
            field = AT;
            position = null;
            into.steps++;
          }
          if (left === -1) {
            if (buf.length - at < 4) break;
            const length = buf.readInt32BE(at);
            left = Math.max(0, length); // NULL: none
            at += 4;
            if (left % UNITS[field]) throw bad();
            if (field === IMAGE) {
              if (length > 0) {
                if (position !== slices++) throw outOfPlace();
              } else if (position !== null) {
                if (lastStep !== null && position >= lastStep) throw outOfPlace();
                lastStep = position;
              }
            }
            // After an image's first slice: the next one is part of the same step; a step ends the image.
            if (field === IMAGE && image && !set) {
              if (length > 0) into.steps--;
              else finishImage();
            }
          }
          const unit = UNITS[field];
          const whole = Math.min(left, Math.floor((buf.length - at) / unit) * unit);
          take(buf, at, at + whole);
          at += whole;
          if (field > IMAGE) into.entries += whole / unit;
          left -= whole;
          if (left > 0) break; // the rest of the value is in the next chunk
          left = -1;
          field = field === REMOVED ? -1 : ((field + 1) as Field);
        }
      } catch (err) {
        return done(err as Error);
      }
      pending = Buffer.from(buf.subarray(at));
      done();
    },
    final(done) {
      set ??= new RawHashSet(expected);
      if (image && removed.size) into.total -= set.remove(removed);
      for (const pairs of later) {
        for (let at = 0; at < pairs.length; at += PAIR_BYTES)
          set.add(pairs, at, idAt(pairs, at + RAW_HASH_BYTES));
      }
      into.set = set;
      done();
    },
  });
}

/**
 * Writes the ids of the current versions the file did not carry unchanged (unseen by the recognizer, or not
 * recognizable) into `table` (version_id bigint): for a re-sent snapshot with a few changes, a short list.
 */
export async function copyUnseen(
  db: Kysely<Database>,
  pool: pg.Pool,
  table: string,
  current: CurrentVersions,
): Promise<void> {
  await sql`CREATE UNLOGGED TABLE ${sql.id(table)} (version_id bigint NOT NULL)`.execute(db);
  const stmt = sql`COPY ${sql.id(table)} (version_id) FROM STDIN`.compile(db);
  function* lines(): Generator<string> {
    let batch: string[] = [];
    for (const id of chain(current.set.unseen(), current.unrecognizable)) {
      batch.push(`${id}\n`);
      if (batch.length === 4096) {
        yield batch.join('');
        batch = [];
      }
    }
    if (batch.length) yield batch.join('');
  }
  const client = await pool.connect();
  try {
    await pipeline(Readable.from(lines()), client.query(copyFrom(stmt.sql)));
  } finally {
    client.release();
  }
  await sql`ANALYZE ${sql.id(table)}`.execute(db);
}

function* chain<T>(...parts: Iterable<T>[]): Generator<T> {
  for (const p of parts) yield* p;
}

export interface RecognitionCounts {
  /** Data records in the file (the header not counted). */
  records: number;
  /** Records whose hash is a current version's, first time seen: unchanged, not staged. */
  recognized: number;
  /** Further records with a hash already seen in this file: exact duplicates, not staged. */
  again: number;
}

/** What the recognizer reads a file's records with when no first pass did (src/load/first-pass.ts). */
export interface InlineRecognition {
  set: RawHashSet | null;
  counts: RecognitionCounts;
  hasher: LineHasher;
}

/**
 * The records of `source` (file bytes, header line included, BOM excluded) to stage, numbered, as batches of
 * their own memory: with a set, each record is hashed and looked up, and the recognised ones left out; without
 * one, every record, hashed only with `hashAll` (the row normalizer hashes the others itself).
 */
export async function* unrecognizedRows(
  source: AsyncIterable<Buffer>,
  r: InlineRecognition,
  hashAll: boolean,
  onBytes?: (bytes: number) => void,
  delimiter = ',',
): AsyncGenerator<RowBatch> {
  const splitter = new RecordSplitter({ delimiter });
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.length;
    onBytes?.(bytes);
    for (const batch of splitter.push(chunk)) {
      const rows = await unrecognized(batch, r, hashAll);
      if (rows) yield rows;
    }
  }
  for (const batch of splitter.end()) {
    const rows = await unrecognized(batch, r, hashAll);
    if (rows) yield rows;
  }
}

async function unrecognized(
  batch: RecordBatch,
  r: InlineRecognition,
  hashAll: boolean,
): Promise<RowBatch | null> {
  const { buf, starts, ends } = batch;
  const n = starts.length;
  if (n === 0) return null;
  if (!r.set) {
    const base = starts[0]!;
    const bytes = new Uint8Array(ends[n - 1]! - base);
    bytes.set(buf.subarray(base, ends[n - 1]!));
    const from = new Int32Array(n);
    const to = new Int32Array(n);
    const recNos = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      from[i] = starts[i]! - base;
      to[i] = ends[i]! - base;
      recNos[i] = ++r.counts.records;
    }
    const hashes = hashAll ? new Uint8Array(await r.hasher.hash(batch)) : null;
    return { bytes, starts: from, ends: to, recNos, hashes };
  }
  const hashed = await r.hasher.hash(batch);
  const keep: number[] = [];
  const keepNos: number[] = [];
  recognizeRecords(n, hashed, r.set, r.counts, (i, recNo) => {
    keep.push(i);
    keepNos.push(recNo);
  });
  if (!keep.length) return null;
  let size = 0;
  for (const i of keep) size += ends[i]! - starts[i]!;
  const bytes = new Uint8Array(size);
  const from = new Int32Array(keep.length);
  const to = new Int32Array(keep.length);
  const hashes = new Uint8Array(RAW_HASH_BYTES * keep.length);
  let at = 0;
  keep.forEach((i, k) => {
    from[k] = at;
    bytes.set(buf.subarray(starts[i]!, ends[i]!), at);
    at += ends[i]! - starts[i]!;
    to[k] = at;
    hashes.set(hashed.subarray(RAW_HASH_BYTES * i, RAW_HASH_BYTES * (i + 1)), RAW_HASH_BYTES * k);
  });
  return { bytes, starts: from, ends: to, recNos: Float64Array.from(keepNos), hashes };
}

/**
 * Raw staging's CSV lines of a file's records to stage (their hashes computed): each record with its record
 * number and hash in front. An empty line is a row of empty cells (a blank row, skipped and counted), not a COPY
 * error.
 */
export async function* stagingLines(
  batches: AsyncIterable<RowBatch>,
  delimiter: string,
  width: number,
): AsyncGenerator<Buffer> {
  const blank = Buffer.from(delimiter.repeat(Math.max(0, width - 1)));
  const newline = Buffer.from('\n');
  for await (const { bytes, starts, ends, recNos, hashes } of batches) {
    if (!hashes) throw new Error('internal: staging lines of records not hashed');
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: Buffer[] = [];
    for (let i = 0; i < starts.length; i++) {
      const hex = Buffer.from(hashes.buffer, hashes.byteOffset + RAW_HASH_BYTES * i, RAW_HASH_BYTES).toString(
        'hex',
      );
      out.push(Buffer.from(`${recNos[i]}${delimiter}\\x${hex}${delimiter}`));
      out.push(ends[i]! > starts[i]! ? buf.subarray(starts[i]!, ends[i]!) : blank, newline);
    }
    yield Buffer.concat(out);
  }
}

/**
 * Numbers a batch's `n` records (counts.records) and looks each up by its hash (`hashed`, 16 bytes a record) in
 * the current versions' set: a current version's is counted as recognised, one seen before in this file as an
 * exact duplicate; `onNew` gets each other record's index in the batch and its record number. Without a set,
 * every record is new.
 */
export function recognizeRecords(
  n: number,
  hashed: Uint8Array,
  set: RawHashSet | null,
  counts: RecognitionCounts,
  onNew: (i: number, recNo: number) => void,
): void {
  for (let i = 0; i < n; i++) {
    const recNo = ++counts.records;
    const seen = set ? set.see(hashed, recNo, RAW_HASH_BYTES * i) : 'absent';
    if (seen === 'first') counts.recognized++;
    else if (seen === 'again') counts.again++;
    else onNew(i, recNo);
  }
}

/** The recognizer's two passes saw different files. */
export class FileChangedError extends RuralHubError {
  constructor() {
    super('data', 'the file changed while it was being loaded; load it again once it is complete');
  }
}
export const fileChanged = () => new FileChangedError();

/** The feed's table was written, during this load, by something other than it. */
export class FeedWrittenError extends RuralHubError {
  constructor(feed: string) {
    super(
      'data',
      `feed ${feed}: its table was written by something other than this load while it ran; nothing was ` +
        'published: run the import again',
    );
  }
}

/**
 * What the bulk path recognised before staging; null on the record path and on a feed's first load.
 * `unseen` names the table of the ids of the current versions the file did not carry unchanged. The statements
 * after staging read it through a Recognition (recognition.ts).
 */
export interface Recognized {
  unseen: string;
  current: CurrentVersions;
  counts: RecognitionCounts;
  /** Recognised records put back into staging to meet a staged row of the same key (src/load/pull-in.ts). */
  pulledIn: number;
}
