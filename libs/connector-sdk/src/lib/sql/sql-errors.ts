/**
 * Driver errors by what they mean for a run, classified by the servers' own
 * codes (SQLSTATE, MariaDB/MySQL errno, SQL Server error number, SQLite
 * extended codes), never by message text.
 */
import { ConnectorError, ConnectorErrorCode } from '../connector';

export type SqlFailure =
  /** The server cannot be reached or dropped the connection. */
  | 'unreachable'
  /** Wrong credentials, or the account lacks a permission. */
  | 'auth'
  /** Deadlock, lock timeout, statement timeout, too many connections: try again later. */
  | 'busy'
  /** The database, table or a column named in the config does not exist. */
  | 'config'
  /** A unique key (the anchor's or another one) already holds the value. */
  | 'unique'
  /** A foreign key: the referenced row is missing, or another row still references this one. */
  | 'reference'
  /** NOT NULL or CHECK. */
  | 'constraint'
  /** A value the column cannot hold: too long, out of range, not a date. */
  | 'value'
  | 'other';

const PG: Record<string, SqlFailure> = {
  '28P01': 'auth',
  '28000': 'auth',
  '42501': 'auth',
  '3D000': 'config',
  '3F000': 'config',
  '42P01': 'config',
  '42703': 'config',
  '40001': 'busy',
  '40P01': 'busy',
  '55P03': 'busy',
  '53300': 'busy',
  '57014': 'busy',
  '57P01': 'unreachable',
  '57P02': 'unreachable',
  '57P03': 'unreachable',
  '23505': 'unique',
  '23503': 'reference',
  '23502': 'constraint',
  '23514': 'constraint',
  '23P01': 'unique',
};

const MYSQL: Record<number, SqlFailure> = {
  1045: 'auth',
  1044: 'auth',
  1698: 'auth',
  1142: 'auth',
  1143: 'auth',
  1049: 'config',
  1146: 'config',
  1054: 'config',
  1205: 'busy',
  1213: 'busy',
  1040: 'busy',
  1317: 'busy',
  1969: 'busy',
  3024: 'busy',
  2002: 'unreachable',
  2003: 'unreachable',
  2006: 'unreachable',
  2013: 'unreachable',
  1053: 'unreachable',
  1927: 'unreachable',
  4031: 'unreachable',
  1062: 'unique',
  1586: 'unique',
  1169: 'unique',
  // The upsert's guard: the row a non-anchor unique key matched belongs to another anchor.
  1242: 'unique',
  1451: 'reference',
  1452: 'reference',
  1216: 'reference',
  1217: 'reference',
  1048: 'constraint',
  1364: 'constraint',
  3819: 'constraint',
  4025: 'constraint',
  1406: 'value',
  1264: 'value',
  1265: 'value',
  1292: 'value',
  1366: 'value',
  1411: 'value',
};

const MSSQL: Record<number, SqlFailure> = {
  18456: 'auth',
  229: 'auth',
  230: 'auth',
  4060: 'config',
  208: 'config',
  207: 'config',
  1205: 'busy',
  1222: 'busy',
  40501: 'busy',
  40197: 'unreachable',
  40613: 'unreachable',
  233: 'unreachable',
  10053: 'unreachable',
  10054: 'unreachable',
  10060: 'unreachable',
  64: 'unreachable',
  2627: 'unique',
  2601: 'unique',
  547: 'reference',
  515: 'constraint',
  8152: 'value',
  2628: 'value',
  245: 'value',
  8114: 'value',
  241: 'value',
  242: 'value',
  220: 'value',
  8115: 'value',
};

const MSSQL_CODES: Record<string, SqlFailure> = {
  ELOGIN: 'auth',
  ESOCKET: 'unreachable',
  ECONNCLOSED: 'unreachable',
  EINSTLOOKUP: 'unreachable',
  ENOTOPEN: 'unreachable',
  ETIMEOUT: 'busy',
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTCONN', 'PROTOCOL_CONNECTION_LOST']);

function sqliteFailure(code: string): SqlFailure | undefined {
  if (!code.startsWith('SQLITE_')) return undefined;
  if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN_')) return 'unreachable';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'reference';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'constraint';
  if (code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG' || code === 'SQLITE_RANGE') return 'value';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_AUTH' || code === 'SQLITE_PERM') return 'auth';
  return 'other';
}

/** The error and what it wraps (mssql keeps tedious' error as originalError). */
function* causes(error: unknown): Generator<Record<string, unknown>> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const record = current as Record<string, unknown>;
    yield record;
    current = record['originalError'] ?? record['cause'];
  }
}

export function classifySqlError(error: unknown): SqlFailure {
  let sawServerCode = false;
  for (const candidate of causes(error)) {
    const code = candidate['code'];
    const errno = candidate['errno'];
    const number = candidate['number'];
    if (typeof code === 'string') {
      if (/^[0-9A-Z]{5}$/.test(code) && candidate['severity'] !== undefined) {
        sawServerCode = true;
        const known = PG[code];
        if (known) return known;
        if (code.startsWith('08')) return 'unreachable';
        if (code.startsWith('22')) return 'value';
        if (code.startsWith('23')) return 'constraint';
        if (code.startsWith('42')) return 'config';
        continue;
      }
      const sqlite = sqliteFailure(code);
      if (sqlite) return sqlite;
      if (NETWORK_CODES.has(code)) return 'unreachable';
      if (MSSQL_CODES[code] && typeof number !== 'number') return MSSQL_CODES[code];
    }
    if (typeof errno === 'number' && candidate['sqlState'] !== undefined) {
      sawServerCode = true;
      const known = MYSQL[errno];
      if (known) return known;
    } else if (typeof errno === 'number' && MYSQL[errno] === 'unreachable') {
      return 'unreachable';
    }
    if (typeof number === 'number') {
      sawServerCode = true;
      const known = MSSQL[number];
      if (known) return known;
    }
  }
  // An error no server code explains comes from the client side of the
  // connection (pg's "timeout expired", a socket closed under a query).
  return sawServerCode ? 'other' : error instanceof Error && !(error instanceof RangeError || error instanceof TypeError) ? 'unreachable' : 'other';
}

/** The connector error code and whether trying again later may help. */
export function failureCode(failure: SqlFailure): { code: ConnectorErrorCode; retryable: boolean } {
  switch (failure) {
    case 'unreachable':
      return { code: 'CONNECTOR_UNREACHABLE', retryable: true };
    case 'auth':
      return { code: 'CONNECTOR_AUTH_FAILED', retryable: false };
    case 'busy':
      return { code: 'SYSTEM_BUSY', retryable: true };
    case 'config':
      return { code: 'CONNECTOR_CONFIG_INVALID', retryable: false };
    case 'unique':
      return { code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: false };
    // The referenced row may arrive with a later batch (a manager exported after the employee).
    case 'reference':
      return { code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: true };
    case 'constraint':
      return { code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: false };
    case 'value':
      return { code: 'OBJECT_REJECTED', retryable: false };
    case 'other':
      return { code: 'SYSTEM_ERROR', retryable: false };
  }
}

/** Failures of the connection or the server as a whole, as opposed to one statement's data. */
export function isConnectionFailure(failure: SqlFailure): boolean {
  return failure === 'unreachable' || failure === 'auth' || failure === 'busy' || failure === 'config';
}

/** The driver's message with every secret replaced, so a password can never reach a log or an API response. */
export function redact(message: string, secrets: readonly string[]): string {
  let text = message;
  for (const secret of secrets) if (secret) text = text.split(secret).join('***');
  return text;
}

export function driverMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  for (const candidate of causes(error)) {
    if (typeof candidate['message'] === 'string' && candidate['message']) return candidate['message'];
  }
  return String(error);
}

/** What an operator reads when one object's statement failed. */
export function objectFailureMessage(error: unknown): string {
  for (const candidate of causes(error)) {
    if (candidate['errno'] === 1242 && candidate['sqlState'] !== undefined) {
      return 'another row already holds one of this row\'s unique values (the upsert matched a row with a different anchor)';
    }
  }
  return driverMessage(error);
}

/** A ConnectorError for a failure of a whole operation, its message cleared of secrets. */
export function toConnectorError(error: unknown, doing: string, secrets: readonly string[]): ConnectorError {
  if (error instanceof ConnectorError) return new ConnectorError(error.code, redact(error.message, secrets), error.retryable);
  const { code, retryable } = failureCode(classifySqlError(error));
  return new ConnectorError(code, redact(`${doing}: ${driverMessage(error)}`, secrets), retryable);
}
