import { createHash, Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import * as iconv from 'iconv-lite';
import {
  Attributes,
  ConnectionTestResult,
  Connector,
  ConnectorCapabilities,
  ConnectorContext,
  ConnectorError,
  ConnectorFactory,
  ConnectorSchema,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportChange,
  ImportObjectError,
  ImportRequest,
} from '../connector';
import { CsvConnectorConfig, iconvEncoding, parseCsvConnectorConfig } from './csv-config';
import { contentWatermark, errorCode, fileError, hashFile, openForReading, writeFileAtomically } from './csv-file';
import { CsvDialect, CsvReadItem, CsvRecordProblem, hasUndecodableBytes, readCsvRecords } from './csv-record-reader';
import { CsvTable } from './csv-table';
import { cellToValues, CsvColumn } from './csv-values';

const DEFAULT_BATCH_SIZE = 500;
const WRITE_ROWS_PER_CHUNK = 1_000;

/** Where each configured column sits in the file. */
interface FileLayout {
  header: string[];
  anchorIndex: number;
  dnIndex?: number;
  columns: Array<{ column: CsvColumn; index: number }>;
}

/**
 * A delimited file (an HR feed, an export for a downstream system) as a
 * connected system. Imports stream the file in batches; a delta import is a
 * snapshot: nothing when the content hash is the watermark's, else the whole
 * file, which the engine compares with the staged state. Exports rewrite the
 * file atomically.
 */
export class CsvConnector implements Connector {
  readonly type = 'csv';
  private readonly columns: CsvColumn[];
  private readonly dialect: CsvDialect;
  private readonly encoding: string;

  constructor(
    private readonly config: CsvConnectorConfig,
    private readonly context: ConnectorContext,
  ) {
    this.columns = config.columns.map((column) => ({ ...column, attribute: column.attribute ?? column.column }));
    this.encoding = iconvEncoding(config.encoding);
    this.dialect = {
      encoding: this.encoding,
      delimiter: config.delimiter,
      quote: config.quote,
      trim: config.trim,
      maxLinesPerRecord: config.maxLinesPerRecord,
      maxRecordLength: config.maxRecordLength,
    };
  }

  capabilities(): ConnectorCapabilities {
    return {
      deltaImport: 'snapshot',
      export: this.config.export.enabled,
      rename: this.config.export.enabled && this.config.dnColumn !== undefined,
      assignsAnchorOnAdd: false,
    };
  }

  async schema(): Promise<ConnectorSchema> {
    const anchor = this.anchorColumn();
    return {
      objectTypes: [
        {
          name: this.config.objectType,
          anchorAttribute: anchor.attribute,
          attributes: this.columns.map((column) => ({
            name: column.attribute,
            type: column.type,
            multiValued: column.separator !== undefined,
            required: column.required || column === anchor,
            ...(column.type === 'reference' ? { referenceBy: 'anchor' as const } : {}),
          })),
        },
      ],
    };
  }

  async testConnection(): Promise<ConnectionTestResult> {
    const { path } = this.config;
    try {
      const handle = await openForReading(path);
      if (!handle) {
        if (!this.config.export.enabled) return { ok: false, detail: `${path} does not exist` };
        await access(dirname(path), constants.W_OK);
        return { ok: true, detail: `${path} does not exist yet; the first export creates it (directory ${dirname(path)} is writable)` };
      }
      let firstRecord: CsvReadItem | undefined;
      const size = (await handle.stat()).size;
      try {
        for await (const item of readCsvRecords(handle.createReadStream({ autoClose: false }), this.dialect)) {
          firstRecord = item;
          break;
        }
      } finally {
        await handle.close();
      }
      if (this.config.export.enabled) await access(dirname(path), constants.W_OK);
      if (!firstRecord) return { ok: !this.isSourceOnly(), detail: `${path} is empty (${size} bytes)` };
      if (firstRecord.kind === 'problem') return { ok: false, detail: `${path}: ${positionOf(firstRecord)}: ${firstRecord.message}` };
      if (!this.config.header) {
        const expected = this.config.columnNames?.length ?? 0;
        const ok = firstRecord.fields.length === expected;
        return { ok, detail: `${path}: ${size} bytes; the first row has ${firstRecord.fields.length} fields${ok ? '' : `, columnNames names ${expected}`}` };
      }
      const layout = this.layout(firstRecord.fields);
      return { ok: true, detail: `${path}: ${size} bytes; the header has ${layout.header.length} columns, all ${this.columns.length} mapped columns found` };
    } catch (error) {
      const failure = error instanceof ConnectorError ? error : fileError(error, path, 'read');
      return { ok: false, detail: failure.message };
    }
  }

  async *import(request: ImportRequest): AsyncIterable<ImportBatch> {
    const batchSize = request.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `batchSize must be a positive integer, got ${batchSize}`);
    if (request.objectTypes.length > 0 && !request.objectTypes.includes(this.config.objectType)) return;

    if (request.mode === 'delta' && request.watermark !== undefined) {
      const current = (await hashFile(this.config.path)) ?? this.missingFileWatermark();
      if (current === request.watermark) return;
    }

    const handle = await openForReading(this.config.path);
    if (!handle) {
      yield { changes: [], errors: [], watermark: this.missingFileWatermark() };
      return;
    }
    const hash = createHash('sha256');
    const stream = handle.createReadStream({ autoClose: false, highWaterMark: 64 * 1024 });
    let layout = this.config.header ? undefined : this.layout(this.config.columnNames ?? []);
    const seen = new Map<string, number>();
    let changes: ImportChange[] = [];
    let errors: ImportObjectError[] = [];
    let rows = 0;
    let failed = 0;
    let empty = true;
    try {
      for await (const item of readCsvRecords(hashed(stream, hash), this.dialect)) {
        if (request.signal?.aborted) return;
        empty = false;
        if (!layout) {
          if (item.kind === 'problem') throw new ConnectorError('SYSTEM_ERROR', `${this.config.path}: the header row cannot be read (${positionOf(item)}: ${item.message})`);
          layout = this.layout(item.fields);
          continue;
        }
        const read = item.kind === 'problem' ? this.problemError(item, layout) : this.toChange(item.fields, item.line, item.endLine, layout, seen);
        if ('kind' in read) {
          changes.push(read);
          rows++;
        } else {
          errors.push(read);
          failed++;
        }
        // Errors count too: a file of garbage must not pile up in one batch.
        if (changes.length + errors.length >= batchSize) {
          yield { changes, errors };
          changes = [];
          errors = [];
        }
      }
    } catch (error) {
      throw errorCode(error) ? fileError(error, this.config.path, 'read') : error;
    } finally {
      stream.destroy();
      await handle.close();
    }
    if (empty && this.isSourceOnly()) {
      // A truncated drop must not read as "everyone left".
      throw new ConnectorError('SYSTEM_ERROR', `${this.config.path} is empty`);
    }
    // Only the end is a safe resume point: the hash covers the whole file, so
    // a watermark on an earlier batch would make a resumed delta skip the rest.
    yield { changes, errors, watermark: contentWatermark(hash.digest('hex')) };
    this.context.logger.info('csv import read the file', { path: this.config.path, mode: request.mode, rows, failed });
  }

  async export(changes: ExportChange[]): Promise<ExportResult[]> {
    if (!this.config.export.enabled) {
      throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `Exports to ${this.config.path} are not enabled (export.enabled is false)`);
    }
    const table = await this.loadTable();
    const results: ExportResult[] = changes.map((change) => {
      const result = table.apply(change);
      return result.outcome === 'failed'
        ? { id: change.id, outcome: 'failed', error: { code: result.code, message: result.message, retryable: false } }
        : { id: change.id, outcome: result.outcome };
    });
    if (results.some((result) => result.outcome === 'applied')) {
      await writeFileAtomically(this.config.path, this.serialise(table));
    }
    this.context.logger.info('csv export applied a batch', {
      path: this.config.path,
      applied: results.filter((r) => r.outcome === 'applied').length,
      alreadyApplied: results.filter((r) => r.outcome === 'already-applied').length,
      failed: results.filter((r) => r.outcome === 'failed').length,
    });
    return results;
  }

  async close(): Promise<void> {
    // Nothing stays open between calls: every import and export opens and closes the file itself.
  }

  private isSourceOnly(): boolean {
    return !this.config.export.enabled;
  }

  /** What an export target that was never written imports as: nothing. A source file that is missing is an error instead. */
  private missingFileWatermark(): string {
    if (this.isSourceOnly()) throw new ConnectorError('CONNECTOR_UNREACHABLE', `${this.config.path} does not exist`, true);
    return contentWatermark(createHash('sha256').digest('hex'));
  }

  private anchorColumn(): CsvColumn {
    const anchor = this.columns.find((column) => column.column === this.config.anchorColumn);
    if (!anchor) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `anchorColumn '${this.config.anchorColumn}' is not mapped`);
    return anchor;
  }

  private layout(headerFields: string[]): FileLayout {
    const header = headerFields.map((name) => name.trim());
    const indexOf = (column: string) => {
      const first = header.indexOf(column);
      if (first !== -1 && header.indexOf(column, first + 1) !== -1) {
        throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `${this.config.path}: the header names column '${column}' twice`);
      }
      return first;
    };
    const missing = [this.config.anchorColumn, this.config.dnColumn, ...this.columns.map((c) => c.column)].filter(
      (column): column is string => column !== undefined && indexOf(column) === -1,
    );
    if (missing.length > 0) {
      throw new ConnectorError(
        'CONNECTOR_CONFIG_INVALID',
        `${this.config.path}: the header has no column ${[...new Set(missing)].map((c) => `'${c}'`).join(', ')}${encodingHint(header, this.config.encoding)}; it has ${header.map((c) => `'${c}'`).join(', ')}`,
      );
    }
    return {
      header,
      anchorIndex: indexOf(this.config.anchorColumn),
      dnIndex: this.config.dnColumn === undefined ? undefined : indexOf(this.config.dnColumn),
      columns: this.columns.map((column) => ({ column, index: indexOf(column.column) })),
    };
  }

  /** The row as an import change; with `structureOnly`, only whether it can be kept as a row at all (its values stay text). */
  private toChange(fields: string[], line: number, endLine: number, layout: FileLayout, seen: Map<string, number>, structureOnly = false): ImportChange | ImportObjectError {
    const position = line === endLine ? `line ${line}` : `lines ${line}-${endLine}`;
    const fail = (code: ImportObjectError['code'], message: string, anchor?: string): ImportObjectError => ({
      objectType: this.config.objectType,
      ...(anchor ? { anchor } : {}),
      position,
      code,
      message: `${position}: ${message}`,
    });
    const anchorCell = fields[layout.anchorIndex];
    // The anchor goes with an error whenever it can be read, so the engine
    // does not take a row it could not read for an object that was deleted.
    const anchor = anchorCell !== undefined && anchorCell !== '' && !hasUndecodableBytes(anchorCell) ? anchorCell : undefined;
    if (fields.length !== layout.header.length) {
      return fail('OBJECT_MALFORMED', `${fields.length} fields where the header has ${layout.header.length}`, anchor);
    }
    const undecodable = layout.header.find((_, index) => hasUndecodableBytes(fields[index]));
    if (undecodable !== undefined) {
      return fail('OBJECT_MALFORMED', `column '${undecodable}' holds bytes that are not valid ${this.config.encoding}`, anchor);
    }
    if (anchor === undefined) return fail('OBJECT_MALFORMED', `the anchor column '${this.config.anchorColumn}' is empty`);
    const firstLine = seen.get(anchor);
    if (firstLine !== undefined) {
      return fail('OBJECT_DUPLICATE_ANCHOR', `anchor '${anchor}' is already on line ${firstLine}; this row is skipped`, anchor);
    }
    seen.set(anchor, line);

    const attributes: Attributes = {};
    for (const { column, index } of structureOnly ? [] : layout.columns) {
      const values = cellToValues(fields[index], column);
      if (!Array.isArray(values)) return fail('OBJECT_MALFORMED', values.problem, anchor);
      attributes[column.attribute] = values;
    }
    const dn = layout.dnIndex === undefined ? '' : fields[layout.dnIndex];
    return { kind: 'upsert', objectType: this.config.objectType, anchor, ...(dn !== '' ? { dn } : {}), attributes };
  }

  private problemError(problem: CsvRecordProblem, layout: FileLayout): ImportObjectError {
    const position = positionOf(problem);
    const anchor = guessAnchor(problem.text, layout.anchorIndex, this.config.delimiter, this.config.quote);
    return { objectType: this.config.objectType, ...(anchor ? { anchor } : {}), position, code: 'OBJECT_MALFORMED', message: `${position}: ${problem.message}` };
  }

  private async loadTable(): Promise<CsvTable> {
    const { path } = this.config;
    const rows = new Map<string, string[]>();
    const handle = await openForReading(path);
    let layout = this.config.header ? undefined : this.layout(this.config.columnNames ?? []);
    if (handle) {
      const problems: string[] = [];
      const seen = new Map<string, number>();
      try {
        for await (const item of readCsvRecords(handle.createReadStream({ autoClose: false }), this.dialect)) {
          if (item.kind === 'problem') {
            problems.push(`${positionOf(item)}: ${item.message}`);
          } else if (!layout) {
            layout = this.layout(item.fields);
          } else {
            const read = this.toChange(item.fields, item.line, item.endLine, layout, seen, true);
            if ('kind' in read) rows.set(read.anchor, item.fields);
            else problems.push(read.message);
          }
        }
      } catch (error) {
        throw errorCode(error) ? fileError(error, path, 'read') : error;
      } finally {
        await handle.close();
      }
      if (problems.length > 0) {
        throw new ConnectorError(
          'SYSTEM_ERROR',
          `${path} holds ${problems.length} row(s) that cannot be read (${problems.slice(0, 3).join('; ')}); an export rewrites the whole file and would drop them, so nothing was written`,
        );
      }
    }
    const header = layout ? [...layout.header] : this.defaultHeader();
    return new CsvTable(header, rows, {
      objectType: this.config.objectType,
      anchorColumn: this.config.anchorColumn,
      dnColumn: this.config.dnColumn,
      columns: this.columns,
      canEncode: (text) => iconv.decode(iconv.encode(text, this.encoding), this.encoding) === text,
    });
  }

  private defaultHeader(): string[] {
    if (this.config.columnNames) return [...this.config.columnNames];
    return [...new Set([this.config.anchorColumn, ...this.columns.map((column) => column.column), ...(this.config.dnColumn ? [this.config.dnColumn] : [])])];
  }

  private *serialise(table: CsvTable): Generator<Uint8Array> {
    const { export: settings, encoding } = this.config;
    const options = {
      delimiter: this.config.delimiter,
      quote: this.config.quote,
      escape: this.config.quote,
      record_delimiter: settings.lineEnding,
      quoted: settings.quoteAll,
      // Line breaks must be quoted whatever the line ending, and edge
      // whitespace too when imports trim it away.
      quoted_match: this.config.trim ? [/[\r\n]/, /^\s|\s$/] : [/[\r\n]/],
      eof: true,
    };
    let first = true;
    const encode = (text: string) => {
      const bytes = iconv.encode(text, this.encoding, { addBOM: first && (encoding === 'utf-8-bom' || encoding === 'utf-16le') });
      first = false;
      return bytes;
    };
    if (this.config.header) yield encode(stringify([table.header], options));
    let chunk: string[][] = [];
    for (const row of table.rows.values()) {
      chunk.push(row);
      if (chunk.length === WRITE_ROWS_PER_CHUNK) {
        yield encode(stringify(chunk, options));
        chunk = [];
      }
    }
    if (chunk.length > 0 || first) yield encode(chunk.length > 0 ? stringify(chunk, options) : '');
  }
}

async function* hashed(source: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

function positionOf(item: { line: number; endLine: number }): string {
  return item.line === item.endLine ? `line ${item.line}` : `lines ${item.line}-${item.endLine}`;
}

/** The anchor of a row that could not be parsed, when the fields before it hold no quote to throw the count off. */
function guessAnchor(text: string, anchorIndex: number, delimiter: string, quote: string): string | undefined {
  const parts = text.replace(/\r$/, '').split(delimiter);
  if (anchorIndex >= parts.length) return undefined;
  if (parts.slice(0, anchorIndex + 1).some((part) => part.includes(quote))) return undefined;
  const anchor = parts[anchorIndex].trim();
  return anchor !== '' && !hasUndecodableBytes(anchor) ? anchor : undefined;
}

function encodingHint(header: string[], encoding: string): string {
  const text = header.join('');
  if (text.startsWith('ï»¿')) return ' (the file starts with a UTF-8 byte order mark: is its encoding utf-8?)';
  if (text.includes('\u0000')) return ' (the header holds NUL characters: is the file utf-16le?)';
  if (hasUndecodableBytes(text)) return ` (the header holds bytes that are not valid ${encoding})`;
  return '';
}

/** The `csv` connector type: delimited files such as HR feeds. */
export const csvConnectorFactory: ConnectorFactory<CsvConnectorConfig> = {
  type: 'csv',
  validate: parseCsvConnectorConfig,
  create: (config, context) => new CsvConnector(config, context),
};
