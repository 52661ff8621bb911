import { z } from 'zod';
import { validateConnectorConfig } from '../config-validation';
import { SQL_DIALECTS, SQL_WATERMARK_TYPES, SqlDialectName, SqlWatermarkType } from './sql-dialect';
import { isSqlIdentifier, parseQualifiedName } from './sql-identifiers';

/** The attribute types a column can hold. */
export const SQL_COLUMN_TYPES = ['string', 'integer', 'boolean', 'datetime', 'binary', 'reference'] as const;
export type SqlColumnType = (typeof SQL_COLUMN_TYPES)[number];

export const SQL_ANCHOR_TYPES = ['string', 'integer'] as const;
export type SqlAnchorType = (typeof SQL_ANCHOR_TYPES)[number];

/** `timestamp`: deleted when the column is not NULL (deleted_at); `boolean`: deleted when it holds true or 1 (is_deleted). */
export const SQL_SOFT_DELETE_TYPES = ['timestamp', 'boolean'] as const;
export type SqlSoftDeleteType = (typeof SQL_SOFT_DELETE_TYPES)[number];

const DEFAULT_PORTS: Record<Exclude<SqlDialectName, 'sqlite'>, number> = { postgres: 5432, mariadb: 3306, mysql: 3306, mssql: 1433 };
const URL_SCHEMES: Record<Exclude<SqlDialectName, 'sqlite'>, string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  mariadb: ['mariadb:', 'mysql:'],
  mysql: ['mysql:', 'mariadb:'],
  mssql: ['mssql:', 'sqlserver:'],
};
const SERVER_SETTINGS = ['url', 'host', 'port', 'database', 'user', 'passwordSecret', 'encrypt', 'trustServerCertificate', 'poolSize'] as const;

const column = z.string().refine(isSqlIdentifier, {
  message: 'must be a plain column name: letters, digits and _, not starting with a digit, at most 63 characters',
});
const tableName = z.string().refine((name) => parseQualifiedName(name) !== undefined, {
  message: 'must be a table or view name, optionally schema-qualified (hr.employees): letters, digits and _ in each part',
});

const attributeSchema = z.strictObject({
  column,
  attribute: z.string().trim().min(1).max(128).optional(),
  type: z.enum(SQL_COLUMN_TYPES).default('string'),
  multiValued: z.boolean().default(false),
  separator: z.string().min(1).max(8).optional(),
  required: z.boolean().default(false),
  readOnly: z.boolean().default(false),
});

const objectTypeSchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  table: tableName.optional(),
  view: tableName.optional(),
  anchor: z.strictObject({
    column,
    attribute: z.string().trim().min(1).max(128).optional(),
    type: z.enum(SQL_ANCHOR_TYPES).default('string'),
  }),
  dnColumn: column.optional(),
  attributes: z.array(attributeSchema).default([]),
  watermark: z
    .strictObject({
      column,
      type: z.enum(SQL_WATERMARK_TYPES).default('timestamp'),
    })
    .optional(),
  softDelete: z
    .strictObject({
      column,
      type: z.enum(SQL_SOFT_DELETE_TYPES).default('timestamp'),
      onExport: z.enum(['soft', 'hard']).default('soft'),
    })
    .optional(),
});

const connectionSchema = z.strictObject({
  url: z.string().min(1).optional(),
  host: z.string().trim().min(1).max(255).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  database: z.string().trim().min(1).max(128).optional(),
  user: z.string().trim().min(1).max(128).optional(),
  passwordSecret: z.string().min(1).max(400).regex(/^\S+$/, 'must be a secret reference such as sql/hr/password (no spaces)').optional(),
  file: z.string().trim().min(1).optional(),
  encrypt: z.boolean().optional(),
  trustServerCertificate: z.boolean().optional(),
  poolSize: z.number().int().min(1).max(100).default(4),
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
  queryTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000),
});

const rawConfigSchema = z
  .strictObject({
    dialect: z.enum(SQL_DIALECTS),
    connection: connectionSchema,
    objectTypes: z.array(objectTypeSchema).min(1, 'needs at least one object type'),
  })
  .superRefine((config, ctx) => {
    checkConnection(config.dialect, config.connection, ctx);
    const names = new Set<string>();
    config.objectTypes.forEach((type, index) => {
      if (names.has(type.name)) ctx.addIssue({ code: 'custom', path: ['objectTypes', index, 'name'], message: 'is used by another object type' });
      names.add(type.name);
      checkObjectType(config.dialect, type, ['objectTypes', index], ctx);
    });
  });

type RawConnection = z.output<typeof connectionSchema>;
type RawObjectType = z.output<typeof objectTypeSchema>;

function checkConnection(dialect: SqlDialectName, connection: RawConnection, ctx: z.RefinementCtx): void {
  const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: ['connection', field], message });
  if (dialect === 'sqlite') {
    if (!connection.file) issue('file', 'is required for sqlite: the path of the database file');
    for (const field of SERVER_SETTINGS) {
      if (field !== 'poolSize' && connection[field] !== undefined) issue(field, 'is not a setting for sqlite (only file)');
    }
    return;
  }
  if (connection.file !== undefined) issue('file', `is only for sqlite; ${dialect} connects with url or host`);
  if ((connection.url === undefined) === (connection.host === undefined)) issue('host', 'give either url or host (with database and user)');
  if (connection.url !== undefined) {
    // The URL text is never echoed: an operator may have put a password in it.
    const url = parseUrl(connection.url);
    if (!url) issue('url', 'must be a URL such as postgres://sync@db.corp.example:5432/hr');
    else {
      if (!URL_SCHEMES[dialect].includes(url.protocol)) issue('url', `must start with ${URL_SCHEMES[dialect].map((s) => `${s}//`).join(' or ')} for ${dialect}`);
      if (url.password) issue('url', 'must not hold a password; store it with secretscli and name it in passwordSecret');
      if (url.search || url.hash) issue('url', 'must not have query parameters; use the encrypt and trustServerCertificate settings');
      if (!url.hostname) issue('url', 'must name a host');
      const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
      if (database.includes('/')) issue('url', 'must name one database in its path');
      for (const field of ['host', 'port', 'database', 'user'] as const) {
        if (connection[field] !== undefined) issue(field, 'cannot be combined with url');
      }
      if (!database) issue('url', 'must name the database in its path (…/hr)');
    }
  } else if (connection.host !== undefined && connection.database === undefined) {
    issue('database', `is required for ${dialect}`);
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function checkObjectType(dialect: SqlDialectName, type: RawObjectType, path: Array<string | number>, ctx: z.RefinementCtx): void {
  const issue = (where: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path: [...path, ...where], message });
  if ((type.table === undefined) === (type.view === undefined)) issue(['table'], 'give either table or view');
  const columns = new Map<string, string>([[type.anchor.column, 'the anchor']]);
  const attributes = new Set<string>([type.anchor.attribute ?? type.anchor.column]);
  if (type.dnColumn !== undefined) {
    if (columns.has(type.dnColumn)) issue(['dnColumn'], 'must differ from the anchor column: a rename keeps the anchor');
    columns.set(type.dnColumn, 'dnColumn');
  }
  type.attributes.forEach((attribute, index) => {
    const name = attribute.attribute ?? attribute.column;
    const used = columns.get(attribute.column);
    if (used !== undefined) issue(['attributes', index, 'column'], `is already mapped (${used})`);
    columns.set(attribute.column, `attribute ${name}`);
    if (attributes.has(name)) issue(['attributes', index, 'attribute'], `maps attribute '${name}' a second time`);
    attributes.add(name);
    if (attribute.separator !== undefined && !attribute.multiValued) issue(['attributes', index, 'separator'], 'is only for multiValued attributes');
    if (attribute.multiValued && (attribute.type === 'boolean' || attribute.type === 'binary')) {
      issue(['attributes', index, 'multiValued'], `a ${attribute.type} column holds one value; multi-valued attributes are stored as delimited text`);
    }
  });
  if (type.watermark !== undefined) {
    if (type.watermark.column === type.anchor.column || type.watermark.column === type.dnColumn) {
      issue(['watermark', 'column'], 'must differ from the anchor and dn columns');
    }
    if (type.watermark.type === 'rowversion' && dialect !== 'mssql') issue(['watermark', 'type'], 'rowversion is SQL Server only; use integer or timestamp');
  }
  if (type.softDelete !== undefined) {
    const soft = type.softDelete.column;
    if (soft === type.anchor.column || soft === type.dnColumn || soft === type.watermark?.column) {
      issue(['softDelete', 'column'], 'must differ from the anchor, dn and watermark columns');
    }
  }
}

/** One mapped column of an object type. */
export interface SqlAttributeConfig {
  column: string;
  /** The attribute it maps to. @default the column name */
  attribute: string;
  /** `reference` values are anchors of other rows (a manager_id). @default 'string' */
  type: SqlColumnType;
  /** Values are stored in one text column, joined by `separator`. @default false */
  multiValued: boolean;
  /** @default ';' */
  separator: string;
  /** Exports refuse an object without a value for it. @default false */
  required: boolean;
  /** Imported, never exported. Always true for the watermark and soft-delete columns. @default false */
  readOnly: boolean;
}

export interface SqlObjectTypeConfig {
  /** The object type's name in connector space (`person`, `group`). */
  name: string;
  /** Parts of the table or view name (`['hr', 'employees']`). */
  relation: string[];
  /** A view is imported only; exports to it fail. */
  kind: 'table' | 'view';
  anchor: {
    /** Holds the anchor: the primary key, or a column with a unique index (upserts match on it). */
    column: string;
    /** @default the column name */
    attribute: string;
    /** @default 'string' */
    type: SqlAnchorType;
  };
  /** A column holding the object's display key, reported as its `dn`; a rename rewrites it. */
  dnColumn?: string;
  attributes: SqlAttributeConfig[];
  /** Delta imports read rows whose column is past the watermark; the table must advance it on every write. */
  watermark?: { column: string; type: SqlWatermarkType };
  /** Lets delta imports see deletes: rows marked deleted are reported as deletes and skipped by full imports. */
  softDelete?: {
    column: string;
    type: SqlSoftDeleteType;
    /** How an export deletes: mark the row (`soft`) or DELETE it (`hard`). @default 'soft' */
    onExport: 'soft' | 'hard';
  };
}

export interface SqlConnectionConfig {
  host?: string;
  /** @default 5432 (postgres), 3306 (mariadb, mysql), 1433 (mssql) */
  port?: number;
  database?: string;
  user?: string;
  /** A secret reference, resolved through ConnectorContext.secrets when the connector first connects. */
  passwordSecret?: string;
  /** SQLite: the database file; it must exist. */
  file?: string;
  /** TLS to the server. @default true (mssql), false (others) */
  encrypt: boolean;
  /** Accept any server certificate (a self-signed one in a lab). @default false */
  trustServerCertificate: boolean;
  /** @default 4 */
  poolSize: number;
  /** @default 15000 */
  connectTimeoutMs: number;
  /** Per statement. @default 300000 */
  queryTimeoutMs: number;
}

/** The validated configuration of a `sql` connector. */
export interface SqlConnectorConfig {
  dialect: SqlDialectName;
  connection: SqlConnectionConfig;
  objectTypes: SqlObjectTypeConfig[];
}

export type SqlConnectorRawConfig = z.input<typeof rawConfigSchema>;

/**
 * Validates a `sql` connector config from SQL or the Admin API and fills in
 * every default. Throws ConnectorError CONNECTOR_CONFIG_INVALID naming each
 * bad field; values are never echoed, so a password pasted into the wrong
 * field does not end up in a log.
 */
export function parseSqlConnectorConfig(raw: unknown): SqlConnectorConfig {
  const c = validateConnectorConfig(rawConfigSchema, raw, { connector: 'sql', passwordSecretSetting: 'connection.passwordSecret' });
  return { dialect: c.dialect, connection: connectionOf(c.dialect, c.connection), objectTypes: c.objectTypes.map(objectTypeOf) };
}

function connectionOf(dialect: SqlDialectName, raw: RawConnection): SqlConnectionConfig {
  const common = { poolSize: raw.poolSize, connectTimeoutMs: raw.connectTimeoutMs, queryTimeoutMs: raw.queryTimeoutMs };
  if (dialect === 'sqlite') return { ...common, file: raw.file, encrypt: false, trustServerCertificate: false };
  const fromUrl = raw.url !== undefined ? (parseUrl(raw.url) as URL) : undefined;
  return {
    ...common,
    host: fromUrl ? fromUrl.hostname.replace(/^\[|\]$/g, '') : raw.host,
    port: (fromUrl?.port ? Number(fromUrl.port) : raw.port) ?? DEFAULT_PORTS[dialect],
    database: fromUrl ? decodeURIComponent(fromUrl.pathname.replace(/^\//, '')) : raw.database,
    user: fromUrl ? (fromUrl.username ? decodeURIComponent(fromUrl.username) : undefined) : raw.user,
    passwordSecret: raw.passwordSecret,
    encrypt: raw.encrypt ?? dialect === 'mssql',
    trustServerCertificate: raw.trustServerCertificate ?? false,
  };
}

function objectTypeOf(raw: RawObjectType): SqlObjectTypeConfig {
  const readOnlyColumns = new Set([raw.watermark?.column, raw.softDelete?.column]);
  return {
    name: raw.name,
    relation: parseQualifiedName(raw.table ?? (raw.view as string)) as string[],
    kind: raw.table !== undefined ? 'table' : 'view',
    anchor: { column: raw.anchor.column, attribute: raw.anchor.attribute ?? raw.anchor.column, type: raw.anchor.type },
    ...(raw.dnColumn !== undefined ? { dnColumn: raw.dnColumn } : {}),
    attributes: raw.attributes.map((a) => ({
      column: a.column,
      attribute: a.attribute ?? a.column,
      type: a.type,
      multiValued: a.multiValued,
      separator: a.separator ?? ';',
      required: a.required,
      // The table maintains these columns; writing them would fight its own bookkeeping.
      readOnly: a.readOnly || readOnlyColumns.has(a.column),
    })),
    ...(raw.watermark !== undefined ? { watermark: raw.watermark } : {}),
    ...(raw.softDelete !== undefined ? { softDelete: raw.softDelete } : {}),
  };
}
