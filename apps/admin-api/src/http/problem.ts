import { z } from 'zod';

/**
 * The problem types of the Admin API (RFC 9457). A type URI never changes
 * once published: clients branch on it, and on the `code` extension for the
 * finer cause. docs/admin-api.md lists the same table.
 */
export const PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request does not match its schema' },
  'malformed-body': { status: 400, title: 'The request body is not valid JSON' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'The caller lacks the permission this route requires' },
  'csrf-token-invalid': { status: 403, title: 'A call authenticated by the session cookie lacks its CSRF token' },
  'sign-in-failed': { status: 400, title: 'The browser sign-in could not be completed' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'The resource does not support this method' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body is not of a media type the route accepts' },
  'rule-definition-invalid': { status: 422, title: 'The rule definition is not valid' },
  'expression-invalid': { status: 422, title: 'An expression of the rule is not valid' },
  'rule-sample-invalid': { status: 422, title: 'The preview sample lacks what the rule reads' },
  'rule-evaluation-failed': { status: 422, title: 'The rule failed for the object' },
  'schedule-invalid': { status: 422, title: 'The schedule is not valid' },
  'connector-config-invalid': { status: 422, title: 'The connector configuration is not valid' },
  'secret-invalid': { status: 422, title: 'A secret reference is not valid or names no secret' },
  'license-invalid': { status: 422, title: 'The license is not valid' },
  'too-many-requests': { status: 429, title: 'Too many requests from this caller; Retry-After says when to try again' },
  'authentication-unavailable': { status: 503, title: 'The identity provider cannot be reached to check the token' },
  'service-unavailable': { status: 503, title: 'A service the Admin API depends on is unavailable' },
  'internal-error': { status: 500, title: 'The Admin API failed to handle the request' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemTypeName = keyof typeof PROBLEM_TYPES;

/** `urn:identitymesh:problem:<name>`: a stable name, not a page to fetch. */
export function problemTypeUri(name: ProblemTypeName): string {
  return `urn:identitymesh:problem:${name}`;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The body of every error answer. */
export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'A stable URI per kind of problem (`urn:identitymesh:problem:validation-failed`)' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().meta({ description: 'The path of the request' }),
    code: z.string().meta({ description: 'The stable code of the cause (`REQUEST_INVALID`, `EXPRESSION_INVALID`, …)' }),
    errors: z
      .array(z.object({ in: z.enum(['body', 'query', 'path', 'header']), pointer: z.string(), problem: z.string() }))
      .optional()
      .meta({ description: 'Each value that failed validation' }),
    details: z.record(z.string(), z.unknown()).optional().meta({ description: 'More about the cause: the rule field, the position in an expression, …' }),
  })
  .meta({ id: 'Problem' });
export type ProblemDocument = z.infer<typeof problemSchema>;
