import type { AttributeChange, AttributeValues, ConnectorErrorCode, ExportChange, ExportOutcome } from '../connector';
import { cellToValues, CsvColumn, sameCell, valuesToCell } from './csv-values';

/** What a CsvTable needs to know about the file's mapping. */
export interface CsvTableMapping {
  objectType: string;
  anchorColumn: string;
  dnColumn?: string;
  columns: CsvColumn[];
  /** Whether the file's encoding can hold the text. */
  canEncode(text: string): boolean;
}

export type CsvChangeOutcome = { outcome: Exclude<ExportOutcome, 'failed'> } | { outcome: 'failed'; code: ConnectorErrorCode; message: string };

class ChangeRejected extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The content of an export target in memory, rows by anchor, so a batch of
 * exports is applied as a set and the file is written once. Cells are kept
 * as text for every column of the file, mapped or not, so a rewrite keeps
 * columns (and their order) that the connector does not manage.
 *
 * Whether a change is already applied is decided from the content, not from
 * a record of change ids: a retried add finds its row with the desired
 * values, a retried delete finds no row. That holds across connector
 * instances and survives a crash between writing the file and recording the
 * result.
 */
export class CsvTable {
  private readonly columnIndex = new Map<string, number>();
  private readonly byAttribute = new Map<string, CsvColumn>();

  constructor(
    readonly header: string[],
    readonly rows: Map<string, string[]>,
    private readonly mapping: CsvTableMapping,
  ) {
    for (const column of [mapping.anchorColumn, mapping.dnColumn, ...mapping.columns.map((c) => c.column)]) {
      if (column !== undefined && !header.includes(column)) {
        // A target file written before a column was mapped gains the column.
        header.push(column);
        for (const row of rows.values()) row.push('');
      }
    }
    header.forEach((name, index) => this.columnIndex.set(name, index));
    for (const column of mapping.columns) this.byAttribute.set(column.attribute, column);
  }

  /** Applies one change to the content; the caller writes the file once the batch is done. */
  apply(change: ExportChange): CsvChangeOutcome {
    try {
      if (change.objectType !== this.mapping.objectType) {
        throw new ChangeRejected('OBJECT_REJECTED', `this file holds '${this.mapping.objectType}' objects, not '${change.objectType}'`);
      }
      switch (change.kind) {
        case 'add':
          return { outcome: this.add(change) };
        case 'update':
          return { outcome: this.update(change) };
        case 'delete':
          return { outcome: this.delete(change) };
        case 'rename':
          return { outcome: this.rename(change) };
      }
    } catch (error) {
      if (error instanceof ChangeRejected) return { outcome: 'failed', code: error.code, message: error.message };
      throw error;
    }
  }

  private add(change: ExportChange): Exclude<ExportOutcome, 'failed'> {
    const anchorColumn = this.mappedColumn(this.mapping.anchorColumn);
    const anchorValues = change.attributes?.[anchorColumn.attribute];
    const anchorFromAttributes = anchorValues && anchorValues.op !== 'remove' ? anchorValues.values.map(String) : [];
    if (change.anchor !== undefined && anchorFromAttributes.length > 0 && (anchorFromAttributes.length > 1 || anchorFromAttributes[0] !== change.anchor)) {
      throw new ChangeRejected('OBJECT_REJECTED', `the add names anchor '${change.anchor}' but sets '${anchorColumn.attribute}' to ${JSON.stringify(anchorFromAttributes)}`);
    }
    const anchor = change.anchor ?? (anchorFromAttributes.length === 1 ? anchorFromAttributes[0] : undefined);
    if (anchor === undefined || anchor.trim() === '') {
      throw new ChangeRejected('OBJECT_REJECTED', `an add needs its anchor ('${anchorColumn.attribute}'): this system does not assign one`);
    }

    const row = this.header.map(() => '');
    const written = new Set<string>();
    const set = (column: string, cell: string) => {
      row[this.index(column)] = cell;
      written.add(column);
    };
    this.checkEncodable(anchor, this.mapping.anchorColumn);
    set(this.mapping.anchorColumn, anchor);
    if (change.dn !== undefined && this.mapping.dnColumn !== undefined) {
      this.checkEncodable(change.dn, this.mapping.dnColumn);
      set(this.mapping.dnColumn, change.dn);
    }
    for (const [attribute, attributeChange] of Object.entries(change.attributes ?? {})) {
      if (attributeChange.op === 'remove') throw new ChangeRejected('OBJECT_REJECTED', `an add cannot remove values ('${attribute}')`);
      const column = this.attributeColumn(attribute);
      if (column.column === this.mapping.anchorColumn) continue;
      const cell = this.toCell(attributeChange.values, column);
      if (written.has(column.column) && row[this.index(column.column)] !== cell) {
        throw new ChangeRejected('OBJECT_REJECTED', `the add's dn and attribute '${attribute}' disagree`);
      }
      set(column.column, cell);
    }
    this.checkRequired(row);

    const existing = this.rows.get(anchor);
    if (existing) {
      const differing = [...written].filter((column) => !this.sameCells(existing, row, column));
      if (differing.length === 0) return 'already-applied';
      throw new ChangeRejected('OBJECT_ALREADY_EXISTS', `a row with anchor '${anchor}' already exists with other values in ${differing.map((c) => `'${c}'`).join(', ')}`);
    }
    this.rows.set(anchor, row);
    return 'applied';
  }

  private update(change: ExportChange): Exclude<ExportOutcome, 'failed'> {
    const [anchor, existing] = this.existingRow(change);
    if (!existing) throw new ChangeRejected('OBJECT_NOT_FOUND', `no row with anchor '${anchor}'`);
    const row = [...existing];
    for (const [attribute, attributeChange] of Object.entries(change.attributes ?? {})) {
      const column = this.attributeColumn(attribute);
      const index = this.index(column.column);
      row[index] = this.toCell(this.changedValues(row[index], column, attributeChange), column);
      if (column.column === this.mapping.anchorColumn && row[index] !== anchor) {
        throw new ChangeRejected('OBJECT_REJECTED', `the anchor ('${attribute}') cannot change`);
      }
    }
    this.checkRequired(row);
    if (this.header.every((column) => this.sameCells(existing, row, column))) return 'already-applied';
    this.rows.set(anchor, row);
    return 'applied';
  }

  private delete(change: ExportChange): Exclude<ExportOutcome, 'failed'> {
    const [anchor, existing] = this.existingRow(change);
    if (!existing) return 'already-applied';
    this.rows.delete(anchor);
    return 'applied';
  }

  private rename(change: ExportChange): Exclude<ExportOutcome, 'failed'> {
    if (this.mapping.dnColumn === undefined) throw new ChangeRejected('OBJECT_REJECTED', 'this file has no display key column (dnColumn) to rename');
    if (change.newDn === undefined || change.newDn.trim() === '') throw new ChangeRejected('OBJECT_REJECTED', 'a rename needs newDn');
    const [anchor, existing] = this.existingRow(change);
    if (!existing) throw new ChangeRejected('OBJECT_NOT_FOUND', `no row with anchor '${anchor}'`);
    const index = this.index(this.mapping.dnColumn);
    if (existing[index] === change.newDn) return 'already-applied';
    this.checkEncodable(change.newDn, this.mapping.dnColumn);
    const row = [...existing];
    row[index] = change.newDn;
    this.checkRequired(row);
    this.rows.set(anchor, row);
    return 'applied';
  }

  private existingRow(change: ExportChange): [string, string[] | undefined] {
    if (change.anchor === undefined || change.anchor === '') throw new ChangeRejected('OBJECT_REJECTED', `a ${change.kind} needs the object's anchor`);
    return [change.anchor, this.rows.get(change.anchor)];
  }

  private changedValues(cell: string, column: CsvColumn, change: AttributeChange): AttributeValues {
    if (change.op === 'replace') return change.values;
    const current = cellToValues(cell, column);
    // A cell the file already holds that no longer parses is replaced, not merged into.
    const values = Array.isArray(current) ? current : [];
    const has = (list: AttributeValues, value: AttributeValues[number]) => list.some((v) => String(v) === String(value));
    if (change.op === 'add') return [...values, ...change.values.filter((value) => !has(values, value))];
    if (change.values.length === 0) return [];
    return values.filter((value) => !has(change.values, value));
  }

  private toCell(values: AttributeValues, column: CsvColumn): string {
    const cell = valuesToCell(values, column);
    if (typeof cell !== 'string') throw new ChangeRejected('OBJECT_CONSTRAINT_VIOLATION', cell.problem);
    this.checkEncodable(cell, column.column);
    return cell;
  }

  private checkEncodable(cell: string, column: string): void {
    if (!this.mapping.canEncode(cell)) {
      throw new ChangeRejected('OBJECT_CONSTRAINT_VIOLATION', `column '${column}': '${cell}' holds characters the file's encoding cannot represent`);
    }
  }

  private checkRequired(row: string[]): void {
    for (const column of this.mapping.columns) {
      if (column.required && row[this.index(column.column)].trim() === '') {
        throw new ChangeRejected('OBJECT_CONSTRAINT_VIOLATION', `attribute '${column.attribute}' is required`);
      }
    }
  }

  private sameCells(a: string[], b: string[], columnName: string): boolean {
    const index = this.index(columnName);
    const column = this.mapping.columns.find((c) => c.column === columnName);
    return column ? sameCell(a[index], b[index], column) : a[index] === b[index];
  }

  private attributeColumn(attribute: string): CsvColumn {
    const column = this.byAttribute.get(attribute);
    if (!column) throw new ChangeRejected('OBJECT_REJECTED', `attribute '${attribute}' has no column in this file`);
    return column;
  }

  private mappedColumn(columnName: string): CsvColumn {
    const column = this.mapping.columns.find((c) => c.column === columnName);
    if (!column) throw new Error(`column '${columnName}' is not mapped`);
    return column;
  }

  private index(column: string): number {
    const index = this.columnIndex.get(column);
    if (index === undefined) throw new Error(`column '${column}' is not in the table`);
    return index;
  }
}
