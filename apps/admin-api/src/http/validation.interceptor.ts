import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { from, Observable, switchMap } from 'rxjs';
import { z } from 'zod';
import { ApiError, FieldProblem } from './api-error';
import type { RawBodyContract } from './route-contract';
import { routeContractOf } from './route-metadata';

const NO_PARAMETERS = z.strictObject({});

/** zod issues as `errors[]`, one entry per bad value; values are never echoed (they may be hostile or secret). */
export function fieldProblems(part: FieldProblem['in'], issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    const pointer = issue.path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ in: part, pointer: `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`.slice(0, 300), problem: 'is not a field of this request' });
    } else {
      problems.push({ in: part, pointer: pointer.slice(0, 300), problem: issue.message });
    }
    // A hostile body can fail on thousands of values; the first ones say enough.
    if (problems.length >= 50) break;
  }
  return problems;
}

export function parsePart<S extends z.ZodType>(schema: S, value: unknown, part: FieldProblem['in']): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = fieldProblems(part, result.error.issues);
  throw new ApiError('REQUEST_INVALID', `the request ${part === 'path' ? 'path' : part} is not valid: ${errors.map((e) => `${e.pointer || part} ${e.problem}`).join('; ')}`.slice(0, 2000), { errors });
}

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Enforces each route's contract before its handler runs: path, query and
 * body are parsed with the route's schemas (unknown fields refused, sizes
 * bounded), a body must be JSON, and a route without a body schema refuses
 * a body. Handlers read the parsed values through `@Body()`, `@Query()` and
 * `@Param()`. Runs after the guard, so an anonymous caller learns nothing
 * about a route's schema.
 */
@Injectable()
export class ValidationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const contract = routeContractOf(context.getClass(), context.getHandler());
    const request = context.switchToHttp().getRequest<Request>();
    if (contract) {
      request.params = parsePart(contract.params ?? NO_PARAMETERS, { ...request.params }, 'path');
      const query = parsePart(contract.query ?? NO_PARAMETERS, { ...(request.query as Record<string, unknown>) }, 'query');
      // Express 5 defines req.query as a getter; the parsed value replaces it for this request only.
      Object.defineProperty(request, 'query', { value: query, writable: true, configurable: true, enumerable: true });
      if (contract.rawBody) {
        return from(readRawBody(request, contract.rawBody)).pipe(
          switchMap((body) => {
            request.body = body;
            return next.handle();
          }),
        );
      } else if (contract.body) {
        if (hasBody(request) && !request.is('application/json')) throw new ApiError('MEDIA_TYPE_UNSUPPORTED', 'the body must be application/json');
        assertBoundedJson(request.body);
        request.body = parsePart(contract.body, request.body ?? {}, 'body');
      } else if (hasBody(request) && !(request.is('application/json') && isEmptyObject(request.body))) {
        throw new ApiError('REQUEST_INVALID', 'this route takes no body', { errors: [{ in: 'body', pointer: '', problem: 'must be empty' }] });
      }
    }
    return next.handle();
  }
}

/** Deeper JSON than any contract needs; schemas recurse into values, so depth is bounded before they run. */
const MAX_BODY_DEPTH = 32;

/** A UTF-16 half without its other half: not text, and stored as replacement characters by the database drivers. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Refuses a body nested deeper than MAX_BODY_DEPTH or holding text that is
 * not well-formed Unicode, walking it without recursion (a hostile body must
 * not exhaust the stack).
 */
export function assertBoundedJson(body: unknown): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
      throw new ApiError('REQUEST_INVALID', 'the body holds text that is not well-formed Unicode', { errors: [{ in: 'body', pointer: '', problem: 'holds an unpaired UTF-16 surrogate' }] });
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      if (LONE_SURROGATE.test(key)) throw new ApiError('REQUEST_INVALID', 'the body holds a field name that is not well-formed Unicode', { errors: [{ in: 'body', pointer: '', problem: 'holds an unpaired UTF-16 surrogate' }] });
    }
    if (depth >= MAX_BODY_DEPTH) {
      throw new ApiError('REQUEST_INVALID', `the body is nested deeper than ${MAX_BODY_DEPTH} levels`, { errors: [{ in: 'body', pointer: '', problem: `is nested deeper than ${MAX_BODY_DEPTH} levels` }] });
    }
    for (const inner of Object.values(value)) stack.push({ value: inner, depth: depth + 1 });
  }
}

function isEmptyObject(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0);
}

/**
 * The body of a route that takes a file: one of its media types, at most
 * `maxBytes` (refused from Content-Length before anything is read, and
 * again while reading when the length was not declared or lied).
 */
async function readRawBody(request: Request, contract: RawBodyContract): Promise<Buffer> {
  if (!hasBody(request)) throw new ApiError('REQUEST_INVALID', `this route takes a file as its body (${contract.contentTypes.join(' or ')})`, { errors: [{ in: 'body', pointer: '', problem: 'is missing' }] });
  if (!request.is(contract.contentTypes)) throw new ApiError('MEDIA_TYPE_UNSUPPORTED', `the body must be ${contract.contentTypes.join(' or ')}`);
  const tooLarge = () => new ApiError('BODY_TOO_LARGE', `the body is larger than this route accepts (${Math.floor(contract.maxBytes / 1024)} KiB)`);
  if (Number(request.headers['content-length']) > contract.maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > contract.maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
