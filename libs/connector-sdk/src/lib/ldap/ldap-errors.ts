/**
 * LDAP result codes (RFC 4511 appendix A) and socket failures mapped onto
 * the connector's stable error codes, by code and error class, never by
 * message text.
 */
import { ResultCodeError } from 'ldapts';
import { ConnectorError, ConnectorErrorCode } from '../connector';

export const LDAP_RESULT = {
  operationsError: 1,
  protocolError: 2,
  timeLimitExceeded: 3,
  sizeLimitExceeded: 4,
  authMethodNotSupported: 7,
  strongerAuthRequired: 8,
  adminLimitExceeded: 11,
  unavailableCriticalExtension: 12,
  confidentialityRequired: 13,
  noSuchAttribute: 16,
  undefinedAttributeType: 17,
  inappropriateMatching: 18,
  constraintViolation: 19,
  attributeOrValueExists: 20,
  invalidAttributeSyntax: 21,
  noSuchObject: 32,
  invalidDnSyntax: 34,
  inappropriateAuthentication: 48,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
  loopDetect: 54,
  namingViolation: 64,
  objectClassViolation: 65,
  notAllowedOnNonLeaf: 66,
  notAllowedOnRdn: 67,
  entryAlreadyExists: 68,
  objectClassModsProhibited: 69,
  affectsMultipleDsas: 71,
  other: 80,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(LDAP_RESULT).map(([name, code]) => [code, name]));

/** The LDAP result code of an error, or undefined for socket, TLS and timeout failures. */
export function ldapResultCode(error: unknown): number | undefined {
  return error instanceof ResultCodeError ? error.code : undefined;
}

/**
 * The connection broke, timed out or never came up, so reconnecting may
 * help. ldapts reports these as plain Errors and drops its socket, which is
 * what `stillConnected` (the client's state after the failure) tells apart
 * from a protocol or programming error on a live connection.
 */
export function isConnectionFailure(error: unknown, stillConnected: boolean): boolean {
  if (error instanceof ConnectorError) return error.code === 'CONNECTOR_UNREACHABLE' && error.retryable;
  if (error instanceof ResultCodeError) return false;
  return !stillConnected && !isTlsTrustFailure(error);
}

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/** The server's certificate was refused: a configuration matter, not a blip. */
export function isTlsTrustFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TLS_TRUST_CODES.has(code);
}

/** How one failed operation on one object is reported. */
export interface ObjectFailure {
  code: ConnectorErrorCode;
  message: string;
  retryable: boolean;
}

/** Describes an LDAP error for a message: `objectClassViolation (65): <server's diagnostic>`. */
export function describeLdapError(error: unknown): string {
  const code = ldapResultCode(error);
  const text = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (code === undefined) return text;
  // ldapts appends the code in hex; it is named in front instead.
  const diagnostic = text.replace(/\s*Code: 0x[0-9a-f]+$/i, '');
  return `${NAMES[code] ?? 'result'} (${code})${diagnostic ? `: ${diagnostic}` : ''}`;
}

/** Maps a failed write on one object to the connector's code, and whether a retry may help. */
export function objectFailure(error: unknown, what: string): ObjectFailure {
  const code = ldapResultCode(error);
  const message = `${what} failed: ${describeLdapError(error)}`;
  if (code === undefined) return { code: 'CONNECTOR_UNREACHABLE', message, retryable: !isTlsTrustFailure(error) };
  switch (code) {
    case LDAP_RESULT.objectClassViolation:
    case LDAP_RESULT.constraintViolation:
    case LDAP_RESULT.invalidAttributeSyntax:
    case LDAP_RESULT.undefinedAttributeType:
    case LDAP_RESULT.namingViolation:
    case LDAP_RESULT.notAllowedOnRdn:
    case LDAP_RESULT.objectClassModsProhibited:
    case LDAP_RESULT.inappropriateMatching:
      return { code: 'OBJECT_CONSTRAINT_VIOLATION', message, retryable: false };
    case LDAP_RESULT.entryAlreadyExists:
      return { code: 'OBJECT_ALREADY_EXISTS', message, retryable: false };
    case LDAP_RESULT.noSuchObject:
      return { code: 'OBJECT_NOT_FOUND', message, retryable: false };
    case LDAP_RESULT.busy:
    case LDAP_RESULT.unavailable:
    case LDAP_RESULT.timeLimitExceeded:
    case LDAP_RESULT.adminLimitExceeded:
    case LDAP_RESULT.loopDetect:
      return { code: 'SYSTEM_BUSY', message, retryable: true };
    case LDAP_RESULT.invalidCredentials:
    case LDAP_RESULT.inappropriateAuthentication:
      return { code: 'CONNECTOR_AUTH_FAILED', message, retryable: false };
    case LDAP_RESULT.operationsError:
    case LDAP_RESULT.other:
      return { code: 'SYSTEM_ERROR', message, retryable: true };
    default:
      // insufficientAccessRights, unwillingToPerform, notAllowedOnNonLeaf, invalidDnSyntax, …
      return { code: 'OBJECT_REJECTED', message, retryable: false };
  }
}

/** A whole-operation failure (connect, bind, search) as a ConnectorError. */
export function connectorFailure(error: unknown, what: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (isTlsTrustFailure(error)) {
    return new ConnectorError('CONNECTOR_UNREACHABLE', `${what} failed: the server's TLS certificate is not trusted (${describeLdapError(error)}); set tls.caFile to its CA`, false);
  }
  const failure = objectFailure(error, what);
  const code: ConnectorErrorCode = failure.code.startsWith('OBJECT_') ? 'SYSTEM_ERROR' : failure.code;
  return new ConnectorError(code, failure.message, failure.retryable);
}
