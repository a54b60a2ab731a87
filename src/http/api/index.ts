/**
 * The JSON API under /api, one file per route group, and its description at /openapi.json. A new group is its
 * file (a `register…(api)` declaring its routes with `route`, src/http/api/route.ts) and its entry below; the
 * order here is the order of /openapi.json.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { registerApprovals } from './approvals.ts';
import { registerFindings } from './findings.ts';
import { registerLists } from './lists.ts';
import { openApiDocument } from './openapi.ts';
import { registerOperations } from './operations.ts';
import { registerPeople } from './people.ts';
import type { Api } from './route.ts';

const ROUTE_GROUPS: readonly ((api: Api) => void)[] = [
  registerPeople,
  registerFindings,
  registerOperations,
  registerLists,
  registerApprovals,
];

export function registerApi(app: FastifyInstance, ctx: HttpContext): void {
  const api: Api = { ...ctx, app, registry: [] };
  for (const register of ROUTE_GROUPS) register(api);
  app.get('/openapi.json', async () =>
    openApiDocument(api.registry, `RuralHub API (${ctx.config.county.name})`),
  );
}
