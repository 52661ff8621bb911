import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import type { Attributes, ImportedObject } from '@identitymesh/connector-sdk';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import * as iconv from 'iconv-lite';
import type { ConformanceObject, SeededObject, SystemDriver } from '../../../lib/conformance-harness';

/** How the driver's file is spelled and laid out; independent of the connector's own config and code. */
export interface CsvFileLayout {
  path: string;
  objectType: string;
  delimiter: string;
  /** An iconv-lite encoding name. */
  encoding: string;
  bom: boolean;
  lineEnding: string;
  anchorColumn: string;
  /** The attribute the connector maps the anchor column to. */
  anchorAttribute: string;
  dnColumn: string;
  columns: Array<{ column: string; attribute: string; separator?: string }>;
}

/**
 * Edits and reads a delimited file the way an HR system or a person with a
 * text editor would: directly, with csv-parse and csv-stringify, never
 * through the connector.
 */
export class CsvFileDriver implements SystemDriver {
  private readonly header: string[];

  constructor(private readonly layout: CsvFileLayout) {
    this.header = [layout.anchorColumn, layout.dnColumn, ...layout.columns.map((column) => column.column)];
  }

  async seed(objects: ConformanceObject[]): Promise<SeededObject[]> {
    // Appending, as a feed that grows does, leaves whatever is already in the file as it is.
    const exists = await this.exists();
    const rows = objects.map((object) => this.toRow(object));
    await appendFile(this.layout.path, this.encode(exists ? rows : [this.header, ...rows], !exists));
    return objects.map((object) => ({ anchor: this.anchorOf(object), dn: object.dn }));
  }

  async modify(anchor: string, attributes: Attributes): Promise<void> {
    await this.edit((rows) => {
      const row = this.find(rows, anchor);
      for (const [attribute, values] of Object.entries(attributes)) row[this.columnIndex(attribute)] = this.toCell(attribute, values);
      return rows;
    });
  }

  async remove(anchor: string): Promise<void> {
    await this.edit((rows) => {
      const row = this.find(rows, anchor);
      return rows.filter((other) => other !== row);
    });
  }

  async rename(anchor: string, newDn: string): Promise<void> {
    await this.edit((rows) => {
      this.find(rows, anchor)[1] = newDn;
      return rows;
    });
  }

  async read(ref: { anchor?: string; dn?: string }): Promise<ImportedObject | undefined> {
    const all = await this.list();
    return all.find((object) => (ref.anchor !== undefined ? object.anchor === ref.anchor : object.dn === ref.dn));
  }

  async list(): Promise<ImportedObject[]> {
    return (await this.rows()).map((row) => this.toObject(row));
  }

  /** Appends a record whose quote never closes: the hardest row to fail alone. */
  async appendMalformed(): Promise<void> {
    await appendFile(this.layout.path, iconv.encode(`M-BROKEN${this.layout.delimiter}"never closed${this.layout.delimiter}x${this.layout.lineEnding}`, this.layout.encoding));
  }

  private async exists(): Promise<boolean> {
    try {
      return (await stat(this.layout.path)).size > 0;
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return false;
      throw error;
    }
  }

  private async rows(): Promise<string[][]> {
    if (!(await this.exists())) return [];
    const text = iconv.decode(await readFile(this.layout.path), this.layout.encoding, { stripBOM: true });
    const [header, ...rows] = parse(text, { delimiter: this.layout.delimiter, quote: '"', escape: '"', relax_column_count: false });
    // The connector may reorder nothing but may add columns it manages; read by name.
    return rows.map((row) => this.header.map((name) => row[header.indexOf(name)] ?? ''));
  }

  private async edit(change: (rows: string[][]) => string[][]): Promise<void> {
    const rows = change(await this.rows());
    await writeFile(this.layout.path, this.encode([this.header, ...rows], true));
  }

  private encode(rows: string[][], first: boolean): Buffer {
    const text = stringify(rows, { delimiter: this.layout.delimiter, quote: '"', escape: '"', record_delimiter: this.layout.lineEnding, quoted_match: [/[\r\n]/] });
    return iconv.encode(text, this.layout.encoding, { addBOM: first && this.layout.bom });
  }

  private find(rows: string[][], anchor: string): string[] {
    const row = rows.find((candidate) => candidate[0] === anchor);
    if (!row) throw new Error(`${this.layout.path} has no row ${anchor}`);
    return row;
  }

  private anchorOf(object: ConformanceObject): string {
    if (object.anchor === undefined) throw new Error('a CSV sample carries its anchor');
    return object.anchor;
  }

  private toRow(object: ConformanceObject): string[] {
    const row = this.header.map(() => '');
    row[0] = this.anchorOf(object);
    row[1] = object.dn ?? '';
    for (const [attribute, values] of Object.entries(object.attributes)) row[this.columnIndex(attribute)] = this.toCell(attribute, values);
    return row;
  }

  private toObject(row: string[]): ImportedObject {
    const attributes: Attributes = { [this.layout.anchorAttribute]: [row[0]] };
    this.layout.columns.forEach((column, index) => {
      const cell = row[index + 2];
      attributes[column.attribute] = cell === '' ? [] : column.separator === undefined ? [cell] : cell.split(column.separator);
    });
    return { objectType: this.layout.objectType, anchor: row[0], ...(row[1] !== '' ? { dn: row[1] } : {}), attributes };
  }

  private toCell(attribute: string, values: Attributes[string]): string {
    if (attribute === this.layout.anchorAttribute) return values.map(String).join('');
    const column = this.layout.columns.find((candidate) => candidate.attribute === attribute);
    if (!column) throw new Error(`no column for attribute ${attribute}`);
    return values.map(String).join(column.separator ?? '');
  }

  private columnIndex(attribute: string): number {
    if (attribute === this.layout.anchorAttribute) return 0;
    const index = this.layout.columns.findIndex((candidate) => candidate.attribute === attribute);
    if (index === -1) throw new Error(`no column for attribute ${attribute}`);
    return index + 2;
  }
}
