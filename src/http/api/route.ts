/**
 * How an API route is declared: its method and path (OpenAPI's {name} form), the roles that may call it, zod
 * schemas for its path and query parameters, and a handler given who is asking and the parsed parameters.
 * `route` answers 401 without a principal, 403 (audited) for another role and 400 naming the bad parameter, and
 * keeps the declaration for /openapi.json.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { HttpContext } from '../context.ts';
import { forbid, HttpError, principalOf } from '../request.ts';
import type { ApiRole, Principal } from '../tokens.ts';

export interface OpenApiOp {
  method: 'get' | 'post';
  path: string;
  summary: string;
  roles: readonly ApiRole[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  produces?: string;
}

/** A route group's view of the server: the shared context, the app, and the registry /openapi.json is built from. */
export interface Api extends HttpContext {
  app: FastifyInstance;
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
