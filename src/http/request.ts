/**
 * The HTTP plumbing every route shares: who is asking (token from `Authorization: Bearer` or the console's
 * session cookie), role checks that answer 403 and write an audit row, zod validation of params/query with a 400 that
 * names the field, one JSON error shape, and the registry /openapi.json is built from.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Department } from '../../schemas/vocab.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { sessionPrincipal } from './sessions.ts';
import { type ApiRole, authenticate, type Principal } from './tokens.ts';

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

export interface OpenApiOp {
  method: 'get' | 'post';
  path: string;
  summary: string;
  roles: readonly ApiRole[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  produces?: string;
}

/** One server's app, warehouse and route registry (the OpenAPI document is built from the registry). */
export interface Api {
  app: FastifyInstance;
  wh: Warehouse;
  registry: OpenApiOp[];
}

export interface RouteContext<P, Q> {
  req: FastifyRequest;
  reply: FastifyReply;
  who: Principal;
  params: P;
  query: Q;
}

/**
 * Registers a route: authentication, the role check, zod parsing of params and query, and the OpenAPI entry.
 * `path` uses OpenAPI's {name} form; fastify's :name form is derived from it.
 */
export function route<P extends z.ZodObject, Q extends z.ZodObject>(
  { app, wh, registry }: Api,
  op: Omit<OpenApiOp, 'params' | 'query'> & { params?: P; query?: Q; config?: Record<string, unknown> },
  handler: (c: RouteContext<z.infer<P>, z.infer<Q>>) => Promise<unknown>,
): void {
  registry.push(op);
  app.route({
    method: op.method.toUpperCase() as 'GET' | 'POST',
    url: op.path.replace(/\{(\w+)\}/g, ':$1'),
    config: op.config,
    handler: async (req, reply) => {
      const who = await principalOf(wh, req);
      if (!who)
        throw new HttpError(401, 'unauthorized', 'a valid API token is required (Authorization: Bearer …)');
      if (!op.roles.includes(who.role)) await forbid(wh, who, `${op.method.toUpperCase()} ${op.path}`);
      const params = parse(op.params, req.params, 'path');
      const query = parse(op.query, req.query, 'query');
      return handler({ req, reply, who, params: params as z.infer<P>, query: query as z.infer<Q> });
    },
  });
}

function parse(schema: z.ZodObject | undefined, value: unknown, where: string): unknown {
  if (!schema) return {};
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new HttpError(
      400,
      'invalid_request',
      `${where} parameter ${issue.path.join('.') || '?'}: ${issue.message}`,
    );
  }
  return r.data;
}

export const departmentOf = (who: Principal): Department => {
  if (!who.department) throw new HttpError(403, 'forbidden', 'a department token is required');
  return who.department;
};

export function openApiDocument(registry: readonly OpenApiOp[], title: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of registry) {
    const parameters = [
      ...Object.entries(op.params?.shape ?? {}).map(([name, s]) => ({
        name,
        in: 'path',
        required: true,
        schema: z.toJSONSchema(s as z.ZodType, { io: 'input', unrepresentable: 'any' }),
      })),
      ...Object.entries(op.query?.shape ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: !(s as z.ZodType).safeParse(undefined).success,
        schema: z.toJSONSchema(s as z.ZodType, { io: 'input', unrepresentable: 'any' }),
      })),
    ];
    paths[op.path] = {
      ...paths[op.path],
      [op.method]: {
        summary: op.summary,
        description: `Roles: ${op.roles.join(', ')}`,
        security: [{ bearer: [] }],
        parameters,
        ...(op.method === 'post'
          ? {
              requestBody: {
                content: {
                  'multipart/form-data': {
                    schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } },
                  },
                },
              },
            }
          : {}),
        responses: {
          200: { description: 'OK', content: { [op.produces ?? 'application/json']: {} } },
          400: { $ref: '#/components/responses/Error' },
          401: { $ref: '#/components/responses/Error' },
          403: { $ref: '#/components/responses/Error' },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title, version: '0.1.0' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'An error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  error: {
                    type: 'object',
                    properties: {
                      status: { type: 'integer' },
                      code: { type: 'string' },
                      message: { type: 'string' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
