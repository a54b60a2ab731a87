/**
 * 0016: console sessions separate from API tokens, and API tokens that expire (issue 24, item 13).
 *
 *  - api_tokens.expires_at: optional; NULL (the default, and every token made before this migration) never
 *    expires. The API and the console refuse a token at or after it.
 *  - console_sessions: one row per console login. The browser's cookie holds a random session id, stored
 *    here only as its SHA-256 (like tokens: the id is 32 random bytes, so a fast hash is enough), never the
 *    API token itself. A session ends at logout (the row is deleted), when idle or too old (src/http/sessions.ts
 *    holds the limits), and with its token (revoked, expired or deleted: ON DELETE CASCADE).
 *    Not granted to <schema>_department: department requests never read it.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz`.execute(db);
  await sql`
    CREATE TABLE console_sessions (
      id             bigserial PRIMARY KEY,
      session_sha256 text NOT NULL UNIQUE,
      token_id       bigint NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
      created_at     timestamptz NOT NULL DEFAULT now(),
      last_seen_at   timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX console_sessions_token ON console_sessions (token_id)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
