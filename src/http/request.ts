/**
 * Who is asking and how a request is refused, for API routes and console pages alike: the principal of a token
 * (`Authorization: Bearer`) or of the console's session cookie, the audit row every refusal and lookup writes, a
 * 403 that is recorded, and the error that becomes the one JSON error shape (src/http/server.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { Department } from '../../schemas/vocab.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { sessionPrincipal } from './sessions.ts';
import { authenticate, type Principal } from './tokens.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The console's session cookie: a session id (src/http/sessions.ts), never an API token. */
export const SESSION_COOKIE = 'rh_session';
/** The cookie before sessions, which held the raw token: no longer read, and cleared at login and logout. */
export const LEGACY_TOKEN_COOKIE = 'rh_token';

/** `Bearer <token>`, the scheme in any case and any run of spaces after it (RFC 7235); else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1] : undefined;
}

export const sessionCookieOf = (req: FastifyRequest): string | undefined =>
  (req.cookies as Record<string, string | undefined> | undefined)?.[SESSION_COOKIE];

/**
 * Who is asking: the API token of an `Authorization` header when there is one, else the console session of
 * the cookie. Worked out once per request (the rate limiter and the handler both ask).
 */
const principals = new WeakMap<FastifyRequest, Promise<Principal | null>>();
export function principalOf(wh: Warehouse, req: FastifyRequest): Promise<Principal | null> {
  let p = principals.get(req);
  if (!p) {
    p =
      req.headers.authorization !== undefined
        ? authenticate(wh, bearerToken(req.headers.authorization))
        : sessionPrincipal(wh, sessionCookieOf(req));
    // Audit rows record where a request came from (req.ip: the socket's peer, or what trustProxy allows).
    p = p.then((who) => who && { ...who, clientAddr: req.ip });
    principals.set(req, p);
  }
  return p;
}

export async function audit(
  wh: Warehouse,
  who: Principal,
  action: string,
  target: string,
  rowCount: number,
  details: Record<string, unknown> = {},
): Promise<void> {
  await writeAudit(wh.db, {
    actor: `token:${who.tokenId}${who.label ? ` (${who.label})` : ''}`,
    role: who.role,
    department: who.department,
    action,
    target,
    rowCount,
    details,
    clientAddr: who.clientAddr ?? null,
  });
}

/** 403, recorded: a refused request is an access attempt the bureau wants to see. */
export async function forbid(wh: Warehouse, who: Principal, what: string): Promise<never> {
  await audit(wh, who, 'access.denied', what, 0);
  throw new HttpError(
    403,
    'forbidden',
    `not allowed for role ${who.role}${who.department ? ` (${who.department})` : ''}: ${what}`,
  );
}

export const departmentOf = (who: Principal): Department => {
  if (!who.department) throw new HttpError(403, 'forbidden', 'a department token is required');
  return who.department;
};
