/**
 * Where every warehouse table lives on a Citus cluster (issue 26; ARCHITECTURE rule 15, DOMAIN §10): the one
 * declaration `migrate` applies when the server has the `citus` extension (src/warehouse/migrate.ts), and that
 * test/unit/distribution.test.ts holds complete — a table `migrate` creates without a place here fails it, so a
 * new table forces a decision.
 *
 * Three places, no other:
 * - `distributed` on a column: sharded over the workers by the hash of that column. Every distributed table is
 *   distributed on the normalized resident ID number (text) and co-located with every other (Citus's default
 *   co-location group of text columns), so a join on that ID runs shard by shard on the workers.
 * - `reference`: a copy on every node, for small tables joined with distributed ones.
 * - `coordinator`: a plain table on the coordinator only — the ledger, locks, the audit chain, the case files.
 *
 * Why the ID number and not the person key (persons.person_key): every person-keyed join of the rules is on the
 * ID (R01–R04, R07, R10, R11 join a feed to the roster on id_number; R05/R06/R08/R09/R12 join a household
 * feed's head, head_id_number, to the roster's id_number; R04 sums a person's settlements by id_number; R13
 * compares each feed's name with the roster's for the same id_number), and every feed row carries it as loaded
 * — the person key is assigned afterwards, by the loader, from a table on the coordinator. Distributing on the
 * key would need a lookup on every published row and a column no rule joins on. The household rules' second join
 * (members to their focus household, on household_id) is on an intermediate result of a GROUP BY over the roster
 * (pipelines/rules/common.ts focusHouseholds): small, broadcast by Citus, not a repartition of a feed.
 */
import { type Kysely, sql } from 'kysely';
import { terminalError } from '../../core/errors.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Database } from './schema.ts';

/** A table's place on a cluster: the closed vocabulary of this file. */
export type Placement =
  | { readonly kind: 'distributed'; readonly column: string }
  | { readonly kind: 'reference' }
  | { readonly kind: 'coordinator' };

const COORDINATOR: Placement = { kind: 'coordinator' };
const REFERENCE: Placement = { kind: 'reference' };

/**
 * Every table of the warehouse that is not a feed table, by name. Feed tables are placed by feedPlacement, from
 * their declaration, so a feed added to the registry needs no line here — but one without a person field fails.
 */
export const TABLE_PLACEMENTS: Readonly<Record<string, Placement>> = {
  // The run ledger: one row per command, the foreign-key target of feed_state, quarantine, load_conflicts and
  // identity_review, and what every load's publish updates in its own transaction. Small, written once per run.
  runs: COORDINATOR,
  // Per-feed state (cursor, generation of the recognition cache), updated in every load's publishing transaction.
  feed_state: COORDINATOR,
  // The loader's own packed hashes, read and written as blobs by one process: nothing on a worker reads them.
  recognition_cache: COORDINATOR,
  // Rejected values with the whole raw row: no person column (the ID itself is often what was rejected), a
  // foreign key to runs; what R13 reads of it is the few rows whose key could not be read.
  quarantine: COORDINATOR,
  // Duplicate rows a load resolved, for the loader's report: person_id is NULL when the two rows differ in it.
  load_conflicts: COORDINATOR,
  // The surrogate-key registries: written under a table lock by every load that meets a new person or household
  // (src/load/publish.ts), the foreign-key target of identity_review, id_number emptied by retention
  // (id_purged_on). No rule reads them: the rules join on the ID number the feed rows carry.
  persons: COORDINATOR,
  households: COORDINATOR,
  // The bureau's queue of unlinkable records: foreign keys to persons and runs.
  identity_review: COORDINATOR,
  // The case files: one finding per rule and subject (person, household or record — id_number NULL for the last),
  // its events and the records behind them, linked by finding_id foreign keys and guarded by the department row
  // security of 0006. Written from the rule's result, which is on the coordinator already (a temp table, run-match.ts);
  // sized by findings (a few per cent of the focus population per rule), not by department rows.
  findings: COORDINATOR,
  finding_events: COORDINATOR,
  finding_lineage: COORDINATOR,
  retired_finding_months: COORDINATOR,
  // The audit chain: one global order (chain_seq) kept by triggers, append-only by triggers — neither is possible
  // on a sharded table.
  audit_log: COORDINATOR,
  audit_chain_head: COORDINATOR,
  // Two-person approvals, kept by a trigger; tokens and console sessions are read by `serve` on the coordinator
  // only: copying secrets' hashes to every worker would widen where they are for no query that needs them.
  approvals: COORDINATOR,
  api_tokens: COORDINATOR,
  console_sessions: COORDINATOR,
  // The scheduler's claims: locks by nature.
  job_slots: COORDINATOR,
  // Kysely's migration ledger and lock.
  kysely_migration: COORDINATOR,
  kysely_migration_lock: COORDINATOR,
  // The region list: a few thousand rows, loaded rarely, joined with feed rows by village code in reports.
  regions: REFERENCE,
};

/**
 * A feed table's place: distributed on its person field — the one its person resolution declares
 * (`identity.id`, the head's ID in the household feeds housing, water, disasters) or, for the roster, which
 * declares none, its surrogate person field. Required: Citus refuses a row without its distribution value.
 */
export function feedPlacement(feed: FeedDefinition): Placement {
  const column = feed.identity?.id ?? feed.surrogate?.person;
  const spec = column === undefined ? undefined : feed.fields[column];
  if (
    column === undefined ||
    spec === undefined ||
    spec.type.kind !== 'id_number' ||
    spec.required !== true
  ) {
    throw terminalError(
      `feed ${feed.id}: no required ID-number person field (identity.id or surrogate.person) to distribute its table on; see src/warehouse/distribution.ts`,
    );
  }
  return { kind: 'distributed', column };
}

/** Every table's place: the feeds' from their declarations, then the others'. A name in both is an error. */
export function placements(feeds: readonly FeedDefinition[]): Map<string, Placement> {
  const all = new Map<string, Placement>(Object.entries(TABLE_PLACEMENTS));
  for (const feed of feeds) {
    if (all.has(feed.id)) throw terminalError(`feed ${feed.id}: a table of that name is placed already`);
    all.set(feed.id, feedPlacement(feed));
  }
  return all;
}

/** Whether the server `db` talks to has Citus: the extension created in its database. */
export async function hasCitus(db: Kysely<Database>): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS ok`.execute(db);
  return r.rows[0]?.ok === true;
}

interface CitusTable {
  name: string;
  type: string;
  column: string | null;
}

/** The tables of `schema` Citus knows, with their type ('distributed', 'reference', 'local') and column. */
async function citusTables(db: Kysely<Database>, schema: string): Promise<Map<string, CitusTable>> {
  const r = await sql<CitusTable>`
    SELECT c.relname AS name, ct.citus_table_type AS type,
           CASE WHEN ct.distribution_column = '<none>' THEN NULL ELSE ct.distribution_column END AS column
    FROM citus_tables ct JOIN pg_class c ON c.oid = ct.table_name
    WHERE c.relnamespace = ${schema}::regnamespace`.execute(db);
  return new Map(r.rows.map((t) => [t.name, t]));
}

/** `schema`.`table` as a regclass, for Citus's functions. */
const regclass = (schema: string, table: string) =>
  sql`format('%I.%I', ${schema}::text, ${table}::text)::regclass`;

/**
 * What a feed table needs before Citus distributes it on `column`, in the distributing transaction:
 * - its primary key, version_id alone, extended by the column: Citus enforces a unique constraint on each shard
 *   only, so it must include the distribution column. version_id stays first (the loader finds versions by it).
 * - `<feed>_current`, the one-current-version-per-key index, extended by the column when the key lacks it
 *   (settlements, keyed by settlement_id): the same settlement under two IDs would then be two current rows,
 *   which the loader's de-duplication by key (publish.ts) still prevents, not the index.
 * - its `<feed>_written` trigger disabled: Citus would run a statement trigger on each shard, on the workers, where
 *   feed_state (on the coordinator) is not, and refuses to distribute a table with triggers unless told it is
 *   unsafe. Disabled, it still marks the table as a feed table for migrate and the migrations that alter every
 *   feed table (feed-table.ts feedTablesIn), and the loader still replaces the generation in its own publish; a
 *   write by anything else than the loader is no longer seen — on a cluster, only RuralHub writes feed tables.
 */
async function prepareFeedTable(
  trx: Kysely<Database>,
  schema: string,
  feed: FeedDefinition,
  column: string,
): Promise<void> {
  const table = sql.id(schema, feed.id);
  const pkey = `${feed.id}_pkey`;
  await sql`ALTER TABLE ${table} DROP CONSTRAINT ${sql.id(pkey)},
    ADD CONSTRAINT ${sql.id(pkey)} PRIMARY KEY (version_id, ${sql.id(column)})`.execute(trx);
  if (!feed.key.includes(column)) {
    const current = `${feed.id}_current`;
    await sql`DROP INDEX ${sql.id(schema, current)}`.execute(trx);
    await sql`CREATE UNIQUE INDEX ${sql.id(current)} ON ${table}
      (${sql.join([...feed.key, column].map((k) => sql.id(k)))}) WHERE valid_to IS NULL`.execute(trx);
  }
  await sql`ALTER TABLE ${table} DISABLE TRIGGER ${sql.id(`${feed.id}_written`)}`.execute(trx);
  await sql`SET LOCAL citus.enable_unsafe_triggers = on`.execute(trx);
}

/**
 * Applies the placements to the tables of `schema` on a Citus coordinator: each distributed or reference table
 * Citus does not hold yet is made so, one transaction a table (Citus copies a table's rows to its shards in it),
 * under one advisory lock so two migrates take turns. A table already placed as declared is left alone: a second
 * migrate does nothing. One placed otherwise (another column, another kind) is refused: changing a distribution is
 * alter_distributed_table's work, for an operator, not a side effect of migrate. Returns the tables placed.
 */
export async function distributeWarehouse(
  db: Kysely<Database>,
  schema: string,
  feeds: readonly FeedDefinition[],
): Promise<string[]> {
  const plan = placements(feeds);
  const byFeed = new Map(feeds.map((f) => [f.id, f]));
  const done: string[] = [];
  for (const [name, place] of plan) {
    if (place.kind === 'coordinator') continue;
    const placed = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.distribute'), hashtext(${schema}))`.execute(
        trx,
      );
      const found = (await citusTables(trx, schema)).get(name);
      if (found) {
        const column = place.kind === 'distributed' ? place.column : null;
        if (found.type !== place.kind || found.column !== column) {
          throw terminalError(
            `table ${schema}.${name} is a Citus ${found.type} table${found.column ? ` on ${found.column}` : ''}, declared ${place.kind}${column ? ` on ${column}` : ''} (src/warehouse/distribution.ts); change it with alter_distributed_table`,
          );
        }
        return false;
      }
      if (place.kind === 'reference') {
        await sql`SELECT create_reference_table(${regclass(schema, name)})`.execute(trx);
        return true;
      }
      const feed = byFeed.get(name);
      if (feed) await prepareFeedTable(trx, schema, feed, place.column);
      // 'default': the group of every text-distributed table with the default shard count — the tables of every
      // county's schema in one database co-located too, which cross-county matching needs.
      await sql`SELECT create_distributed_table(${regclass(schema, name)}, ${place.column}::text,
        colocate_with => 'default')`.execute(trx);
      return true;
    });
    if (placed) done.push(name);
  }
  await distributeFunctions(db, schema);
  return done;
}

/**
 * The schema's functions on every worker: the rules call the normalizers (R13's rh_name_key) inside the queries
 * Citus sends to the shards. Citus propagates a CREATE FUNCTION only once its schema is distributed, which the
 * first distributed table does — after migrate made the functions — so those made before are distributed here
 * (each CREATE OR REPLACE of a later migrate then reaches the workers by itself).
 */
async function distributeFunctions(db: Kysely<Database>, schema: string): Promise<void> {
  const r = await sql<{ fn: string }>`
    SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
    WHERE p.pronamespace = ${schema}::regnamespace AND NOT EXISTS (
      SELECT 1 FROM pg_dist_object d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid)
    ORDER BY p.oid`.execute(db);
  for (const { fn } of r.rows) {
    await sql`SELECT create_distributed_function(${fn}::regprocedure)`.execute(db);
  }
  // A normalizer calling another by its bare name (rh_name_key → rh_name) finds it through the session's search
  // path, which Citus does not carry to its connections to the workers: there the shard query fails with
  // "function rh_name(text) does not exist". Each function of the schema without settings of its own is given the
  // schema's path — which keeps a SQL function from being inlined, on a cluster only (normalize-sql.ts's
  // CREATE OR REPLACE drops it again on every migrate, and this gives it back).
  const bare = await sql<{ fn: string }>`
    SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
    WHERE p.pronamespace = ${schema}::regnamespace AND p.proconfig IS NULL ORDER BY p.oid`.execute(db);
  for (const { fn } of bare.rows) {
    await sql`ALTER FUNCTION ${sql.raw(fn)} SET search_path = ${sql.id(schema)}, pg_catalog`.execute(db);
  }
}
