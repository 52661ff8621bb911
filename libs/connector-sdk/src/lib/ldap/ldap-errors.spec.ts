import {
  AlreadyExistsError,
  BusyError,
  ConstraintViolationError,
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchObjectError,
  NotAllowedOnNonLeafError,
  ObjectClassViolationError,
  UndefinedTypeError,
} from 'ldapts';
import { ConnectorError } from '../connector';
import { connectorFailure, isConnectionFailure, isTlsTrustFailure, objectFailure } from './ldap-errors';

describe('LDAP failures as connector error codes', () => {
  it.each([
    [new ObjectClassViolationError('object class inetOrgPerson requires attribute sn'), 'OBJECT_CONSTRAINT_VIOLATION', false],
    [new ConstraintViolationError(), 'OBJECT_CONSTRAINT_VIOLATION', false],
    [new UndefinedTypeError(), 'OBJECT_CONSTRAINT_VIOLATION', false],
    [new AlreadyExistsError(), 'OBJECT_ALREADY_EXISTS', false],
    [new NoSuchObjectError(), 'OBJECT_NOT_FOUND', false],
    [new InsufficientAccessError(), 'OBJECT_REJECTED', false],
    [new NotAllowedOnNonLeafError(), 'OBJECT_REJECTED', false],
    [new BusyError(), 'SYSTEM_BUSY', true],
    [new InvalidCredentialsError(), 'CONNECTOR_AUTH_FAILED', false],
    [new Error('Connection closed before message response was received'), 'CONNECTOR_UNREACHABLE', true],
  ])('%s → %s (retryable %s)', (error, code, retryable) => {
    expect(objectFailure(error, 'add of uid=a,dc=x')).toEqual({ code, retryable, message: expect.stringContaining('add of uid=a,dc=x failed') });
  });

  it('names the result code and keeps the server diagnostic', () => {
    expect(objectFailure(new ObjectClassViolationError('object class inetOrgPerson requires attribute sn'), 'add').message).toBe(
      'add failed: objectClassViolation (65): object class inetOrgPerson requires attribute sn',
    );
  });

  it('treats a refused certificate as configuration, not as a blip', () => {
    const untrusted = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(isTlsTrustFailure(untrusted)).toBe(true);
    expect(isConnectionFailure(untrusted, false)).toBe(false);
    const failure = connectorFailure(untrusted, 'TLS connect');
    expect(failure).toBeInstanceOf(ConnectorError);
    expect(failure.code).toBe('CONNECTOR_UNREACHABLE');
    expect(failure.retryable).toBe(false);
    expect(failure.message).toContain('tls.caFile');
  });

  it('reconnects only when the connection is gone', () => {
    const socket = new Error('read ECONNRESET');
    expect(isConnectionFailure(socket, false)).toBe(true);
    expect(isConnectionFailure(socket, true)).toBe(false);
    expect(isConnectionFailure(new NoSuchObjectError(), false)).toBe(false);
  });

  it('never reports an object code for a whole operation', () => {
    expect(connectorFailure(new NoSuchObjectError(), 'search').code).toBe('SYSTEM_ERROR');
    expect(connectorFailure(new InvalidCredentialsError(), 'bind').code).toBe('CONNECTOR_AUTH_FAILED');
  });
});
