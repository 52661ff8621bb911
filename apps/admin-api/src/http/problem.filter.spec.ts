import { NotFoundException } from '@nestjs/common';
import { DOMAIN_ERROR_CODES, DomainError } from '@identitymesh/domain';
import { CONNECTOR_ERROR_CODES, ConnectorError } from '@identitymesh/connector-sdk';
import { API_ERROR_CODES, ApiError } from './api-error';
import { PROBLEM_TYPES } from './problem';
import { apiErrorType, connectorErrorType, domainErrorType, mapError, problemDocument } from './problem.filter';

describe('problem documents', () => {
  it('gives every coded error a problem type of the published table', () => {
    for (const code of API_ERROR_CODES) expect(PROBLEM_TYPES[apiErrorType(code)]).toBeDefined();
    for (const code of DOMAIN_ERROR_CODES) expect(PROBLEM_TYPES[domainErrorType(code)]).toBeDefined();
    for (const code of CONNECTOR_ERROR_CODES) expect(PROBLEM_TYPES[connectorErrorType(code)]).toBeDefined();
  });

  it('answers the caller’s mistakes with 4xx and the service’s with 5xx', () => {
    expect(PROBLEM_TYPES[domainErrorType('EXPRESSION_INVALID')].status).toBe(422);
    expect(PROBLEM_TYPES[domainErrorType('KEY_RING_KEY_REVOKED')].status).toBe(401);
    expect(PROBLEM_TYPES[domainErrorType('LEASE_LOST')].status).toBe(500);
    expect(PROBLEM_TYPES[apiErrorType('RUN_NOT_HELD_FOR_APPROVAL')].status).toBe(409);
    expect(PROBLEM_TYPES[connectorErrorType('CONNECTOR_CONFIG_INVALID')].status).toBe(422);
  });

  it('builds an RFC 9457 document with the code, the field errors and the details', () => {
    const error = new ApiError('REQUEST_INVALID', 'the request body is not valid: /name is too long', { errors: [{ in: 'body', pointer: '/name', problem: 'is too long' }] });
    expect(problemDocument(mapError(error), '/api/connectors')).toEqual({
      type: 'urn:identitymesh:problem:validation-failed',
      title: 'The request does not match its schema',
      status: 400,
      detail: 'the request body is not valid: /name is too long',
      instance: '/api/connectors',
      code: 'REQUEST_INVALID',
      errors: [{ in: 'body', pointer: '/name', problem: 'is too long' }],
    });
    const domain = problemDocument(mapError(new DomainError('EXPRESSION_INVALID', 'condition: unknown function lowr()', { field: 'condition' })), '/api/rules');
    expect(domain).toMatchObject({ status: 422, type: 'urn:identitymesh:problem:expression-invalid', code: 'EXPRESSION_INVALID', details: { field: 'condition' } });
    expect(problemDocument(mapError(new ConnectorError('CONNECTOR_CONFIG_INVALID', 'csv connector config: path: required')), '/x')).toMatchObject({ status: 422, code: 'CONNECTOR_CONFIG_INVALID' });
  });

  it('maps the body parser’s refusals and Nest’s unmatched route', () => {
    expect(mapError(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 }))).toMatchObject({ type: 'payload-too-large', code: 'BODY_TOO_LARGE' });
    expect(mapError(Object.assign(new Error('unsupported charset "UTF-7"'), { type: 'charset.unsupported', status: 415 }))).toMatchObject({ type: 'unsupported-media-type' });
    expect(mapError(new NotFoundException('Cannot GET /nope'))).toMatchObject({ type: 'not-found', code: 'NOT_FOUND' });
  });

  it('never tells the caller what an unexpected error or an internal condition said', () => {
    const unexpected = problemDocument(mapError(new Error('SQLITE_ERROR: no such column "secret"')), '/api/runs');
    expect(unexpected).toMatchObject({ status: 500, type: 'urn:identitymesh:problem:internal-error', code: 'INTERNAL_ERROR' });
    expect(JSON.stringify(unexpected)).not.toContain('SQLITE');
    const lease = problemDocument(mapError(new DomainError('LEASE_LOST', 'lease of connector x lost to engine y')), '/api/runs');
    expect(JSON.stringify(lease)).not.toContain('engine y');
  });

  it('answers a database that does not respond with 503 and a Retry-After', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(mapError(error)).toMatchObject({ type: 'service-unavailable', code: 'DATABASE_UNAVAILABLE', headers: { 'Retry-After': '5' } });
  });
});
