/** The OpenAPI 3.1 description of the API (/openapi.json), built from the routes as they were declared. */
import { z } from 'zod';
import type { OpenApiOp } from './route.ts';

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
          // A route naming one thing by its path answers 404 when there is none (or, for a lineage asked by a
          // department, as if there were none).
          ...(op.params ? { 404: { $ref: '#/components/responses/Error' } } : {}),
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
