/**
 * `ruralhub serve`: the HTTP API, its OpenAPI description and the web console, in one fastify process.
 * Every response is JSON except file downloads and console pages; errors have one shape,
 * { error: { status, code, message } }, and never carry a stack trace or SQL.
 *
 * The HTTP room, bottom up: tokens.ts, sessions.ts, scope.ts, mask-json.ts, person.ts and ../findings/query.ts
 * (what the routes read) → request.ts (who is asking, audited refusals) → security.ts (headers, origin check,
 * lookup limit) → context.ts → api/ (one file per route group, api/index.ts lists them) and console/ (one file
 * per page, console/index.ts lists them) → this file, which builds the server from them.
 */
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { todayIn } from '../../core/clock.ts';
import { RuralHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Config } from '../../schemas/config.ts';
import { maskIdsInText } from '../delivery/mask-text.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { registerApi } from './api/index.ts';
import { MAX_UPLOAD_BYTES } from './api/lists.ts';
import { STYLE_HASH } from './console/html.ts';
import { registerConsole } from './console/index.ts';
import type { HttpContext } from './context.ts';
import { HttpError } from './request.ts';
import {
  personLookupLimit,
  principalKey,
  registerOriginCheck,
  registerSecurityHeaders,
  TRUSTED_PROXIES_ENV,
  trustedProxies,
} from './security.ts';

export interface ServerParams {
  wh: Warehouse;
  config: Readonly<Config>;
  log: Logger;
  /** Fixed "today" for tests; default: today in the county's time zone. */
  today?: () => string;
  /**
   * Reverse proxies believed about X-Forwarded-Proto/-For/-Host (addresses, CIDR ranges, `loopback`);
   * default: the comma-separated list in RURALHUB_TRUSTED_PROXIES, else none.
   */
  trustedProxies?: string[];
}

const STATUS_OF_KIND = { config: 400, data: 422, transient: 503, terminal: 500 } as const;

export async function buildServer(p: ServerParams): Promise<FastifyInstance> {
  const trustProxy = p.trustedProxies ?? trustedProxies(process.env[TRUSTED_PROXIES_ENV]);
  // Only a named proxy may say the request came over HTTPS: that decides the cookie's Secure flag and HSTS.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, ...(trustProxy ? { trustProxy } : {}) });
  const today = p.today ?? (() => todayIn(p.config.timezone));
  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5 } });
  // Only what opts in is limited (person lookups, src/http/security.ts); keyed by the token behind the request,
  // however its header is spelled and whether it comes as a header or a console session.
  await app.register(rateLimit, { global: false, keyGenerator: (req) => principalKey(p.wh, req) });
  registerSecurityHeaders(app, STYLE_HASH);
  registerOriginCheck(app);
  const lookupLimit = personLookupLimit(app, p.wh, p.config);

  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string };
    let status = 500;
    let code = 'internal';
    let message = 'internal error (see the server log)';
    if (e instanceof HttpError) ({ status, code, message } = e);
    else if (e instanceof RuralHubError) {
      status = STATUS_OF_KIND[e.kind];
      code = e.kind;
      message = e.message;
    } else if (e.statusCode && e.statusCode < 500) {
      // fastify's own 4xx (body too large, bad content type, rate limit): safe to pass on.
      status = e.statusCode;
      code = (err as { code?: string }).code ?? 'invalid_request';
      message = e.message;
    }
    if (status >= 500)
      p.log.error(
        { err: { message: maskIdsInText(e.message), code: (err as { code?: string }).code } },
        `${req.method} ${req.url.split('?')[0]} failed`,
      );
    void reply.status(status).send({ error: { status, code, message: maskIdsInText(message) } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      error: { status: 404, code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` },
    });
  });

  const ctx: HttpContext = { wh: p.wh, config: p.config, log: p.log, today, lookupLimit };
  registerApi(app, ctx);
  registerConsole(app, ctx);
  return app;
}
