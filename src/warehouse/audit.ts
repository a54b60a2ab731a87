/**
 * The audit log: the one function that writes its rows, and the check of its hash chain.
 *
 * Placing a row in the chain is the database's job, not the writer's: the trigger of migration 0017 locks the
 * single-row chain head, gives the row the next position and the previous row's hash, and hashes it with
 * audit_row_hash() (every column: position, previous hash, id, time, actor, role, department, action,
 * target, row count, details, client address). Writers therefore cannot fork or forge the chain, whatever
 * connection or role they use, and `verifyAuditChain` recomputes the same function over the stored rows.
 */
import { isIP } from 'node:net';
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

export interface AuditEntry {
  actor: string;
  role: string;
  department?: string | null;
  action: string;
  target?: string | null;
  rowCount?: number;
  details?: Record<string, unknown>;
  /** The remote address of an API or console request; null (the default) for the CLI and the scheduler. */
  clientAddr?: string | null;
}

/**
 * Appends one audit row. Call it inside the transaction whose effect it records, as its last statement: the
 * row is then written exactly when the change is, and the chain head (locked until commit) is held briefly.
 */
export async function writeAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor: e.actor,
      role: e.role,
      department: e.department ?? null,
      action: e.action,
      target: e.target ?? null,
      row_count: e.rowCount ?? 0,
      details: JSON.stringify(e.details ?? {}),
      client_addr: clientAddress(e.clientAddr),
    })
    .execute();
}

/**
 * An address as the inet column takes it, or null. An IPv4 client on a dual-stack socket shows up as
 * `::ffff:a.b.c.d`; it is stored as a.b.c.d so one client has one address in the log. Anything that is not an
 * address (a proxy's garbage) is dropped rather than failing the request the row records.
 */
export function clientAddress(addr: string | null | undefined): string | null {
  if (!addr) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr)?.[1];
  if (mapped && isIP(mapped) === 4) return mapped;
  return isIP(addr) ? addr : null;
}

export type ChainBreak =
  /** The row's content no longer gives its stored hash. */
  | 'changed'
  /** Chain positions are missing before `id` (or after `previousId`, at the end): rows were deleted. */
  | 'deleted'
  /** The row was never placed in the chain by the trigger (a position past the head). */
  | 'inserted'
  /**
   * The row does not link to the one before it although no position is missing: `previousId` was rewritten
   * together with its hash, or `id` was put in its place.
   */
  | 'relinked';

export interface ChainReport {
  /** Rows in audit_log. */
  rows: number;
  /** The chain head: the last position appended, and its hash. */
  headSeq: number;
  headHash: string;
  /** The first break in chain order, or null when the chain is intact. Ids and positions only, no content. */
  broken: { kind: ChainBreak; id: number | null; previousId: number | null; seq: number | null } | null;
}

const GENESIS = '0'.repeat(64);

/**
 * Walks the chain in position order and returns its first break. One query: each row is rehashed and compared
 * with its neighbour in position order (window functions), and the last row with the head — so a deleted
 * newest row is found too. Only ids, positions and the kind of break leave the database.
 */
export async function verifyAuditChain(db: Kysely<Database>): Promise<ChainReport> {
  const r = await sql<{
    rows: number;
    head_seq: number;
    head_hash: string;
    kind: ChainBreak | null;
    id: number | null;
    previous_id: number | null;
    seq: number | null;
  }>`
    WITH head AS (SELECT seq, hash FROM audit_chain_head),
    c AS (
      SELECT a.id, a.chain_seq, a.prev_hash, a.row_hash,
             audit_row_hash(a.chain_seq, a.prev_hash, a.id, a.at, a.actor, a.role, a.department, a.action,
                            a.target, a.row_count, a.details, a.client_addr) AS computed,
             lag(a.id) OVER w AS p_id, lag(a.chain_seq) OVER w AS p_seq, lag(a.row_hash) OVER w AS p_hash
      FROM audit_log a
      WINDOW w AS (ORDER BY a.chain_seq, a.id)
    ),
    breaks AS (
      SELECT c.chain_seq AS seq, 0 AS tie, c.id, c.p_id,
             CASE
               WHEN c.chain_seq IS NULL OR c.chain_seq > h.seq OR c.chain_seq <= coalesce(c.p_seq, 0)
                 THEN 'inserted'
               WHEN c.chain_seq > coalesce(c.p_seq, 0) + 1 THEN 'deleted'
               WHEN c.row_hash IS DISTINCT FROM c.computed THEN 'changed'
               WHEN c.prev_hash IS DISTINCT FROM coalesce(c.p_hash, ${GENESIS}) THEN 'relinked'
             END AS kind
      FROM c CROSS JOIN head h
      UNION ALL
      -- The newest chained row must be the head: fewer positions means the newest rows were deleted.
      SELECT h.seq, 1, NULL, last.id,
             CASE WHEN last.chain_seq IS DISTINCT FROM h.seq AND h.seq > 0 THEN 'deleted'
                  WHEN h.seq > 0 AND last.row_hash IS DISTINCT FROM h.hash THEN 'relinked' END
      FROM head h
      LEFT JOIN LATERAL (
        SELECT id, chain_seq, row_hash FROM audit_log WHERE chain_seq <= h.seq ORDER BY chain_seq DESC LIMIT 1
      ) last ON true
    ),
    first_break AS (
      SELECT * FROM breaks WHERE kind IS NOT NULL ORDER BY seq NULLS FIRST, tie LIMIT 1
    )
    SELECT (SELECT count(*) FROM audit_log)::int AS rows, h.seq::bigint AS head_seq, h.hash AS head_hash,
           f.kind, f.id::bigint AS id, f.p_id::bigint AS previous_id, f.seq::bigint AS seq
    FROM head h LEFT JOIN first_break f ON true`.execute(db);
  const row = r.rows[0];
  if (!row) throw new Error('audit_chain_head is empty: migration 0017 writes its one row');
  return {
    rows: row.rows,
    headSeq: Number(row.head_seq),
    headHash: row.head_hash,
    broken: row.kind
      ? {
          kind: row.kind,
          id: row.id === null ? null : Number(row.id),
          previousId: row.previous_id === null ? null : Number(row.previous_id),
          seq: row.seq === null ? null : Number(row.seq),
        }
      : null,
  };
}

/** One line saying where the chain breaks; ids and positions only. */
export function describeBreak(b: NonNullable<ChainReport['broken']>): string {
  const after = b.previousId === null ? 'at the start of the chain' : `after row id ${b.previousId}`;
  switch (b.kind) {
    case 'changed':
      return `row id ${b.id} was changed: its content no longer matches its hash (position ${b.seq})`;
    case 'inserted':
      return `row id ${b.id} was inserted out of chain (position ${b.seq ?? 'none'})`;
    case 'deleted':
      if (b.id !== null) return `row(s) were deleted ${after}, before row id ${b.id} (position ${b.seq})`;
      return b.previousId === null
        ? `every row was deleted (the chain head is position ${b.seq})`
        : `the newest row(s) were deleted after row id ${b.previousId} (the chain head is position ${b.seq})`;
    case 'relinked':
      return b.id === null
        ? `the chain head does not match its newest row id ${b.previousId} (the row or the head was rewritten)`
        : `row id ${b.id} does not link to row id ${b.previousId} before it: row id ${b.previousId} was rewritten with its hash, or row id ${b.id} was put in its place`;
  }
}

/**
 * Why the connected role could rewrite the audit log without the database refusing: a superuser (or, on
 * PostgreSQL 15+, a role granted SET on session_replication_role) can switch triggers off for a session, and
 * the table's owner can disable them outright. Production connects as a role with neither (README, "Operating
 * it"); the hash chain still shows what such a role changed, but only this makes it impossible.
 */
export async function auditRoleRisks(db: Kysely<Database>): Promise<string[]> {
  const r = await sql<{ role: string; superuser: boolean; owner: boolean; version: number }>`
    SELECT current_user AS role, r.rolsuper AS superuser,
           pg_has_role(current_user, c.relowner, 'USAGE') AS owner,
           current_setting('server_version_num')::int AS version
    FROM pg_roles r, pg_class c
    WHERE r.rolname = current_user AND c.oid = to_regclass('audit_log')`.execute(db);
  const me = r.rows[0];
  if (!me) return [];
  const risks: string[] = [];
  if (me.superuser) risks.push(`role ${me.role} is a superuser: it can bypass every audit_log trigger`);
  else if (me.version >= 150000) {
    const p = await sql<{ ok: boolean }>`
      SELECT has_parameter_privilege('session_replication_role', 'SET') AS ok`.execute(db);
    if (p.rows[0]?.ok) risks.push(`role ${me.role} may SET session_replication_role`);
  }
  if (me.owner && !me.superuser)
    risks.push(`role ${me.role} owns audit_log: it can disable the table's triggers`);
  return risks;
}
