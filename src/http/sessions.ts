/**
 * Console sessions (issue 24, item 13): logging in with an API token creates a session; the browser's cookie
 * holds only the session's random id, stored hashed in console_sessions (migration 0016), so the token itself
 * never sits in a cookie and logging out ends the session for good (its row is deleted).
 *
 * Lifetimes: a session ends after 8 hours without a request (a working day with a lunch break) and 12 hours after
 * login whatever its use (one long shift; the next day starts with a fresh login). It also ends with its token:
 * revoked, expired or deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Department } from '../../schemas/vocab.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import type { ApiRole, Principal } from './tokens.ts';

export const SESSION_IDLE_HOURS = 8;
export const SESSION_ABSOLUTE_HOURS = 12;

const PREFIX = 'rhs_';
const hash = (id: string) => createHash('sha256').update(id).digest('hex');
/** A well-formed session id: the prefix and 32 random bytes in base64url (43 characters). */
const WELL_FORMED = /^rhs_[A-Za-z0-9_-]{43}$/;

/** A new session for an authenticated token; returns the id for the cookie (shown to nobody else). */
export async function createSession(wh: Warehouse, tokenId: number): Promise<string> {
  const id = PREFIX + randomBytes(32).toString('base64url');
  // Housekeeping on the way in: sessions past their limits are dead anyway; logins are rare enough for this.
  await sql`DELETE FROM console_sessions
    WHERE last_seen_at <= now() - make_interval(hours => ${SESSION_IDLE_HOURS})
       OR created_at <= now() - make_interval(hours => ${SESSION_ABSOLUTE_HOURS})`.execute(wh.db);
  await wh.db
    .insertInto('console_sessions')
    .values({ session_sha256: hash(id), token_id: tokenId })
    .execute();
  return id;
}

/** The principal of a live session (its token still valid), or null. Marks the session and the token used. */
export async function sessionPrincipal(wh: Warehouse, id: string | undefined): Promise<Principal | null> {
  if (!id || !WELL_FORMED.test(id)) return null;
  const r = await sql<{ id: string; role: ApiRole; department: Department | null; label: string | null }>`
    WITH s AS (
      UPDATE console_sessions s SET last_seen_at = now()
      FROM api_tokens t
      WHERE s.session_sha256 = ${hash(id)} AND t.id = s.token_id
        AND s.last_seen_at > now() - make_interval(hours => ${SESSION_IDLE_HOURS})
        AND s.created_at > now() - make_interval(hours => ${SESSION_ABSOLUTE_HOURS})
        AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
      RETURNING s.token_id)
    UPDATE api_tokens t SET last_used_at = now() FROM s WHERE t.id = s.token_id
    RETURNING t.id::text, t.role, t.department, t.label`.execute(wh.db);
  const row = r.rows[0];
  return row
    ? { tokenId: Number(row.id), role: row.role, department: row.department, label: row.label }
    : null;
}

/** Ends a session (logout). Unknown or malformed ids are ignored: the result is the same, no session. */
export async function endSession(wh: Warehouse, id: string | undefined): Promise<void> {
  if (!id || !WELL_FORMED.test(id)) return;
  await wh.db.deleteFrom('console_sessions').where('session_sha256', '=', hash(id)).execute();
}
