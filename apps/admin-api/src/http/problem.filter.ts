import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { assertUnreachable, DomainError, DomainErrorCode } from '@identitymesh/domain';
import { ConnectorError, ConnectorErrorCode } from '@identitymesh/connector-sdk';
import { isTransientDatabaseError } from '@identitymesh/persistence';
import { ApiError, ApiErrorCode, FieldProblem } from './api-error';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, ProblemDocument, ProblemTypeName, problemTypeUri } from './problem';

/** What an error maps to before the request it answers is known. */
export interface MappedProblem {
  type: ProblemTypeName;
  code: string;
  detail: string;
  errors?: FieldProblem[];
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const BEARER_CHALLENGE = 'Bearer realm="IdentityMesh"';

export function apiErrorType(code: ApiErrorCode): ProblemTypeName {
  switch (code) {
    case 'REQUEST_INVALID':
      return 'validation-failed';
    case 'BODY_MALFORMED':
      return 'malformed-body';
    case 'BODY_TOO_LARGE':
      return 'payload-too-large';
    case 'MEDIA_TYPE_UNSUPPORTED':
      return 'unsupported-media-type';
    case 'UNAUTHENTICATED':
      return 'unauthenticated';
    case 'FORBIDDEN':
      return 'forbidden';
    case 'NOT_FOUND':
      return 'not-found';
    case 'METHOD_NOT_ALLOWED':
      return 'method-not-allowed';
    case 'NAME_TAKEN':
    case 'CONNECTOR_BUSY':
    case 'CONNECTOR_NOT_RUNNABLE':
    case 'RUN_NOT_HELD_FOR_APPROVAL':
    case 'RELAY_NOT_CONNECTED':
    case 'RELAY_REVOKED':
      return 'conflict';
    case 'AUTHENTICATION_UNAVAILABLE':
      return 'authentication-unavailable';
    case 'RATE_LIMITED':
      return 'too-many-requests';
    case 'SIGN_IN_NOT_CONFIGURED':
      return 'not-found';
    case 'SIGN_IN_FAILED':
      return 'sign-in-failed';
    case 'CSRF_TOKEN_MISSING':
    case 'CSRF_TOKEN_INVALID':
      return 'csrf-token-invalid';
    default:
      return assertUnreachable(code);
  }
}

export function domainErrorType(code: DomainErrorCode): ProblemTypeName {
  switch (code) {
    case 'RULE_DEFINITION_INVALID':
      return 'rule-definition-invalid';
    case 'EXPRESSION_INVALID':
      return 'expression-invalid';
    case 'RULE_SAMPLE_INVALID':
      return 'rule-sample-invalid';
    case 'EXPRESSION_EVALUATION_FAILED':
    case 'TEMPLATE_VALUE_MISSING':
    case 'JOIN_AMBIGUOUS':
    case 'UNIQUE_VALUE_EXHAUSTED':
      return 'rule-evaluation-failed';
    case 'SCHEDULE_INVALID':
      return 'schedule-invalid';
    case 'SECRET_REFERENCE_INVALID':
    case 'SECRET_NOT_FOUND':
      return 'secret-invalid';
    case 'SECRET_UNAVAILABLE':
    case 'SECRET_PROVIDER_UNAVAILABLE':
    case 'SCHEMA_BEHIND':
    case 'SCHEMA_AHEAD':
      return 'service-unavailable';
    case 'LICENSE_MISSING':
    case 'LICENSE_MALFORMED':
    case 'LICENSE_UNTRUSTED_KEY':
    case 'LICENSE_SIGNATURE_INVALID':
    case 'LICENSE_EXPIRED':
    case 'LICENSE_NOT_YET_VALID':
      return 'license-invalid';
    case 'KEY_RING_TOKEN_INVALID':
    case 'KEY_RING_KEY_UNKNOWN':
    case 'KEY_RING_KEY_REVOKED':
    case 'KEY_RING_KEY_EXPIRED':
      return 'unauthenticated';
    // Start-up and engine conditions: reaching a request is a defect, not the caller's fault.
    case 'CONFIG_INVALID':
    case 'ENGINE_ALREADY_RUNNING':
    case 'LEASE_LOST':
      return 'internal-error';
    default:
      return assertUnreachable(code);
  }
}

export function connectorErrorType(code: ConnectorErrorCode): ProblemTypeName {
  switch (code) {
    case 'CONNECTOR_CONFIG_INVALID':
      return 'connector-config-invalid';
    // A connection test reports these in its answer; anywhere else the connected system, not the request, is at fault.
    case 'CONNECTOR_UNREACHABLE':
    case 'CONNECTOR_AUTH_FAILED':
    case 'SYSTEM_BUSY':
    case 'SYSTEM_ERROR':
      return 'service-unavailable';
    case 'OBJECT_MALFORMED':
    case 'OBJECT_DUPLICATE_ANCHOR':
    case 'OBJECT_NOT_FOUND':
    case 'OBJECT_ALREADY_EXISTS':
    case 'OBJECT_REJECTED':
    case 'OBJECT_CONSTRAINT_VIOLATION':
      return 'internal-error';
    default:
      return assertUnreachable(code);
  }
}

/** body-parser's error kinds (its `type` field), raised before any route runs. */
function bodyParserProblem(error: { type?: unknown; message?: unknown }): MappedProblem | null {
  switch (error.type) {
    case 'entity.parse.failed':
      return { type: 'malformed-body', code: 'BODY_MALFORMED', detail: `the body is not valid JSON: ${String(error.message)}` };
    case 'entity.too.large':
      return { type: 'payload-too-large', code: 'BODY_TOO_LARGE', detail: 'the body is larger than the Admin API accepts (100 KiB of JSON)' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { type: 'unsupported-media-type', code: 'MEDIA_TYPE_UNSUPPORTED', detail: `the body must be UTF-8 JSON: ${String(error.message)}` };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'parameters.too.many':
      return { type: 'malformed-body', code: 'BODY_MALFORMED', detail: String(error.message) };
    default:
      return null;
  }
}

/** Maps anything a request can throw to a problem; unknown errors become `internal-error` without their message. */
export function mapError(error: unknown): MappedProblem {
  if (error instanceof ApiError) {
    return { type: apiErrorType(error.code), code: error.code, detail: error.message, errors: error.extra.errors, details: error.extra.details, headers: error.extra.headers };
  }
  if (error instanceof DomainError) {
    const type = domainErrorType(error.code);
    // Internal conditions keep their message for the log, not for the caller.
    const detail = type === 'internal-error' ? 'the request could not be completed; the log has the reason' : error.message;
    return { type, code: error.code, detail, details: type === 'internal-error' ? undefined : { ...error.details }, headers: type === 'unauthenticated' ? { 'WWW-Authenticate': BEARER_CHALLENGE } : undefined };
  }
  if (error instanceof ConnectorError) {
    const type = connectorErrorType(error.code);
    return { type, code: error.code, detail: type === 'internal-error' ? 'the request could not be completed; the log has the reason' : error.message };
  }
  if (isTransientDatabaseError(error)) {
    return { type: 'service-unavailable', code: 'DATABASE_UNAVAILABLE', detail: 'the database is not answering; try again shortly', headers: { 'Retry-After': '5' } };
  }
  if (typeof error === 'object' && error !== null) {
    const parsed = bodyParserProblem(error as { type?: unknown; message?: unknown });
    if (parsed) return parsed;
  }
  if (error instanceof HttpException) {
    // Nest's own answers: an unmatched route (404) and the like; the guard and the validation raise ApiError.
    const status = error.getStatus();
    if (status === 404) return { type: 'not-found', code: 'NOT_FOUND', detail: 'no route matches this method and path' };
    if (status === 405) return { type: 'method-not-allowed', code: 'METHOD_NOT_ALLOWED', detail: error.message };
    if (status === 413) return { type: 'payload-too-large', code: 'BODY_TOO_LARGE', detail: error.message };
    if (status === 415) return { type: 'unsupported-media-type', code: 'MEDIA_TYPE_UNSUPPORTED', detail: error.message };
    // Nest turns body-parser's SyntaxError (bad JSON) and Express's URIError (a bad %-escape in the path) into a 400 before any route runs.
    if (status === 400 && /^Failed to decode param/.test(error.message)) return { type: 'validation-failed', code: 'REQUEST_INVALID', detail: 'the path holds a malformed %-escape' };
    if (status === 400) return { type: 'malformed-body', code: 'BODY_MALFORMED', detail: `the body is not valid JSON: ${error.message}`.slice(0, 500) };
    if (status >= 400 && status < 500) return { type: 'validation-failed', code: 'REQUEST_INVALID', detail: error.message };
  }
  return { type: 'internal-error', code: 'INTERNAL_ERROR', detail: 'the request could not be completed; the log has the reason' };
}

/** Builds the problem document of a mapped error for one request path. */
export function problemDocument(problem: MappedProblem, instance: string): ProblemDocument {
  const type = PROBLEM_TYPES[problem.type];
  return {
    type: problemTypeUri(problem.type),
    title: type.title,
    status: type.status,
    detail: problem.detail,
    instance,
    code: problem.code,
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...(problem.details && Object.keys(problem.details).length > 0 ? { details: problem.details } : {}),
  };
}

/**
 * The one exception filter of the Admin API: every error of every route (and
 * of the body parser before it) leaves as an `application/problem+json`
 * document. Server-side failures are logged with their cause; the caller
 * gets a stable type and code, never a stack or a driver message.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = mapError(error);
    const document = problemDocument(problem, pathOf(request));
    if (document.status >= 500) {
      this.logger.error({ err: error, method: request.method, path: document.instance, code: problem.code, msg: `${request.method} ${document.instance} failed: ${(error as Error)?.message ?? String(error)}` });
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    for (const [name, value] of Object.entries(problem.headers ?? {})) response.setHeader(name, value);
    if (document.status === 401 && !response.getHeader('WWW-Authenticate')) response.setHeader('WWW-Authenticate', BEARER_CHALLENGE);
    response.status(document.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(document));
  }
}

function pathOf(request: Request): string {
  const url = request.originalUrl ?? request.url ?? '';
  const path = url.split('?')[0] ?? '';
  // The path is echoed back; a hostile one must not make the answer large.
  return path.length > 512 ? `${path.slice(0, 512)}…` : path;
}
