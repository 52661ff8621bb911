import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';
import type { Permission } from '../auth/permissions';

/** Who may call a route: holders of one permission, or anyone (health probes, the API's own description). */
export type RouteAccess = { permission: Permission } | { public: string };

export interface RouteResponse {
  description: string;
  /** The JSON body; none for 204. */
  schema?: z.ZodType;
  /** @default application/json */
  contentType?: string;
}

/**
 * Everything the Admin API knows about one route, declared beside its
 * handler: who may call it, the schemas of its path, query and body (the
 * validation interceptor enforces them, the OpenAPI document is generated
 * from them), and its answers. A route without a contract does not start.
 */
export interface RouteContract {
  summary: string;
  description?: string;
  /** The OpenAPI tag (the resource). */
  tag: string;
  access: RouteAccess;
  /** Path parameters by name; required when the path has any. */
  params?: z.ZodObject;
  /** Query parameters; a query with any other parameter is refused. @default none allowed */
  query?: z.ZodObject;
  /** The JSON body; a route without one refuses a body. */
  body?: z.ZodType;
  /**
   * A body that is a file rather than JSON (a license upload): read as
   * bytes, bounded, and handed to the handler as a Buffer. Exclusive with `body`.
   */
  rawBody?: RawBodyContract;
  /**
   * At most `requests` calls in `perSeconds` by one caller (the
   * authenticated principal), enforced by RateLimitGuard on the handler;
   * declared here so the OpenAPI document states it and its 429.
   */
  rateLimit?: { requests: number; perSeconds: number };
  /** Successful answers by status; problem documents for 4xx/5xx are added to the document by the generator. */
  responses: Record<number, RouteResponse>;
}

/** A route's non-JSON body. */
export interface RawBodyContract {
  /** The media types accepted; anything else is refused with 415. */
  contentTypes: string[];
  /** Larger bodies are refused with 413 before they are read whole. */
  maxBytes: number;
  description: string;
}

export const ROUTE_CONTRACT = 'identitymesh:route-contract';

/** Declares a route's contract; see {@link RouteContract}. */
export const ApiRoute = (contract: RouteContract): MethodDecorator => SetMetadata(ROUTE_CONTRACT, contract);

export function isPublic(access: RouteAccess): access is { public: string } {
  return 'public' in access;
}
