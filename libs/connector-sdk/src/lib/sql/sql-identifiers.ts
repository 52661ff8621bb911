/**
 * Table and column names come from connector config, which an operator edits
 * through the Admin API. They end up inside SQL text (a name cannot be a bound
 * parameter), so they are held to a pattern that cannot express anything but
 * a name, and are quoted on top of that.
 */

/**
 * One part of a name: ASCII letters, digits and `_`, not starting with a
 * digit, at most 63 characters (PostgreSQL's limit, the lowest of the four
 * servers). Quote characters, dots, spaces and semicolons can never match.
 */
export const SQL_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isSqlIdentifier(name: string): boolean {
  return SQL_IDENTIFIER_PATTERN.test(name);
}

/**
 * The parts of a table or view name: `employees` or `hr.employees` (a schema
 * on PostgreSQL and SQL Server, a database on MariaDB/MySQL, an attached
 * database on SQLite). Undefined when the text is not such a name.
 */
export function parseQualifiedName(name: string): string[] | undefined {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every(isSqlIdentifier)) return undefined;
  return parts;
}
