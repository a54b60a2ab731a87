/**
 * 0014: what the loader learnt of a feed's current versions, kept between loads (src/load/recognition-cache.ts).
 *
 * Recognising a re-sent snapshot needs the raw hash and id of every current version. Reading them from the feed
 * table is a scan of all of it (~1 GB for a 2M-row roster, 1.0–1.3 s on the critical path); the same pairs,
 * kept packed in `recognition_cache`, are ~48 MB. The cache is a base (the loader's set as it held it, or the
 * pairs of a first load) and steps (remove these ids, then add these pairs and ids) written by the load's own
 * publish statements in the transaction that publishes them.
 *
 * It is trusted only while nothing else wrote the feed: every statement that writes a feed table (INSERT,
 * UPDATE, DELETE, TRUNCATE, whoever runs it) replaces the feed's `generation` by a trigger, and the cache counts
 * only while `cache_generation` equals it. A load sets both at the end of its publish; an operator's UPDATE, a
 * restore of one table or a stray script makes the next load read the table instead.
 */
import { type Kysely, sql } from 'kysely';
import { FEED_TABLES_0002 } from './frozen.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE feed_state ADD COLUMN generation uuid, ADD COLUMN cache_generation uuid`.execute(db);
  await sql`UPDATE feed_state SET generation = gen_random_uuid()`.execute(db);
  await sql`
    CREATE TABLE recognition_cache (
      feed    text NOT NULL,
      seq     bigserial NOT NULL,
      -- A base written by a load from the set it held: that set's memory (src/load/raw-hash-set.ts).
      image   bytea,
      -- Added by the step: raw hash (16 bytes) + int8 id of each recognizable version; int8 id of each other.
      pairs   bytea,
      ids     bytea,
      -- Removed by the step, before its additions: int8 ids of versions ended, replaced or re-hashed.
      removed bytea,
      PRIMARY KEY (feed, seq)
    )`.execute(db);
  // Hashes do not compress: stored out of line without an attempt at it.
  await sql`ALTER TABLE recognition_cache ALTER image SET STORAGE EXTERNAL, ALTER pairs SET STORAGE EXTERNAL,
    ALTER ids SET STORAGE EXTERNAL, ALTER removed SET STORAGE EXTERNAL`.execute(db);
  // The search path of the migration, not the writer's: a script with another search path still bumps it.
  await sql`
    CREATE FUNCTION feed_written() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      UPDATE feed_state SET generation = gen_random_uuid() WHERE feed = TG_TABLE_NAME;
      RETURN NULL;
    END $$`.execute(db);
  for (const t of FEED_TABLES_0002) {
    await sql`CREATE TRIGGER ${sql.id(`${t}_written`)}
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${sql.id(t)}
      FOR EACH STATEMENT EXECUTE FUNCTION feed_written()`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
