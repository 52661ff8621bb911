/**
 * One selected row as connector-space data: what imports report and what
 * exports compare against.
 */
import type { Attributes, ImportChange, ImportObjectError } from '../connector';
import type { SqlRow } from './sql-driver';
import { ALIAS, SqlTableStatements } from './sql-table';
import { anchorValue, columnToValues, isSoftDeleted, readAnchor, SqlValueError, watermarkTextOf } from './sql-values';

export interface ReadRow {
  /** The anchor; undefined when the row's anchor value is not one (then `problems` says why). */
  anchor?: string;
  /** The anchor as the server compares it, for keyset positions. */
  key: string;
  /** The watermark value as the server's text. */
  watermark?: string;
  deleted: boolean;
  dn?: string;
  /** Every attribute that converted, the anchor attribute included. */
  attributes: Attributes;
  /** Attributes whose values did not convert. */
  unreadable: Set<string>;
  /** Why parts of the row did not convert, one message per column. */
  problems: string[];
}

function problemOf(error: unknown): string {
  if (error instanceof SqlValueError) return error.message;
  throw error;
}

export function readRow(table: SqlTableStatements, row: SqlRow): ReadRow {
  const type = table.type;
  const rawAnchor = row[ALIAS.anchor];
  const problems: string[] = [];
  const unreadable = new Set<string>();
  const attributes: Attributes = {};
  let anchor: string | undefined;
  try {
    anchor = readAnchor(rawAnchor, type.anchor.type, type.anchor.column);
    if (anchor !== undefined) attributes[type.anchor.attribute] = [anchorValue(anchor, type.anchor.type)];
  } catch (error) {
    problems.push(problemOf(error));
  }
  type.attributes.forEach((attribute, index) => {
    try {
      attributes[attribute.attribute] = columnToValues(row[ALIAS.attribute(index)], attribute);
    } catch (error) {
      problems.push(problemOf(error));
      unreadable.add(attribute.attribute);
    }
  });
  let deleted = false;
  if (type.softDelete) {
    try {
      deleted = isSoftDeleted(row[ALIAS.deleted], type.softDelete.type, type.softDelete.column);
    } catch (error) {
      problems.push(problemOf(error));
    }
  }
  const rawDn = type.dnColumn ? row[ALIAS.dn] : undefined;
  const dn = rawDn === null || rawDn === undefined ? undefined : typeof rawDn === 'string' ? rawDn : String(rawDn);
  return {
    anchor,
    key: typeof rawAnchor === 'string' ? rawAnchor : String(rawAnchor),
    watermark: type.watermark ? watermarkTextOf(row[ALIAS.watermark]) : undefined,
    deleted,
    dn,
    attributes,
    unreadable,
    problems,
  };
}

/** Where a row is, for an operator reading an import error. */
export function rowPosition(table: SqlTableStatements, read: Pick<ReadRow, 'anchor' | 'key' | 'dn'>): string {
  const where = table.type.relation.join('.');
  if (read.anchor !== undefined) return `${where} ${table.type.anchor.column}=${read.anchor}`;
  return read.dn !== undefined ? `${where} row ${read.dn}` : `${where} ${table.type.anchor.column}=${read.key}`;
}

/** What an import reports for a row: its state (a delete when it is marked deleted) or why it cannot be read. */
export function reportOf(table: SqlTableStatements, read: ReadRow): { change: ImportChange } | { error: ImportObjectError } {
  const objectType = table.type.name;
  if (read.anchor === undefined || read.problems.length > 0) {
    return {
      error: {
        objectType,
        ...(read.anchor !== undefined ? { anchor: read.anchor } : {}),
        position: rowPosition(table, read),
        code: 'OBJECT_MALFORMED',
        message: read.problems.length > 0 ? read.problems.join('; ') : `column ${table.type.anchor.column} holds no anchor`,
      },
    };
  }
  const dn = read.dn !== undefined ? { dn: read.dn } : {};
  if (read.deleted) return { change: { kind: 'delete', objectType, anchor: read.anchor, ...dn } };
  return { change: { kind: 'upsert', objectType, anchor: read.anchor, ...dn, attributes: read.attributes } };
}
