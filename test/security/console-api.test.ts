/**
 * Attack cases on the HTTP API and the console (issue 24, items 9 and 13), against the real server listening on
 * 127.0.0.1 and spoken to with node:http, so every header (Origin, Referer, X-Forwarded-Proto, odd
 * Authorization spellings) goes over the wire exactly as written:
 *
 *  - the person-lookup limit holds per token however the header is spelled, and the console shares it;
 *  - security headers on every response, HSTS only over HTTPS;
 *  - the console cookie is a session id, not the token; Secure behind a trusted proxy only;
 *  - sessions end at logout, when idle or too old, and with their token; tokens may expire;
 *  - cross-site state-changing requests are refused.
 */
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { trustedProxies } from '../../src/http/security.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken, revokeToken } from '../../src/http/tokens.ts';
import { idCheckChar } from '../../src/normalize/id-number.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { auditCount, testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const first17 = '52010219800101001';
const PERSON = first17 + idCheckChar(first17);
let wh: Warehouse;
let app: FastifyInstance;
let base: URL;
/** A second server that believes X-Forwarded-Proto from 127.0.0.1 (a TLS proxy on the same machine). */
let proxied: FastifyInstance;
let proxiedBase: URL;

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const get = (path: string, headers: Record<string, string> = {}) => call(base, 'GET', path, headers);
const self = () => `http://${base.host}`;

/** The Set-Cookie line of the session cookie. */
const sessionCookieLine = (r: Res) =>
  ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith('rh_session='));

async function login(token: string, server = base, headers: Record<string, string> = {}) {
  const r = await call(
    server,
    'POST',
    '/console/login',
    {
      'content-type': 'application/x-www-form-urlencoded',
      origin: `http://${server.host}`,
      ...headers,
    },
    `token=${encodeURIComponent(token)}`,
  );
  const line = sessionCookieLine(r);
  return { res: r, line, cookie: line ? line.split(';')[0]! : '' };
}

function multipart(filename: string, content: string) {
  const boundary = '----ruralhub-sec-boundary';
  return {
    body: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n${content}\r\n--${boundary}--\r\n`,
    ),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

beforeAll(async () => {
  wh = await testWarehouse('sec_http');
  app = await buildServer({ wh, config, log, today: () => AS_OF });
  base = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
  proxied = await buildServer({ wh, config, log, today: () => AS_OF, trustedProxies: ['127.0.0.1'] });
  proxiedBase = new URL(await proxied.listen({ port: 0, host: '127.0.0.1' }));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await proxied?.close();
  await wh?.close();
});

describe('item 9: the person-lookup limit is per token', () => {
  const lookup = (i: number, headers: Record<string, string>, console = false) =>
    get(
      console
        ? `/console/persons?id=${PERSON}&purpose=${encodeURIComponent(`核查${i}`)}`
        : `/api/persons/${PERSON}?purpose=${encodeURIComponent(`核查${i}`)}`,
      headers,
    );

  it('extra spaces or another case after Bearer do not make new buckets: 150 tries, 30 through', async () => {
    const { token } = await createToken(wh, { role: 'bureau', label: 'limit' });
    const spellings = [
      `Bearer ${token}`,
      `Bearer  ${token}`,
      `Bearer     ${token}`,
      `bearer ${token}`,
      `Bearer\t${token} `,
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++)
      statuses.push((await lookup(i, { authorization: spellings[i % 5]! })).status);
    expect(statuses.filter((s) => s !== 429)).toHaveLength(30);
    // Each that went through was a real, authenticated lookup (no records for this person: 404).
    expect(new Set(statuses)).toEqual(new Set([404, 429]));
    // Another token has its own allowance.
    const other = await createToken(wh, { role: 'bureau', label: 'other' });
    expect((await lookup(0, { authorization: `Bearer ${other.token}` })).status).toBe(404);
    // Only the lookups that went through were audited.
    expect(await auditCount(wh, 'person.lookup')).toBe(31);
  });

  it('the console is not another bucket: its session and pages share the token’s 30 a minute', async () => {
    const { token } = await createToken(wh, { role: 'bureau', label: 'limit-console' });
    const { cookie } = await login(token);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const r =
        i % 3 === 0
          ? await lookup(i, { authorization: `Bearer ${token}` })
          : await lookup(i, { cookie }, i % 3 === 2);
      statuses.push(r.status);
    }
    expect(statuses.filter((s) => s !== 429)).toHaveLength(30);
    // Through: the API's 404 (no records) or the console's page; the console's refusal is a page too.
    expect(new Set(statuses)).toEqual(new Set([200, 404, 429]));
    const refused = await lookup(99, { cookie }, true);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatch(/查询过于频繁/);
  });
});

describe('item 13: headers', () => {
  it('every response carries CSP, X-Frame-Options DENY, nosniff and a Referrer-Policy; no HSTS over plain HTTP', async () => {
    const { token } = await createToken(wh, { role: 'operator' });
    const { cookie } = await login(token);
    const responses = [
      await get('/console/login'),
      await get('/console/operator', { cookie }),
      await get('/console'), // a redirect
      await get('/api/status', { authorization: `Bearer ${token}` }),
      await get('/api/status'), // 401
      await get('/nowhere'), // 404
      await get('/openapi.json'),
    ];
    for (const r of responses) {
      expect(r.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(r.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('same-origin');
      expect(r.headers['strict-transport-security']).toBeUndefined();
    }
    // The CSP allows exactly the console's own stylesheet.
    const page = responses[1]!;
    expect(page.status).toBe(200);
    const css = /<style>([\s\S]*?)<\/style>/.exec(page.body)![1]!;
    const { createHash } = await import('node:crypto');
    expect(page.headers['content-security-policy']).toContain(
      `style-src 'sha256-${createHash('sha256').update(css).digest('base64')}'`,
    );
    expect(page.body).not.toMatch(/<script|style="/);
  });

  it('HSTS when a trusted proxy says HTTPS, not when an untrusted client does', async () => {
    const viaProxy = await call(proxiedBase, 'GET', '/console/login', { 'x-forwarded-proto': 'https' });
    expect(viaProxy.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const forged = await get('/console/login', { 'x-forwarded-proto': 'https' });
    expect(forged.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('item 13: console sessions', () => {
  it('the cookie holds a random session id stored hashed, never the token; it is no API token', async () => {
    const { token, id } = await createToken(wh, { role: 'bureau', label: 'cookie' });
    const { res, line, cookie } = await login(token);
    expect(res.status).toBe(303);
    expect(line).toBeDefined();
    expect(line).not.toContain(token);
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Strict/i);
    expect(line).toMatch(/Max-Age=43200/);
    expect(line).not.toMatch(/;\s*Secure/i); // plain HTTP, no trusted proxy
    const sid = cookie.slice('rh_session='.length);
    const rows = await wh.db.selectFrom('console_sessions').selectAll().where('token_id', '=', id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.session_sha256).not.toContain(sid);
    expect((await get('/console', { cookie })).status).toBe(200);
    // The session id is not a token, and the old raw-token cookie is not read any more.
    expect((await get('/api/findings', { authorization: `Bearer ${sid}` })).status).toBe(401);
    expect((await get('/console', { cookie: `rh_token=${token}` })).status).toBe(302);
    // Two logins, two sessions.
    const again = await login(token);
    expect(again.cookie).not.toBe(cookie);
  });

  it('Secure behind a trusted proxy saying HTTPS; not when an untrusted client claims it', async () => {
    const { token } = await createToken(wh, { role: 'bureau' });
    const viaProxy = await login(token, proxiedBase, {
      'x-forwarded-proto': 'https',
      origin: `https://${proxiedBase.host}`,
    });
    expect(viaProxy.res.status).toBe(303);
    expect(viaProxy.line).toMatch(/;\s*Secure/i);
    const forged = await login(token, base, { 'x-forwarded-proto': 'https' });
    expect(forged.res.status).toBe(303);
    expect(forged.line).not.toMatch(/;\s*Secure/i);
  });

  it('logout deletes the session: the old cookie no longer opens the console or the API', async () => {
    const { token, id } = await createToken(wh, { role: 'department', department: '教育局' });
    const { cookie } = await login(token);
    expect((await get('/console/department', { cookie })).status).toBe(200);
    expect((await get('/api/findings', { cookie })).status).toBe(200);
    const out = await call(base, 'POST', '/console/logout', { cookie, origin: self() });
    expect(out.status).toBe(303);
    expect(
      await wh.db.selectFrom('console_sessions').select('id').where('token_id', '=', id).execute(),
    ).toEqual([]);
    const page = await get('/console/department', { cookie });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/console/login');
    expect((await get('/api/findings', { cookie })).status).toBe(401);
    // The token itself is still good for the API: logging out of the console is not revoking the token.
    expect((await get('/api/findings', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('a session ends after 8 hours idle or 12 hours in all, and with its token', async () => {
    const { token, id } = await createToken(wh, { role: 'operator', label: 'expiry' });
    const idle = await login(token);
    const old = await login(token);
    const revoked = await login(token);
    const hashOf = async (cookie: string) => {
      const { createHash } = await import('node:crypto');
      return createHash('sha256').update(cookie.slice('rh_session='.length)).digest('hex');
    };
    await sql`UPDATE console_sessions SET last_seen_at = now() - interval '8 hours 1 minute'
      WHERE session_sha256 = ${await hashOf(idle.cookie)}`.execute(wh.db);
    // Used a minute ago, but logged in 12 hours ago.
    await sql`UPDATE console_sessions SET created_at = now() - interval '12 hours 1 minute',
      last_seen_at = now() - interval '1 minute' WHERE session_sha256 = ${await hashOf(old.cookie)}`.execute(
      wh.db,
    );
    expect((await get('/console/operator', { cookie: idle.cookie })).status).toBe(302);
    expect((await get('/console/operator', { cookie: old.cookie })).status).toBe(302);
    // A session used 7 hours ago is still alive, and its use moves the idle limit on.
    await sql`UPDATE console_sessions SET last_seen_at = now() - interval '7 hours'
      WHERE session_sha256 = ${await hashOf(revoked.cookie)}`.execute(wh.db);
    expect((await get('/console/operator', { cookie: revoked.cookie })).status).toBe(200);
    expect(await revokeToken(wh, id)).toBe(true);
    expect((await get('/console/operator', { cookie: revoked.cookie })).status).toBe(302);
    expect(
      await wh.db.selectFrom('console_sessions').select('id').where('token_id', '=', id).execute(),
    ).toEqual([]);
  });

  it('a token past its expires_at authenticates nothing; NULL never expires', async () => {
    const soon = await createToken(wh, { role: 'operator', expiresAt: new Date(Date.now() + 3_600_000) });
    const never = await createToken(wh, { role: 'operator' });
    expect((await get('/api/status', { authorization: `Bearer ${soon.token}` })).status).toBe(200);
    const { cookie } = await login(soon.token);
    expect((await get('/console/operator', { cookie })).status).toBe(200);
    await sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${soon.id}`.execute(
      wh.db,
    );
    expect((await get('/api/status', { authorization: `Bearer ${soon.token}` })).status).toBe(401);
    expect((await get('/console/operator', { cookie })).status).toBe(302);
    expect((await login(soon.token)).res.status).toBe(401);
    expect((await get('/api/status', { authorization: `Bearer ${never.token}` })).status).toBe(200);
  });
});

describe('item 13: cross-site requests', () => {
  it('a cross-site POST to /console/department/feedback is refused before anything is read', async () => {
    const { token } = await createToken(wh, { role: 'department', department: '教育局' });
    const { cookie } = await login(token);
    const upload = multipart('answers.txt', 'not a list');
    /** The same upload with the department's cookie, sent with `from` (Origin and/or Referer). */
    const post = (from: Record<string, string>) =>
      call(
        base,
        'POST',
        '/console/department/feedback',
        { cookie, 'content-type': upload.type, ...from },
        upload.body,
      );
    for (const forged of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://${base.hostname}:1` }, // same host, another port: another origin
      { referer: 'https://evil.example/page' },
      {}, // neither header, but the cookie: a browser would have sent Origin
    ]) {
      const r = await post(forged);
      expect(r.status, JSON.stringify(forged)).toBe(403);
      expect(JSON.parse(r.body).error.code).toBe('cross_site');
    }
    // From our own page (Origin, or only a Referer) it reaches the handler: a .txt is not a list (400).
    for (const own of <Record<string, string>[]>[
      { origin: self() },
      { referer: `${self()}/console/department` },
    ]) {
      const r = await post(own);
      expect(r.status, JSON.stringify(own)).toBe(400);
      expect(r.body).toMatch(/请选择/);
    }
  });

  it('cross-site login and logout are refused; logout leaves the session alive', async () => {
    const { token } = await createToken(wh, { role: 'bureau' });
    const forgedLogin = await login(token, base, { origin: 'https://evil.example' });
    expect(forgedLogin.res.status).toBe(403);
    expect(forgedLogin.line).toBeUndefined();
    const { cookie } = await login(token);
    const out = await call(base, 'POST', '/console/logout', { cookie, origin: 'https://evil.example' });
    expect(out.status).toBe(403);
    expect((await get('/console', { cookie })).status).toBe(200);
  });

  it('the API refuses cookie-authenticated cross-site writes and reads; a Bearer token needs no Origin', async () => {
    const { token } = await createToken(wh, { role: 'department', department: '教育局' });
    const { cookie } = await login(token);
    const upload = multipart('answers.txt', 'not a list');
    const forged = await call(
      base,
      'POST',
      '/api/lists/feedback',
      { cookie, 'content-type': upload.type, origin: 'https://evil.example' },
      upload.body,
    );
    expect(forged.status).toBe(403);
    // Downloading a list marks its items sent: a cross-site fetch with the cookie is refused.
    const crossRead = await get('/api/lists/current.xlsx', { cookie, 'sec-fetch-site': 'cross-site' });
    expect(crossRead.status).toBe(403);
    const ownRead = await get('/api/findings', { cookie, 'sec-fetch-site': 'same-origin' });
    expect(ownRead.status).toBe(200);
    // A script with its own token (no cookie, no Origin) is not a browser acting for someone else.
    const scripted = await call(
      base,
      'POST',
      '/api/lists/feedback',
      { authorization: `Bearer ${token}`, 'content-type': upload.type },
      upload.body,
    );
    expect(scripted.status).not.toBe(403);
  });
});

describe('configuration', () => {
  it('RURALHUB_TRUSTED_PROXIES: a list of addresses or ranges; anything else is a config error', () => {
    expect(trustedProxies(undefined)).toBeUndefined();
    expect(trustedProxies(' ')).toBeUndefined();
    expect(trustedProxies('127.0.0.1, 10.0.0.0/8,loopback')).toEqual(['127.0.0.1', '10.0.0.0/8', 'loopback']);
    expect(() => trustedProxies('*')).toThrow(/RURALHUB_TRUSTED_PROXIES/);
    expect(() => trustedProxies('true')).toThrow(/not an IP address/);
  });
});
