import { z } from 'zod';
import { isPublic, RawBodyContract, RouteContract } from '../http/route-contract';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../http/problem';

/** One route of the app: what Nest registered and the contract it declared (none is a defect the builder reports). */
export interface DiscoveredRoute {
  method: string;
  /** Express-style, `/api/runs/:id`. */
  path: string;
  contract: RouteContract | undefined;
  /** `ConnectorsController.get`, for messages. */
  handler: string;
}

type JsonSchema = Record<string, unknown>;

/** An OpenAPI 3.1 document, typed as loosely as JSON. */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> };

/** Routes whose contract is missing or contradicts the path: the app must not start with one. */
export class RouteContractError extends Error {
  constructor(readonly problems: string[]) {
    super(`routes without a complete contract (every route must declare a permission or be public, and its path parameters): ${problems.join('; ')}`);
    this.name = 'RouteContractError';
  }
}

/** Collects JSON Schemas of zod schemas, hoisting named ones (`.meta({ id })`) into components. */
class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as JsonSchema;
    const defs = (converted['$defs'] ?? {}) as Record<string, JsonSchema>;
    delete converted['$defs'];
    delete converted['$schema'];
    // The same id may differ between a request (input: defaults optional) and a response (output); such pairs get distinct names.
    const renames = new Map<string, string>();
    for (const [name, def] of Object.entries(defs)) {
      let target = name;
      for (let n = 2; this.components[target] !== undefined && JSON.stringify(this.components[target]) !== JSON.stringify(rewrite(def, renames)); n++) {
        target = io === 'input' && n === 2 ? `${name}Input` : `${name}${n}`;
      }
      renames.set(name, target);
    }
    for (const [name, def] of Object.entries(defs)) this.components[renames.get(name) as string] = rewrite(def, renames) as JsonSchema;
    return rewrite(converted, renames) as JsonSchema;
  }
}

/** `#/$defs/X` → `#/components/schemas/X'`, through the renames. */
function rewrite(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => rewrite(item, renames));
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
      const name = inner.slice('#/$defs/'.length);
      copy[key] = `#/components/schemas/${renames.get(name) ?? name}`;
    } else {
      copy[key] = rewrite(inner, renames);
    }
  }
  return copy;
}

function pathParameters(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] as string);
}

function operationId(route: DiscoveredRoute): string {
  return route.handler.replace(/Controller\./, '.').replace(/^./, (c) => c.toLowerCase());
}

function parametersOf(schema: z.ZodObject | undefined, place: 'path' | 'query', collector: SchemaCollector): Array<Record<string, unknown>> {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const converted = collector.convert(field as z.ZodType, 'input');
    const description = converted['description'];
    delete converted['description'];
    return {
      name,
      in: place,
      required: place === 'path' || !(field as z.ZodType).safeParse(undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      schema: converted,
    };
  });
}

/** A file body: the same bytes under each media type it may be sent as. */
function rawRequestBody(raw: RawBodyContract): Record<string, unknown> {
  const schema = { type: 'string', maxLength: raw.maxBytes, description: `${raw.description} (at most ${Math.floor(raw.maxBytes / 1024)} KiB)` };
  return { required: true, description: raw.description, content: Object.fromEntries(raw.contentTypes.map((type) => [type, { schema: type.startsWith('text/') ? schema : { ...schema, contentMediaType: type } }])) };
}

const problem = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } });

/**
 * The OpenAPI 3.1 document of the Admin API, generated from the routes Nest
 * registered and the contracts they declare: every route, its permission
 * (`x-permission`, and as the bearer requirement's role), its parameters,
 * body and answers, and the problem documents it can return.
 *
 * @throws RouteContractError when a route has no contract, or declares
 *   path parameters other than its path has
 */
export function buildOpenApiDocument(routes: readonly DiscoveredRoute[], info: { version: string }): OpenApiDocument {
  const problems: string[] = [];
  const collector = new SchemaCollector();
  collector.convert(problemSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  for (const route of [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))) {
    const { contract } = route;
    if (!contract) {
      problems.push(`${route.method} ${route.path} (${route.handler}) declares no contract`);
      continue;
    }
    const inPath = pathParameters(route.path).sort();
    const declared = Object.keys(contract.params?.shape ?? {}).sort();
    if (JSON.stringify(inPath) !== JSON.stringify(declared)) {
      problems.push(`${route.method} ${route.path} (${route.handler}) has path parameters [${inPath.join(', ')}] but declares [${declared.join(', ')}]`);
      continue;
    }
    const access = contract.access;
    const open = isPublic(access);
    const permission = isPublic(access) ? null : access.permission;
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(contract.responses)) {
      responses[status] = response.schema
        ? { description: response.description, content: { [response.contentType ?? 'application/json']: { schema: collector.convert(response.schema, 'output') } } }
        : { description: response.description };
    }
    const validated = contract.params || contract.query || contract.body || contract.rawBody;
    if (validated) responses['400'] = problem('The request does not match its schema (`errors[]` lists each value), or its body is not JSON');
    if (!open) {
      responses['401'] = problem('No credentials, or an expired, forged, revoked or wrong-audience token or API key');
      responses['403'] = problem('The caller lacks the permission');
    }
    if (contract.params) responses['404'] = problem('No such resource');
    if (contract.body) {
      responses['413'] = problem('The body is larger than 100 KiB');
      responses['415'] = problem('The body is not application/json');
    }
    if (contract.rawBody) {
      responses['413'] = problem(`The body is larger than ${Math.floor(contract.rawBody.maxBytes / 1024)} KiB`);
      responses['415'] = problem(`The body is not ${contract.rawBody.contentTypes.join(' or ')}`);
    }
    if (contract.rateLimit) {
      responses['429'] = problem(`More than ${contract.rateLimit.requests} requests in ${contract.rateLimit.perSeconds} seconds by this caller; \`Retry-After\` says when to try again`);
    }
    responses['default'] = problem('Any other problem (409 conflict, 422 invalid definition, 503 unavailable, …)');
    const operation: Record<string, unknown> = {
      operationId: operationId(route),
      summary: contract.summary,
      description: [contract.description, isPublic(access) ? `Public: ${access.public}.` : `Requires the permission \`${permission}\`.`].filter(Boolean).join('\n\n'),
      tags: [contract.tag],
      'x-permission': permission,
      security: permission === null ? [] : [{ bearer: [permission] }],
      parameters: [...parametersOf(contract.params, 'path', collector), ...parametersOf(contract.query, 'query', collector)],
      ...(contract.body ? { requestBody: { required: true, content: { 'application/json': { schema: collector.convert(contract.body, 'input') } } } } : {}),
      ...(contract.rawBody ? { requestBody: rawRequestBody(contract.rawBody) } : {}),
      ...(contract.rateLimit ? { 'x-rate-limit': { requests: contract.rateLimit.requests, perSeconds: contract.rateLimit.perSeconds, per: 'caller' } } : {}),
      responses,
    };
    const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method.toLowerCase()] = operation;
  }
  if (problems.length > 0) throw new RouteContractError(problems);
  return {
    openapi: '3.1.0',
    info: {
      title: 'IdentityMesh Admin API',
      version: info.version,
      description:
        'Operate IdentityMesh: connectors, sync rules, runs, the engine registry, the audit log and API keys. Authenticate with `Authorization: Bearer <token>`: an OIDC access token from the configured issuer, or an API key (`im_<prefix>_<secret>`). Every route names the permission it requires (`x-permission`). Errors are RFC 9457 problem documents (`application/problem+json`). See docs/admin-api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.contract?.tag).filter((t): t is string => t !== undefined))].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An OIDC access token of IM_OIDC_ISSUER for IM_OIDC_AUDIENCE, or an Admin API key (`im_<prefix>_<secret>`)' },
      },
      schemas: collector.components,
    },
  };
}
