import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { z } from 'zod';
import { ROUTE_CONTRACT, RouteContract } from './route-contract';

/** One route as Nest registered it: `GET /api/runs/:id`. */
export interface RouteKey {
  method: string;
  /** Express-style path with a leading slash, `:name` parameters. */
  path: string;
}

/** Probes and scrapers may add parameters of their own (Prometheus `name[]`); these routes ignore them rather than refuse. */
const anyQuery = z.looseObject({});

const healthReport = z.object({
  status: z.enum(['up', 'down']),
  checks: z.array(z.object({ name: z.string(), status: z.enum(['up', 'down']), detail: z.string(), durationMs: z.number() })),
});

/**
 * Contracts of the routes the platform lib serves (health and metrics),
 * which carry no Admin API decorators. They are public on purpose: probes
 * and Prometheus scrape them without credentials, and they reveal no data
 * beyond up/down and counters.
 */
const PLATFORM_CONTRACTS: Record<string, RouteContract> = {
  'GET /health/live': {
    summary: 'The process is up (no dependency is checked)',
    tag: 'health',
    access: { public: 'liveness probes call it without credentials' },
    query: anyQuery,
    responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('up') }) } },
  },
  'GET /health/ready': {
    summary: 'Readiness: database, schema and license, each with status and detail',
    tag: 'health',
    access: { public: 'readiness probes and load balancers call it without credentials' },
    query: anyQuery,
    responses: { 200: { description: 'Every check is up', schema: healthReport }, 503: { description: 'A check is down', schema: healthReport } },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics: HTTP latency, process, database statements',
    tag: 'health',
    access: { public: 'Prometheus scrapes it without credentials; it holds counters, no data' },
    query: anyQuery,
    responses: { 200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain; version=0.0.4' } },
  },
};

function joinPaths(...parts: string[]): string {
  const joined = parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment.length > 0)
    .join('/');
  return `/${joined}`;
}

/** The method and path of a controller method, from Nest's own metadata. */
export function routeKeyOf(controller: object, handler: object): RouteKey | null {
  const methodPath = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
  const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  if (methodPath === undefined || requestMethod === undefined) return null;
  const controllerPath = (Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined) ?? '';
  const first = (value: string | string[]) => (Array.isArray(value) ? (value[0] ?? '') : value);
  return { method: RequestMethod[requestMethod], path: joinPaths(first(controllerPath), first(methodPath)) };
}

/** The contract of a route: its decorator, or the table above for the platform's routes. */
export function routeContractOf(controller: object, handler: object): RouteContract | undefined {
  const declared = Reflect.getMetadata(ROUTE_CONTRACT, handler) as RouteContract | undefined;
  if (declared) return declared;
  const key = routeKeyOf(controller, handler);
  return key ? PLATFORM_CONTRACTS[`${key.method} ${key.path}`] : undefined;
}
