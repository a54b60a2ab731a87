/**
 * API tokens: 32 random bytes shown once, stored as a SHA-256 hash with a role (and a department for
 * department tokens). A fast hash is right here: the token is random and long, so there is nothing to
 * brute-force that a slow password hash would protect. A token may carry an expiry (`expires_at`, migration 0016;
 * NULL, the default, never expires): from then on it authenticates nothing, API or console.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Department } from '../../schemas/vocab.ts';
import { API_ROLES, type ApiRole } from '../../schemas/vocabulary.ts';
import type { Warehouse } from '../warehouse/connect.ts';

// Defined in the vocabulary leaf, so that `tokens create --help` names the roles without loading this module.
export { API_ROLES, type ApiRole };

export interface Principal {
  tokenId: number;
  role: ApiRole;
  department: Department | null;
  label: string | null;
  /** The request's remote address, for the audit log (set by principalOf; absent outside a request). */
  clientAddr?: string | null;
}

const PREFIX = 'rh_';
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function createToken(
  wh: Warehouse,
  p: { role: ApiRole; department?: Department; label?: string; expiresAt?: Date },
): Promise<{ id: number; token: string }> {
  const token = PREFIX + randomBytes(32).toString('base64url');
  const row = await wh.db
    .insertInto('api_tokens')
    .values({
      token_sha256: hash(token),
      role: p.role,
      department: p.role === 'department' ? (p.department ?? null) : null,
      label: p.label ?? null,
      expires_at: p.expiresAt ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), token };
}

/** The principal of a presented token, or null (unknown, revoked, expired, malformed). Marks the token used. */
export async function authenticate(wh: Warehouse, token: string | undefined): Promise<Principal | null> {
  if (!token?.startsWith(PREFIX) || token.length > 100) return null;
  const row = await sql<{ id: string; role: ApiRole; department: Department | null; label: string | null }>`
    UPDATE api_tokens SET last_used_at = now()
    WHERE token_sha256 = ${hash(token)} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    RETURNING id::text, role, department, label`.execute(wh.db);
  const r = row.rows[0];
  return r ? { tokenId: Number(r.id), role: r.role, department: r.department, label: r.label } : null;
}

/** Revokes a token and ends its console sessions at once (they would be refused anyway; this removes them). */
export async function revokeToken(wh: Warehouse, id: number): Promise<boolean> {
  const r = await wh.db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  await wh.db.deleteFrom('console_sessions').where('token_id', '=', id).execute();
  return Number(r.numUpdatedRows) > 0;
}

export async function listTokens(wh: Warehouse) {
  return wh.db
    .selectFrom('api_tokens')
    .select(['id', 'role', 'department', 'label', 'created_at', 'last_used_at', 'revoked_at', 'expires_at'])
    .orderBy('id')
    .execute();
}
