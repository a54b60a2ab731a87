/**
 * The server's browser-facing defences (issue 24, items 9 and 13), in one place:
 *
 *  - security headers on every response (pages, JSON, errors, redirects);
 *  - a same-origin check on state-changing requests that a browser could be tricked into sending;
 *  - which proxies are trusted to say the request came over HTTPS (`RURALHUB_TRUSTED_PROXIES`);
 *  - the person-lookup rate limit, keyed on who is asking, shared by the API and the console.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dayIn } from '../../core/clock.ts';
import { configError } from '../../core/errors.ts';
import type { Config } from '../../schemas/config.ts';
import { lookupRefusal, personLookupAllowance } from '../approvals/person-lookups.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { audit, HttpError, principalOf, sessionCookieOf } from './request.ts';

/** Environment variable naming the reverse proxies whose X-Forwarded-Proto/-For/-Host are believed. */
export const TRUSTED_PROXIES_ENV = 'RURALHUB_TRUSTED_PROXIES';

/**
 * fastify's `trustProxy` from a comma-separated list of addresses, CIDR ranges or proxy-addr's names
 * (loopback, linklocal, uniquelocal). Unset or empty: no proxy is trusted, so a client cannot claim HTTPS (or
 * another address) with a forged header. `true` (trust any hop) is deliberately not offered.
 */
export function trustedProxies(value: string | undefined): string[] | undefined {
  const list = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!list.length) return undefined;
  const valid = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/[0-9]{1,3})?)$/;
  const bad = list.find((s) => !valid.test(s));
  if (bad)
    throw configError(`${TRUSTED_PROXIES_ENV}: '${bad}' is not an IP address, a CIDR range or loopback`);
  return list;
}

/** The console's only inline content is its stylesheet, allowed by hash; no script runs anywhere. */
export const contentSecurityPolicy = (styleHash: string): string =>
  [
    "default-src 'none'",
    `style-src '${styleHash}'`,
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');

/** Adds the security headers to every response; HSTS only over HTTPS (direct, or via a trusted proxy). */
export function registerSecurityHeaders(app: FastifyInstance, styleHash: string): void {
  const csp = contentSecurityPolicy(styleHash);
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('content-security-policy', csp);
    void reply.header('x-frame-options', 'DENY');
    void reply.header('x-content-type-options', 'nosniff');
    // same-origin: our own pages still send a Referer (the origin check's fallback); nobody else gets one,
    // so a person page's URL never leaves the server.
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    if (req.protocol === 'https') void reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The host[:port] of an Origin or Referer value; null for "null", garbage or non-HTTP schemes. */
function originOf(value: string): { protocol: string; host: string } | null {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:'
      ? { protocol: u.protocol.slice(0, -1), host: u.host }
      : null;
  } catch {
    return null;
  }
}

/**
 * Whether a request a browser may have sent on another site's behalf comes from our own pages: its Origin (or,
 * without one, its Referer) must name this server — its host and port, and HTTPS when we are reached over HTTPS.
 * Without either header the request cannot be placed: refused when it carries the session cookie (every browser
 * in use sends Origin on a POST), let through otherwise, since a request without the cookie carries no
 * ambient authority a forger could borrow (curl, scripts with their own token).
 */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  const referer = req.headers.referer;
  const claimed = origin !== undefined ? origin : referer;
  if (claimed === undefined) return sessionCookieOf(req) === undefined;
  const o = originOf(claimed);
  if (!o) return false;
  if (o.host.toLowerCase() !== req.host.toLowerCase()) return false;
  return req.protocol !== 'https' || o.protocol === 'https';
}

/**
 * Refuses cross-site requests that could act with the console's cookie: every state-changing request to the
 * console, and every state-changing API request not authenticated by an Authorization header (a browser sends
 * the cookie by itself; it never adds a token header to a forged request). Also refuses an API read that
 * brings the cookie from another site (Sec-Fetch-Site: cross-site) — downloading a list marks it sent.
 */
export function registerOriginCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    const cookieAuth = req.headers.authorization === undefined && sessionCookieOf(req) !== undefined;
    if (!SAFE_METHODS.has(req.method)) {
      const console = path === '/console' || path.startsWith('/console/');
      if ((console || req.headers.authorization === undefined) && !sameOrigin(req))
        throw new HttpError(
          403,
          'cross_site',
          'cross-site request refused: it does not come from this server',
        );
    } else if (cookieAuth && path.startsWith('/api/') && req.headers['sec-fetch-site'] === 'cross-site') {
      throw new HttpError(403, 'cross_site', 'cross-site request refused: it does not come from this server');
    }
  });
}

/** The rate-limit key: the token behind the request (header or session), so spelling cannot make a new bucket. */
export async function principalKey(wh: Warehouse, req: FastifyRequest): Promise<string> {
  const who = await principalOf(wh, req);
  return who ? `token:${who.tokenId}` : `ip:${req.ip}`;
}

export const PERSON_LOOKUPS_PER_MINUTE = 30;

/** Counts one person lookup; throws 429 past the limit. Call after authentication, before the lookup. */
export type LookupLimit = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * One limiter for person lookups wherever they happen (API and console), so the console is not a second
 * allowance: 30 a minute per token, and `approvals.person_lookups_per_day` a day unless another bureau token
 * approved more (src/approvals/person-lookups.ts).
 */
export function personLookupLimit(
  app: FastifyInstance,
  wh: Warehouse,
  config: Pick<Config, 'timezone' | 'approvals'>,
): LookupLimit {
  const limiter = app.createRateLimit({
    max: PERSON_LOOKUPS_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (req) => principalKey(wh, req),
  });
  return async (req, reply) => {
    const r = await limiter(req);
    if (!r.isAllowed && r.isExceeded) {
      void reply.header('retry-after', String(r.ttlInSeconds));
      throw new HttpError(
        429,
        'rate_limited',
        `too many person lookups: at most ${r.max} a minute; try again in ${r.ttlInSeconds} s`,
      );
    }
    const who = await principalOf(wh, req);
    if (!who) return;
    const now = new Date();
    const allowance = await personLookupAllowance(wh.db, {
      tokenId: who.tokenId,
      timeZone: config.timezone,
      today: dayIn(config.timezone, now),
      perDay: config.approvals.person_lookups_per_day,
      now,
    });
    if (!allowance.ok) {
      // Recorded like any refused access: a token walking through the population is what the bureau looks for.
      await audit(wh, who, 'person.lookup_refused', 'daily allowance', 0, {
        lookups_today: allowance.used,
        allowed: allowance.allowed,
      });
      throw new HttpError(403, 'approval_required', lookupRefusal(allowance));
    }
  };
}
