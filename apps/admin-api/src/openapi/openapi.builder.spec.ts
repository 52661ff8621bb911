import { z } from 'zod';
import { buildOpenApiDocument, DiscoveredRoute, RouteContractError } from './openapi.builder';

const item = z.object({ id: z.string(), name: z.string() }).meta({ id: 'BuilderSpecItem' });

const routes: DiscoveredRoute[] = [
  {
    method: 'GET',
    path: '/api/items/:id',
    handler: 'ItemsController.get',
    contract: { summary: 'One item', tag: 'items', access: { permission: 'connectors.read' }, params: z.strictObject({ id: z.guid() }), responses: { 200: { description: 'The item', schema: item } } },
  },
  {
    method: 'POST',
    path: '/api/items',
    handler: 'ItemsController.create',
    contract: { summary: 'Create', tag: 'items', access: { permission: 'connectors.write' }, body: z.strictObject({ name: z.string().max(10) }), responses: { 201: { description: 'Created', schema: item } } },
  },
  { method: 'GET', path: '/health/live', handler: 'HealthController.live', contract: { summary: 'Up', tag: 'health', access: { public: 'probes' }, responses: { 200: { description: 'Up' } } } },
];

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument(routes, { version: '1.2.3' });

  it('describes every route with its permission, parameters, body and answers', () => {
    const get = document.paths['/api/items/{id}']?.['get'] as Record<string, unknown>;
    expect(get).toMatchObject({
      operationId: 'items.get',
      'x-permission': 'connectors.read',
      security: [{ bearer: ['connectors.read'] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/BuilderSpecItem' } } } }, 401: expect.any(Object), 403: expect.any(Object), 404: expect.any(Object) },
    });
    const post = document.paths['/api/items']?.['post'] as Record<string, unknown>;
    expect(post['requestBody']).toMatchObject({ required: true, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { name: { maxLength: 10 } } } } } });
    expect(document.paths['/health/live']?.['get']).toMatchObject({ 'x-permission': null, security: [] });
    expect((document['components'] as { schemas: Record<string, unknown> }).schemas).toHaveProperty('Problem');
  });

  it('refuses a route without a contract, or whose path parameters differ from the declared ones', () => {
    expect(() => buildOpenApiDocument([...routes, { method: 'DELETE', path: '/api/items/:id', handler: 'ItemsController.remove', contract: undefined }], { version: '1' })).toThrow(RouteContractError);
    const mismatch: DiscoveredRoute = { ...(routes[0] as DiscoveredRoute), path: '/api/items/:itemId' };
    expect(() => buildOpenApiDocument([mismatch], { version: '1' })).toThrow(/has path parameters \[itemId\] but declares \[id\]/);
  });
});
