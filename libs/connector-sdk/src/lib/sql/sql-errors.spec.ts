import { ConnectorError } from '../connector';
import { classifySqlError, failureCode, objectFailureMessage, redact, toConnectorError } from './sql-errors';

/** Errors shaped as each driver raises them. */
const pg = (code: string, message = 'pg error') => Object.assign(new Error(message), { code, severity: 'ERROR' });
const mysql = (errno: number, message = 'mysql error') => Object.assign(new Error(message), { errno, sqlState: 'HY000', code: 'ER_X' });
const sqlite = (code: string) => Object.assign(new Error('sqlite error'), { code });
const mssqlRequest = (number: number) => Object.assign(new Error('mssql error'), { code: 'EREQUEST', number });
const mssqlConnection = (code: string) => Object.assign(new Error('mssql connection error'), { code });

describe('classifySqlError', () => {
  it.each([
    ['pg refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'unreachable'],
    ['pg admin shutdown', pg('57P01'), 'unreachable'],
    ['pg connection exception class', pg('08006'), 'unreachable'],
    ['pg timeout without a code', new Error('timeout expired'), 'unreachable'],
    ['pg wrong password', pg('28P01'), 'auth'],
    ['pg missing table', pg('42P01'), 'config'],
    ['pg missing database', pg('3D000'), 'config'],
    ['pg deadlock', pg('40P01'), 'busy'],
    ['pg statement timeout', pg('57014'), 'busy'],
    ['pg unique', pg('23505'), 'unique'],
    ['pg foreign key', pg('23503'), 'reference'],
    ['pg not null', pg('23502'), 'constraint'],
    ['pg too long', pg('22001'), 'value'],
    ['pg invalid text', pg('22P02'), 'value'],
    ['mysql access denied', mysql(1045), 'auth'],
    ['mysql missing table', mysql(1146), 'config'],
    ['mysql deadlock', mysql(1213), 'busy'],
    ['mysql lost connection', Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST' }), 'unreachable'],
    ['mysql duplicate', mysql(1062), 'unique'],
    ['mysql upsert guard', mysql(1242), 'unique'],
    ['mysql foreign key', mysql(1452), 'reference'],
    ['mysql not null', mysql(1048), 'constraint'],
    ['mysql data too long', mysql(1406), 'value'],
    ['sqlite missing file', sqlite('SQLITE_CANTOPEN'), 'unreachable'],
    ['sqlite busy', sqlite('SQLITE_BUSY'), 'busy'],
    ['sqlite unique', sqlite('SQLITE_CONSTRAINT_PRIMARYKEY'), 'unique'],
    ['sqlite foreign key', sqlite('SQLITE_CONSTRAINT_FOREIGNKEY'), 'reference'],
    ['sqlite not null', sqlite('SQLITE_CONSTRAINT_NOTNULL'), 'constraint'],
    ['sqlite generic error', sqlite('SQLITE_ERROR'), 'other'],
    ['mssql login', mssqlConnection('ELOGIN'), 'auth'],
    ['mssql socket', mssqlConnection('ESOCKET'), 'unreachable'],
    ['mssql wrapped socket error', Object.assign(new Error('failed'), { code: 'ESOCKET', originalError: new Error('inner') }), 'unreachable'],
    ['mssql invalid object', mssqlRequest(208), 'config'],
    ['mssql deadlock victim', mssqlRequest(1205), 'busy'],
    ['mssql unique', mssqlRequest(2627), 'unique'],
    ['mssql foreign key', mssqlRequest(547), 'reference'],
    ['mssql not null', mssqlRequest(515), 'constraint'],
    ['mssql truncation', mssqlRequest(2628), 'value'],
    ['an unknown server code', pg('XX000'), 'other'],
    ['a bug', new TypeError('x is undefined'), 'other'],
  ])('%s', (_what, error, failure) => {
    expect(classifySqlError(error)).toBe(failure);
  });

  it('maps failures to connector codes, retryable where waiting helps', () => {
    expect(failureCode('unreachable')).toEqual({ code: 'CONNECTOR_UNREACHABLE', retryable: true });
    expect(failureCode('busy')).toEqual({ code: 'SYSTEM_BUSY', retryable: true });
    expect(failureCode('auth')).toEqual({ code: 'CONNECTOR_AUTH_FAILED', retryable: false });
    expect(failureCode('reference')).toEqual({ code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: true });
    expect(failureCode('unique')).toEqual({ code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: false });
    expect(failureCode('value')).toEqual({ code: 'OBJECT_REJECTED', retryable: false });
  });

  it('explains the MariaDB upsert guard instead of repeating its subquery error', () => {
    expect(objectFailureMessage(mysql(1242, 'Subquery returns more than 1 row'))).toContain('another row already holds one of this row');
  });
});

describe('secrets in errors', () => {
  const password = 'Tr0ub4dor&3';

  it('are replaced wherever a driver message holds them', () => {
    expect(redact(`login failed for sync with ${password} (${password})`, [password])).toBe('login failed for sync with *** (***)');
    expect(redact('nothing to hide', [''])).toBe('nothing to hide');
  });

  it('never reach a ConnectorError', () => {
    const error = toConnectorError(pg('28P01', `password authentication failed: "${password}"`), 'connecting', [password]);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code: 'CONNECTOR_AUTH_FAILED', retryable: false });
    expect(error.message).toBe('connecting: password authentication failed: "***"');
    const passedThrough = toConnectorError(new ConnectorError('SYSTEM_ERROR', `boom ${password}`), 'x', [password]);
    expect(passedThrough.message).not.toContain(password);
  });
});
