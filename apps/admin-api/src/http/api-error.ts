/**
 * Errors the Admin API raises itself (the libs raise DomainError and
 * ConnectorError). Each code maps to one problem type in the exception
 * filter's exhaustive switch; the message becomes the problem's `detail`.
 */
export const API_ERROR_CODES = [
  'REQUEST_INVALID',
  'BODY_MALFORMED',
  'BODY_TOO_LARGE',
  'MEDIA_TYPE_UNSUPPORTED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NAME_TAKEN',
  'CONNECTOR_BUSY',
  'CONNECTOR_NOT_RUNNABLE',
  'RUN_NOT_HELD_FOR_APPROVAL',
  'RELAY_NOT_CONNECTED',
  'RELAY_REVOKED',
  'AUTHENTICATION_UNAVAILABLE',
  'RATE_LIMITED',
  'SIGN_IN_NOT_CONFIGURED',
  'SIGN_IN_FAILED',
  'CSRF_TOKEN_MISSING',
  'CSRF_TOKEN_INVALID',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Where a request value failed validation, as `errors[]` of a problem document lists it. */
export interface FieldProblem {
  /** `body`, `query` or `path`. */
  in: 'body' | 'query' | 'path' | 'header';
  /** JSON pointer into that part (`/objectTypes/0/name`); empty for the part as a whole. */
  pointer: string;
  problem: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: { errors?: FieldProblem[]; headers?: Record<string, string>; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function notFound(what: string, id: string): ApiError {
  return new ApiError('NOT_FOUND', `there is no ${what} ${JSON.stringify(id)}`);
}
