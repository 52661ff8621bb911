import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/**
 * Database faults worth retrying: the work itself was fine, the connection or
 * the server's state was not. Classified by the drivers' codes, never by
 * message text alone.
 */

// PostgreSQL SQLSTATEs: connection exceptions, admin shutdown/crash/cannot
// connect now, serialization failure and deadlock.
const PG_TRANSIENT_STATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '55P03']);
const PG_TRANSIENT_CLASSES = ['08'];

// MySQL/MariaDB error numbers: deadlock, lock wait timeout, server gone,
// lost connection, too many connections, server shutdown in progress.
const MYSQL_TRANSIENT_ERRNOS = new Set([1213, 1205, 2006, 2013, 1040, 1053, 1927, 4031]);
const MYSQL_TRANSIENT_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN']);

// SQL Server error numbers: deadlock victim, database/server unavailable,
// failover in progress (Azure SQL), and tedious' socket-level codes.
const MSSQL_TRANSIENT_NUMBERS = new Set([1205, 4060, 40197, 40501, 40613, 49918, 49919, 49920, 233, 10053, 10054, 10060, 64]);
const MSSQL_TRANSIENT_CODES = new Set(['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ECONNRESET']);

// SQLite: another process holds the write lock past the busy timeout.
const SQLITE_TRANSIENT_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

// TypeORM releases a query runner as soon as its connection reports an error
// (pg: the session was terminated while idle in a transaction). The
// transaction's next statement or its COMMIT then fails with one of these
// instead of the driver's error; nothing was committed, so another attempt is
// safe. Misuse of a released runner fails every attempt and still surfaces.
const TYPEORM_RELEASED_RUNNER_ERRORS = [QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError];

/** Messages pg gives without a code when the socket dies under a query. */
const PG_SOCKET_MESSAGES = ['Connection terminated unexpectedly', 'Connection terminated', 'Client has encountered a connection error and is not queryable'];

export function isTransientDatabaseError(error: unknown): boolean {
  for (const candidate of causes(error)) {
    if (TYPEORM_RELEASED_RUNNER_ERRORS.some((type) => candidate instanceof type)) return true;
    const code = candidate['code'];
    const errno = candidate['errno'];
    const number = candidate['number'];
    if (typeof code === 'string') {
      if (PG_TRANSIENT_STATES.has(code) || PG_TRANSIENT_CLASSES.some((c) => code.length === 5 && code.startsWith(c))) return true;
      if (MYSQL_TRANSIENT_CODES.has(code) || MSSQL_TRANSIENT_CODES.has(code) || SQLITE_TRANSIENT_CODES.has(code)) return true;
      if (NETWORK_CODES.has(code)) return true;
    }
    if (typeof errno === 'number' && MYSQL_TRANSIENT_ERRNOS.has(errno)) return true;
    if (typeof number === 'number' && MSSQL_TRANSIENT_NUMBERS.has(number)) return true;
    const message = candidate['message'];
    if (typeof message === 'string' && PG_SOCKET_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}

/** The error and what it wraps (TypeORM's QueryFailedError keeps the driver error as driverError). */
function* causes(error: unknown): Generator<Record<string, unknown>> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const record = current as Record<string, unknown>;
    yield record;
    current = record['driverError'] ?? record['originalError'] ?? record['cause'];
  }
}
