import type { ColumnOptions, ValueTransformer } from 'typeorm';

/*
 * Column types that every supported dialect maps without drift. The JavaScript
 * constructors (String, Date, Boolean) are used on purpose instead of names
 * such as 'varchar' or 'datetime': TypeORM translates them per driver, which
 * is the only way one static entity fits all dialects.
 *
 *   String  -> varchar (SQLite, MySQL/MariaDB), character varying (PostgreSQL),
 *              nvarchar (SQL Server: Unicode, which 'varchar' would not be there)
 *   Date    -> datetime (SQLite, MySQL/MariaDB, SQL Server), timestamp (PostgreSQL).
 *              'timestamp' is not an option: on SQL Server it is rowversion and on
 *              MySQL it ends in 2038; 'datetime' does not exist on PostgreSQL.
 *              No precision is set because SQL Server's datetime takes none, so
 *              MySQL/MariaDB keep whole seconds (PostgreSQL keeps microseconds,
 *              SQLite and SQL Server milliseconds).
 *   Boolean -> boolean (PostgreSQL, SQLite), tinyint (MySQL/MariaDB), bit (SQL Server)
 *   'integer', 'bigint', 'text', 'simple-json' (text; ntext on SQL Server).
 *
 * The helpers below keep the caller's literal option types instead of widening
 * them to ColumnOptions, so their result also fits `@PrimaryColumn`, which
 * only accepts `nullable: false`.
 */

/**
 * A value inside a simple-json column; narrow it like `unknown`. Not a
 * recursive JSON type and not `unknown` on purpose: TypeORM's
 * QueryDeepPartialEntity (what insert() and update() accept) recurses into a
 * recursive type until "excessively deep" and rejects `unknown` leaves, so
 * either would stop repositories from inserting typed entity rows.
 */
export type JsonValue = NonNullable<unknown> | null;
export type JsonObject = { [key: string]: JsonValue };

/** No extra column options. */
type NoOptions = Record<never, never>;

/** Ids are application-generated UUIDs (`randomUUID()`), so batches can be inserted set-based. */
export const ID_LENGTH = 36;

/** A random UUID primary key or reference to one. */
export function idColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: String, length: ID_LENGTH, ...options };
}

export function stringColumn<T extends ColumnOptions = NoOptions>(length: number, options: T = {} as T) {
  return { type: String, length, ...options };
}

export function timestampColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: Date, ...options };
}

export function booleanColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: Boolean, ...options };
}

export function integerColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: 'integer' as const, ...options };
}

/** Unbounded text for opaque values (watermarks, ciphertext); MySQL/MariaDB TEXT holds 64 KiB. */
export function textColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: 'text' as const, ...options };
}

/** JSON payloads, stored as text so no dialect-only JSON type is needed; MySQL/MariaDB TEXT holds 64 KiB. */
export function jsonColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: 'simple-json' as const, ...options };
}

/**
 * PostgreSQL and MySQL drivers return bigint as a string (to protect values
 * beyond 2^53), SQLite returns a number. Counters and fencing tokens stay far
 * below 2^53, so every dialect hands them to the application as a number.
 */
export const bigintToNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};

export function bigintColumn<T extends ColumnOptions = NoOptions>(options: T = {} as T) {
  return { type: 'bigint' as const, transformer: bigintToNumber, ...options };
}
