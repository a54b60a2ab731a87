/**
 * 0017: audit_log becomes a hash chain, and records the client's network address.
 *
 * Migration 0004 made audit_log append-only with triggers, but the table's owner could still skip them
 * (`SET session_replication_role = replica`, or `ALTER TABLE … DISABLE TRIGGER`) and rewrite history
 * unnoticed. Now:
 *  - every row stores its place in the chain (`chain_seq`: 1, 2, 3 … in the order rows were appended), the
 *    previous row's hash (`prev_hash`; 64 zeros for the first) and its own hash (`row_hash`), computed by
 *    audit_row_hash() below over every column that says what happened — so a changed, deleted or inserted
 *    row breaks the chain, and `ruralhub audit verify` names it;
 *  - the single-row table audit_chain_head holds the last position and hash. The trigger that chains a new
 *    row locks that row (SELECT … FOR UPDATE, held until commit), so concurrent writers append one after
 *    the other and never fork the chain; deleting the newest rows leaves the head pointing past them;
 *  - the append-only triggers and the chaining trigger fire ALWAYS, also in `session_replication_role =
 *    replica` mode, which used to skip them. Disabling a trigger still needs the table's owner (or a
 *    superuser): in production the application connects as a role that owns nothing (README, "Operating it");
 *  - `client_addr`: the remote address of an API or console request; NULL for the CLI and the scheduler.
 *
 * Rows already in audit_log are chained here in id order (the order they were written in).
 *
 * Running as such a role showed one more thing: finding_events' row-level security (0006, forced for the
 * owner too) checked a new event against the findings visible *before* the statement, so a match — which
 * inserts findings and their first events in one statement — failed for everyone but a superuser. Sessions
 * without a department (the CLI, the scheduler) may now add events; a department's session still may only
 * add them to its own findings.
 */
import { type Kysely, sql } from 'kysely';

/** prev_hash of the first row of the chain. */
const GENESIS = '0'.repeat(64);

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  const schema = (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db)).rows[0]!.s;

  await sql`ALTER TABLE audit_log
    ADD COLUMN client_addr inet,
    ADD COLUMN chain_seq   bigint,
    ADD COLUMN prev_hash   text,
    ADD COLUMN row_hash    text`.execute(db);

  await sql`
    CREATE TABLE audit_chain_head (
      one  boolean PRIMARY KEY DEFAULT true CHECK (one),
      seq  bigint NOT NULL,
      hash text NOT NULL
    )`.execute(db);

  // The one definition of a row's hash: SHA-256 (hex) of a JSON array of a version tag, the chain position,
  // the previous hash and every column of the row. jsonb's text form is canonical (key order, spacing,
  // numbers) and JSON quoting keeps fields from running into each other; the time is spelled in UTC with
  // microseconds so neither the session's TimeZone nor DateStyle changes the hash.
  await sql`
    CREATE FUNCTION audit_row_hash(
      chain_seq bigint, prev_hash text, id bigint, at timestamptz, actor text, role text, department text,
      action text, target text, row_count integer, details jsonb, client_addr inet
    ) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT encode(sha256(convert_to(jsonb_build_array(
        'ruralhub-audit-v1', chain_seq, prev_hash, id,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        actor, role, department, action, target, row_count, details, client_addr::text
      )::text, 'UTF8')), 'hex')
    $$`.execute(db);

  // Chain the rows written before this migration, in id order: a recursive walk, each step hashing the next
  // row with the hash of the one before. The append-only trigger is off only inside this transaction.
  await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(db);
  await sql`
    WITH RECURSIVE ch AS (
      SELECT a.id, 1::bigint AS seq, ${GENESIS}::text AS prev,
             audit_row_hash(1, ${GENESIS}, a.id, a.at, a.actor, a.role, a.department, a.action, a.target,
                            a.row_count, a.details, a.client_addr) AS hash
      FROM audit_log a WHERE a.id = (SELECT min(id) FROM audit_log)
      UNION ALL
      SELECT n.id, ch.seq + 1, ch.hash,
             audit_row_hash(ch.seq + 1, ch.hash, n.id, n.at, n.actor, n.role, n.department, n.action, n.target,
                            n.row_count, n.details, n.client_addr)
      FROM ch CROSS JOIN LATERAL (SELECT * FROM audit_log b WHERE b.id > ch.id ORDER BY b.id LIMIT 1) n
    )
    UPDATE audit_log a SET chain_seq = ch.seq, prev_hash = ch.prev, row_hash = ch.hash
    FROM ch WHERE a.id = ch.id`.execute(db);
  await sql`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_change`.execute(db);
  await sql`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate`.execute(db);
  await sql`
    INSERT INTO audit_chain_head (seq, hash)
    SELECT coalesce(max(chain_seq), 0),
           coalesce((SELECT row_hash FROM audit_log ORDER BY chain_seq DESC LIMIT 1), ${GENESIS})
    FROM audit_log`.execute(db);

  await sql`ALTER TABLE audit_log
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash  SET NOT NULL,
    ADD CONSTRAINT audit_log_chain_seq UNIQUE (chain_seq)`.execute(db);

  // SECURITY DEFINER: a department's session (role <schema>_department, INSERT on audit_log only) appends
  // too, and must not be able to write the chain head itself. search_path is pinned so that no object of
  // the caller's can stand in for the ones named here. Values a writer passes for the chain columns are
  // overwritten: only this trigger places rows in the chain.
  await sql`
    CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, ${sql.id(schema)} AS $$
    DECLARE
      head audit_chain_head%ROWTYPE;
    BEGIN
      SELECT * INTO STRICT head FROM audit_chain_head FOR UPDATE;
      NEW.chain_seq := head.seq + 1;
      NEW.prev_hash := head.hash;
      NEW.row_hash := audit_row_hash(NEW.chain_seq, NEW.prev_hash, NEW.id, NEW.at, NEW.actor, NEW.role,
        NEW.department, NEW.action, NEW.target, NEW.row_count, NEW.details, NEW.client_addr);
      UPDATE audit_chain_head SET seq = NEW.chain_seq, hash = NEW.row_hash;
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain()`.execute(db);
  await sql`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_chain`.execute(db);

  await sql`ALTER POLICY department_scope ON finding_events
    WITH CHECK (coalesce(current_setting('ruralhub.department', true), '') = ''
                OR EXISTS (SELECT 1 FROM findings f WHERE f.id = finding_id))`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
