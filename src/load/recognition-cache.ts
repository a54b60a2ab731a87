/**
 * The recognition cache: the raw hash and id of each of a feed's current versions, kept between loads so that
 * recognising a re-sent snapshot (src/load/recognize.ts) need not read them from the feed table (a scan of all
 * of it: 1.0–1.3 s for a 2M-row roster, on the critical path with the file's hashing).
 *
 * It is a base and steps in `recognition_cache` (migration 0014). The base is the image of the set a load held
 * (src/load/raw-hash-set.ts: read back by copying, ~0.3 s for 2M versions against 0.8 s for their pairs added one
 * by one), or the pairs of a feed's first load. Each step is "remove these ids, then add these pairs and ids":
 * the publish statements write theirs from the rows they return, in the transaction that publishes them. A load
 * that read the table, pairs or too many steps writes a new base from the set it holds, alongside
 * normalization. Trusted only while `feed_state.cache_generation` equals `feed_state.generation`, which a trigger
 * replaces on every write to the feed table by anyone: then the cache is exactly the table's current versions.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Compilable, type Kysely, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Database } from '../warehouse/schema.ts';
import { writeId } from './raw-hash-set.ts';
import { type CurrentVersions, FeedWrittenError, hashedVersion } from './recognize.ts';

/** Ids per row of a base's ids no file can carry: 4 MB values. */
const IDS_PER_ROW = 2 ** 19;

/**
 * Steps past which a publish drops the cache instead of adding to it (a feed loaded only by the record path,
 * which never reads it, would otherwise grow it with every load).
 */
const MAX_STEPS = 64;

/**
 * Whether the load should write a new base before it publishes: when the current versions came from the table
 * (no valid cache) or from a base of pairs (a first load's), or when the steps have grown to where reading them
 * costs noticeably more than a base (each load adds up to three, with ~2 entries per changed row).
 */
export function needsBase(current: CurrentVersions): boolean {
  return (
    !current.fromImage || current.steps > MAX_STEPS / 2 || current.entries > 1.25 * current.total + 10_000
  );
}

/**
 * Replaces the feed's cache by a base holding `current` (the current versions as the load read them, before it
 * publishes) and marks it valid for `generation` — unless the table was written since, in which case it stays
 * invalid (and the publish fails on the same check). Its own transaction: it runs alongside normalization.
 * The base is the set's image, streamed from its memory in one binary COPY row (no copy of it in Node), and
 * the ids no file can carry.
 */
export async function writeBase(
  db: Kysely<Database>,
  pool: pg.Pool,
  feed: FeedDefinition,
  current: CurrentVersions,
  generation: string | null,
): Promise<void> {
  const client = await pool.connect();
  const run = (q: Compilable) => {
    const c = q.compile();
    return client.query(c.sql, [...c.parameters]);
  };
  try {
    await client.query('BEGIN');
    await run(db.deleteFrom('recognition_cache').where('feed', '=', feed.id));
    const copy = sql`COPY recognition_cache (feed, image) FROM STDIN WITH (FORMAT binary)`.compile(db);
    await pipeline(
      Readable.from(binaryRow([Buffer.from(feed.id)], current.set.image())),
      client.query(copyFrom(copy.sql)),
    );
    for (let i = 0; i < current.unrecognizable.length; i += IDS_PER_ROW) {
      const part = current.unrecognizable.slice(i, i + IDS_PER_ROW);
      const ids = Buffer.allocUnsafe(part.length * 8);
      for (let k = 0; k < part.length; k++) writeId(ids, k * 8, part[k]!);
      await run(db.insertInto('recognition_cache').values({ feed: feed.id, ids }));
    }
    // No state row (a feed with versions but no load recorded): the publish decides (beginPublish).
    if (generation !== null) {
      await run(
        db
          .updateTable('feed_state')
          .set({ cache_generation: generation })
          .where('feed', '=', feed.id)
          .where('generation', '=', generation),
      );
    }
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    client.release(true); // mid-COPY or mid-transaction: not fit to go back to the pool
    throw err;
  }
}

/**
 * One row of PostgreSQL's binary COPY and the file's framing around it: `text` values first (UTF-8), then one
 * bytea value made of `parts`.
 */
function* binaryRow(text: Buffer[], parts: Buffer[]): Generator<Buffer> {
  const head = Buffer.alloc(19 + 2);
  head.write('PGCOPY\n\xff\r\n\0', 0, 'latin1'); // signature; flags and header extension 0
  head.writeInt16BE(text.length + 1, 19);
  yield head;
  for (const t of text) {
    yield lengthOf(t.length);
    yield t;
  }
  yield lengthOf(parts.reduce((n, p) => n + p.length, 0));
  yield* parts;
  yield Buffer.from([0xff, 0xff]); // trailer: −1
}

const lengthOf = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/**
 * At the start of the publishing transaction: fails the load if the feed's table was written since it started
 * (its generation then differs from `generation`, what the load found), and tells whether the cache is valid —
 * then the publish adds its steps to it; else it is emptied, and the next bulk load reads the table. Locks the
 * feed's state row: a writer of the feed table waits for the commit (its trigger updates that row).
 */
export async function beginPublish(
  trx: Kysely<Database>,
  feed: FeedDefinition,
  generation: string | null,
): Promise<boolean> {
  const state = await trx
    .selectFrom('feed_state')
    .select(['generation', 'cache_generation'])
    .where('feed', '=', feed.id)
    .forUpdate()
    .executeTakeFirst();
  if ((state?.generation ?? null) !== generation) throw new FeedWrittenError(feed.id);
  const empty = () => trx.deleteFrom('recognition_cache').where('feed', '=', feed.id).execute();
  const { n } = await trx
    .selectFrom('recognition_cache')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('feed', '=', feed.id)
    .executeTakeFirstOrThrow();
  let rows = Number(n);
  let valid: boolean;
  if (state) valid = state.cache_generation !== null && state.cache_generation === state.generation;
  else {
    // No load recorded yet. With no current version in the table, an empty cache is exact; with some (a table
    // restored without its state), only a base this load wrote from the versions it read.
    const current = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.id(feed.id)} f
      WHERE f.valid_to IS NULL) AS any`.execute(trx);
    valid = !current.rows[0]!.any || rows > 0;
    if (!current.rows[0]!.any && rows > 0) {
      await empty();
      rows = 0;
    }
  }
  if (valid && rows >= MAX_STEPS) valid = false;
  if (!valid) await empty();
  return valid;
}

/**
 * The step of one publish statement, from the versions it returned (`rows`: a CTE with version_id, valid_to,
 * raw_hash and, for a feed with identity, id_link): those still current are added (by hash when they have one
 * a file can match); with `removes`, every returned version is removed first (it was in the cache before the
 * statement: ended, closed for a new version, or given a new hash). Nothing when the statement returned none.
 */
export function cacheStep(feed: FeedDefinition, rows: string, removes: boolean): RawBuilder<unknown> {
  const r = sql.id(rows);
  const removed = removes ? sql`string_agg(int8send(r.version_id), ''::bytea)` : sql`NULL::bytea`;
  return sql`INSERT INTO recognition_cache (feed, pairs, ids, removed)
    SELECT ${feed.id},
      string_agg(r.raw_hash || int8send(r.version_id), ''::bytea) FILTER (WHERE ${hashedVersion(feed, 'r')}),
      string_agg(int8send(r.version_id), ''::bytea) FILTER (WHERE r.valid_to IS NULL AND NOT ${hashedVersion(feed, 'r')}),
      ${removed}
    FROM ${r} r HAVING count(*) > 0`;
}

/** The columns a publish statement returns for its cache step. */
export const stepColumns = (feed: FeedDefinition, alias: string): RawBuilder<unknown> =>
  sql.join(
    ['version_id', 'valid_to', 'raw_hash', ...(feed.identity ? ['id_link'] : [])].map((c) =>
      sql.ref(`${alias}.${c}`),
    ),
  );
