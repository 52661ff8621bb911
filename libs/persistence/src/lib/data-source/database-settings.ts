import type { DatabaseDialect } from '@identitymesh/domain';

/**
 * Where the product's SQL state lives. Produced by each app's config from
 * `IM_DB_*` settings; everything here is already validated.
 */
export interface DatabaseSettings {
  dialect: DatabaseDialect;
  /** SQLite only: the database file. */
  sqliteFile?: string;
  /** A connection URL (`postgres://…`, `mysql://…`, `mssql://…`); wins over the discrete fields. */
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  /**
   * Connections kept per process.
   * @default 10
   */
  poolSize: number;
  /**
   * How long SQLite waits on a locked file before reporting SQLITE_BUSY, in ms.
   * @default 10000
   */
  busyTimeoutMs: number;
  /** SQL Server only: encrypt the connection (TLS). @default true */
  encrypt?: boolean;
  /** SQL Server only: accept a self-signed server certificate. @default false */
  trustServerCertificate?: boolean;
  /** Shown to the database server (pg `application_name`, mssql app name). */
  applicationName: string;
}

/** The settings with secrets removed, for logs and health details. */
export function describeDatabase(settings: DatabaseSettings): string {
  if (settings.dialect === 'sqlite') return `sqlite ${settings.sqliteFile}`;
  if (settings.url) {
    try {
      const url = new URL(settings.url);
      url.password = url.password ? '***' : '';
      return `${settings.dialect} ${url.toString()}`;
    } catch {
      return `${settings.dialect} (unparseable url)`;
    }
  }
  return `${settings.dialect} ${settings.username ?? ''}@${settings.host ?? 'localhost'}:${settings.port ?? ''}/${settings.database ?? ''}`;
}
