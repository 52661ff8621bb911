import type {
  Connector,
  ConnectorCapabilities,
  ConnectorContext,
  ConnectorFactory,
  ConnectorSchema,
  ConnectionTestResult,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportChange,
  ImportObjectError,
  ImportRequest,
  ObjectTypeSchema,
} from '../connector';
import { ConnectorError } from '../connector';
import { parseSqlConnectorConfig, SqlConnectorConfig, SqlObjectTypeConfig } from './sql-config';
import { SqlDialect, sqlDialect, SqlStatement } from './sql-dialect';
import { openSqlDriver, SqlDriver, SqlRow, SqlSession } from './sql-driver';
import { toConnectorError } from './sql-errors';
import { SqlTableExport } from './sql-export';
import { ReadRow, readRow, reportOf, rowPosition } from './sql-rows';
import { ALIAS, SqlPageStart, SqlTableStatements } from './sql-table';
import { watermarkTextOf } from './sql-values';
import { decodeWatermark, DeltaTracker, encodeWatermark, reportHash, SqlDeltaPosition, SqlSnapshotState } from './sql-watermark';

const DEFAULT_BATCH_SIZE = 500;
/** Rows without an anchor reported one by one; beyond this, one error gives the count. */
const NULL_ANCHOR_REPORT_LIMIT = 100;

/** One page of rows turned into a batch, and where the next page starts. */
interface Page {
  changes: ImportChange[];
  errors: ImportObjectError[];
  next?: SqlPageStart;
}

/**
 * A table or view on PostgreSQL, MariaDB/MySQL, SQLite or SQL Server as a
 * connected system: rows are objects, the anchor column identifies them,
 * deltas follow a watermark column, exports upsert and delete rows.
 */
export class SqlConnector implements Connector {
  readonly type = 'sql';
  private readonly dialect: SqlDialect;
  private readonly tables = new Map<string, SqlTableStatements>();
  private driver: Promise<SqlDriver> | undefined;
  /** Values that must never appear in an error or a log line (the resolved password). */
  private readonly secrets: string[] = [];

  constructor(
    private readonly config: SqlConnectorConfig,
    private readonly context: ConnectorContext,
  ) {
    this.dialect = sqlDialect(config.dialect);
    for (const type of config.objectTypes) this.tables.set(type.name, new SqlTableStatements(this.dialect, type));
  }

  /**
   * Native deltas need, on every object type, a watermark column (to find
   * changed rows) and a soft-delete column (to find deleted ones). Without
   * them a delta is a snapshot: the whole content when the table's highest
   * watermark or row count moved, nothing otherwise.
   */
  private get native(): boolean {
    return this.config.objectTypes.every((type) => type.watermark !== undefined && type.softDelete !== undefined);
  }

  capabilities(): ConnectorCapabilities {
    const tables = this.config.objectTypes.filter((type) => type.kind === 'table');
    return {
      deltaImport: this.native ? 'native' : 'snapshot',
      export: tables.length > 0,
      rename: tables.some((type) => type.dnColumn !== undefined),
      assignsAnchorOnAdd: false,
    };
  }

  async schema(): Promise<ConnectorSchema> {
    return { objectTypes: this.config.objectTypes.map(objectTypeSchema) };
  }

  async testConnection(): Promise<ConnectionTestResult> {
    try {
      const [version] = await this.query({ sql: this.dialect.versionQuery, params: [] }, 'reading the server version');
      const found: string[] = [];
      for (const table of this.tables.values()) {
        const name = table.type.relation.join('.');
        await this.query(table.probe(), `reading the mapped columns of ${name}`);
        const [count] = await this.query(table.count(), `counting the rows of ${name}`);
        found.push(`${table.type.name}: ${table.type.kind} ${name} has ${Number(count?.[ALIAS.count] ?? 0).toLocaleString('en-US')} rows`);
      }
      const server = String(version?.['version'] ?? '').split('\n')[0].trim();
      const who = this.config.connection.user ? ` as ${this.config.connection.user}` : '';
      return { ok: true, detail: `connected to ${this.config.dialect} ${server}${who}; ${found.join('; ')}` };
    } catch (error) {
      const failure = toConnectorError(error, 'testing the connection', this.secrets);
      return { ok: false, detail: `${failure.code}: ${failure.message}` };
    }
  }

  async *import(request: ImportRequest): AsyncGenerator<ImportBatch> {
    const types = this.requestedTypes(request.objectTypes);
    const batchSize = Math.max(1, Math.floor(request.batchSize ?? DEFAULT_BATCH_SIZE));
    if (this.native) yield* this.nativeImport(request, types, batchSize);
    else yield* this.snapshotImport(request, types, batchSize);
  }

  async export(changes: ExportChange[]): Promise<ExportResult[]> {
    const results: Array<ExportResult | undefined> = new Array(changes.length);
    const byType = new Map<SqlTableStatements, number[]>();
    changes.forEach((change, index) => {
      const table = this.tables.get(change.objectType);
      if (!table) {
        results[index] = refused(change, `object type ${change.objectType} is not configured for this connector`);
      } else if (table.type.kind === 'view') {
        results[index] = refused(change, `object type ${change.objectType} is read from a view; exports need a table`);
      } else {
        byType.set(table, [...(byType.get(table) ?? []), index]);
      }
    });
    for (const [table, indexes] of byType) {
      // A set-based statement may touch each row once: a second change to the same anchor goes into the next round, in order.
      const rounds: number[][] = [];
      const seen = new Map<string, number>();
      for (const index of indexes) {
        const key = changes[index].anchor ?? `#${index}`;
        const round = seen.get(key) ?? 0;
        seen.set(key, round + 1);
        (rounds[round] ??= []).push(index);
      }
      const tableExport = new SqlTableExport(table, this.dialect, this.secrets);
      for (const round of rounds) {
        const applied = await this.transaction((session) => tableExport.apply(session, round.map((index) => changes[index])), `exporting to ${table.type.relation.join('.')}`);
        round.forEach((index, position) => {
          results[index] = applied[position];
        });
      }
    }
    return results as ExportResult[];
  }

  async close(): Promise<void> {
    const driver = this.driver;
    this.driver = undefined;
    if (driver) await (await driver.catch(() => undefined))?.close();
  }

  // ------------------------------------------------------------------ import

  private async *nativeImport(request: ImportRequest, types: SqlTableStatements[], batchSize: number): AsyncGenerator<ImportBatch> {
    const start = request.mode === 'delta' && request.watermark !== undefined ? decodeWatermark(request.watermark, 'native') : undefined;
    // Positions of types this request does not read are kept, so the watermark still covers them.
    const positions: Record<string, SqlDeltaPosition> = start?.mode === 'native' ? { ...start.types } : {};
    const watermark = () => encodeWatermark({ mode: 'native', types: positions });
    let fullRead = false;
    for (const table of types) {
      const column = (table.type.watermark as { column: string }).column;
      const from = start?.mode === 'native' ? start.types[table.type.name] : undefined;
      if (request.mode === 'delta' && from && from.column === column) {
        const tracker = new DeltaTracker(column, from);
        let next: SqlPageStart | undefined = from.after !== undefined ? { by: 'watermark-after', at: from.at, anchor: from.after, inclusive: false } : { by: 'watermark', at: from.at };
        while (next && !request.signal?.aborted) {
          const page: Page = await this.deltaPage(table, batchSize, next, tracker);
          next = page.next;
          const position = tracker.position();
          if (position) positions[table.type.name] = position;
          // Every delta batch is a resume point: everything before its last row, in (watermark, anchor) order, was read.
          if (page.changes.length > 0 || page.errors.length > 0) yield { changes: page.changes, errors: page.errors, watermark: watermark() };
        }
      } else {
        fullRead = true;
        // The highest watermark before reading: rows written while the full read runs get a later one and come with the next delta.
        const [state] = await this.query(table.watermarkState(), `reading the watermark of ${table.type.relation.join('.')}`);
        const max = watermarkTextOf(state?.[ALIAS.max]);
        const tracker = new DeltaTracker(column);
        yield* this.fullRead(table, batchSize, request.signal, (read, report) => {
          if (max !== undefined && read.watermark === max) tracker.record(max, read.anchor ?? read.key, reportHash(report));
        });
        if (request.signal?.aborted) return;
        if (max === undefined) delete positions[table.type.name];
        else positions[table.type.name] = tracker.position() ?? { column, at: max, seen: {} };
      }
      if (request.signal?.aborted) return;
    }
    // A full read is a resume point only once it is complete: a delta from an earlier batch would skip rows it had not reached.
    if (fullRead) yield { changes: [], errors: [], watermark: watermark() };
  }

  private async *snapshotImport(request: ImportRequest, types: SqlTableStatements[], batchSize: number): AsyncGenerator<ImportBatch> {
    const start = request.mode === 'delta' && request.watermark !== undefined ? decodeWatermark(request.watermark, 'snapshot') : undefined;
    const previous: Record<string, SqlSnapshotState> = start?.mode === 'snapshot' ? start.types : {};
    const states: Record<string, SqlSnapshotState> = { ...previous };
    let changed = start === undefined;
    for (const table of types) {
      const watermark = table.type.watermark;
      if (!watermark) {
        // Without a watermark column nothing tells that the table is unchanged.
        changed = true;
        delete states[table.type.name];
        continue;
      }
      const [row] = await this.query(table.watermarkState(), `reading the watermark of ${table.type.relation.join('.')}`);
      const state: SqlSnapshotState = { column: watermark.column, count: Number(row?.[ALIAS.count] ?? 0) };
      const max = watermarkTextOf(row?.[ALIAS.max]);
      if (max !== undefined) state.max = max;
      const before = previous[table.type.name];
      if (!before || before.column !== state.column || before.max !== state.max || before.count !== state.count) changed = true;
      states[table.type.name] = state;
    }
    if (!changed) return;
    for (const table of types) {
      yield* this.fullRead(table, batchSize, request.signal);
      if (request.signal?.aborted) return;
    }
    yield { changes: [], errors: [], watermark: encodeWatermark({ mode: 'snapshot', types: states }) };
  }

  /** Every live row of one type by anchor; rows marked deleted are left out (the engine finds them gone). */
  private async *fullRead(
    table: SqlTableStatements,
    batchSize: number,
    signal: AbortSignal | undefined,
    onRow?: (read: ReadRow, report: ReturnType<typeof reportOf>) => void,
  ): AsyncGenerator<ImportBatch> {
    let errors = await this.nullAnchorErrors(table);
    let next: SqlPageStart | undefined = undefined;
    let first = true;
    while ((first || next) && !signal?.aborted) {
      first = false;
      const rows = await this.query(table.page(batchSize + 1, next), `reading ${table.type.relation.join('.')}`);
      const { kept, next: following } = holdBack(rows, batchSize, anchorKeyOf, (inclusive, row) => ({ by: 'anchor', anchor: anchorKeyOf(row), inclusive }));
      next = following;
      const page = this.convert(table, kept, (read, report) => {
        onRow?.(read, report);
        return 'change' in report && report.change.kind === 'delete' ? 'skip' : 'report';
      });
      if (page.changes.length > 0 || page.errors.length > 0 || errors.length > 0) yield { changes: page.changes, errors: [...errors, ...page.errors] };
      errors = [];
    }
  }

  private async deltaPage(table: SqlTableStatements, batchSize: number, start: SqlPageStart, tracker: DeltaTracker): Promise<Page> {
    const rows = await this.query(table.page(batchSize + 1, start), `reading changes of ${table.type.relation.join('.')}`);
    const watermarkOf = (row: SqlRow) => watermarkTextOf(row[ALIAS.watermark]) ?? '';
    const { kept, next } = holdBack(
      rows,
      batchSize,
      (row) => `${watermarkOf(row)}\u0000${anchorKeyOf(row)}`,
      (inclusive, row) => ({ by: 'watermark-after', at: watermarkOf(row), anchor: anchorKeyOf(row), inclusive }),
    );
    const page = this.convert(table, kept, (read, report) => {
      const at = read.watermark ?? '';
      const anchor = read.anchor ?? read.key;
      const hash = reportHash(report);
      const before = tracker.reportedBefore(at, anchor, hash);
      tracker.record(at, anchor, hash);
      return before ? 'skip' : 'report';
    });
    return { ...page, next };
  }

  /** Rows as changes and errors; rows sharing an anchor in one page are reported as duplicates (a view can hold them). */
  private convert(table: SqlTableStatements, rows: SqlRow[], decide: (read: ReadRow, report: ReturnType<typeof reportOf>) => 'report' | 'skip'): Page {
    const reads = rows.map((row) => readRow(table, row));
    const counts = new Map<string, number>();
    for (const read of reads) counts.set(read.key, (counts.get(read.key) ?? 0) + 1);
    const changes: ImportChange[] = [];
    const errors: ImportObjectError[] = [];
    const duplicatesReported = new Set<string>();
    for (const read of reads) {
      const copies = counts.get(read.key) ?? 1;
      let report = reportOf(table, read);
      if (copies > 1) {
        if (duplicatesReported.has(read.key)) continue;
        duplicatesReported.add(read.key);
        report = {
          error: {
            objectType: table.type.name,
            ...(read.anchor !== undefined ? { anchor: read.anchor } : {}),
            position: rowPosition(table, read),
            code: 'OBJECT_DUPLICATE_ANCHOR',
            message: `${copies} rows have ${table.type.anchor.column}=${read.key}; an anchor must identify one row`,
          },
        };
      }
      if (decide(read, report) === 'skip') continue;
      if ('change' in report) changes.push(report.change);
      else errors.push(report.error);
    }
    return { changes, errors };
  }

  private async nullAnchorErrors(table: SqlTableStatements): Promise<ImportObjectError[]> {
    const name = table.type.relation.join('.');
    const [count] = await this.query(table.nullAnchorCount(), `counting rows of ${name} without an anchor`);
    const total = Number(count?.[ALIAS.count] ?? 0);
    if (total === 0) return [];
    const rows = await this.query(table.nullAnchors(NULL_ANCHOR_REPORT_LIMIT), `reading rows of ${name} without an anchor`);
    const errors: ImportObjectError[] = rows.map((row) => {
      const dn = row[ALIAS.dn];
      return {
        objectType: table.type.name,
        position: dn === null || dn === undefined ? `${name} row with ${table.type.anchor.column} NULL` : `${name} row ${String(dn)}`,
        code: 'OBJECT_MALFORMED',
        message: `column ${table.type.anchor.column} is NULL; a row needs an anchor`,
      };
    });
    if (total > rows.length) {
      errors.push({ objectType: table.type.name, position: name, code: 'OBJECT_MALFORMED', message: `${total - rows.length} more rows have ${table.type.anchor.column} NULL` });
    }
    return errors;
  }

  private requestedTypes(names: string[]): SqlTableStatements[] {
    if (names.length === 0) return [...this.tables.values()];
    return names.map((name) => {
      const table = this.tables.get(name);
      if (!table) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `object type ${name} is not configured for this connector`);
      return table;
    });
  }

  // ------------------------------------------------------------------ connection

  private connect(): Promise<SqlDriver> {
    this.driver ??= this.openDriver().catch((error: unknown) => {
      this.driver = undefined;
      throw error;
    });
    return this.driver;
  }

  private async openDriver(): Promise<SqlDriver> {
    const { connection } = this.config;
    let password: string | undefined;
    if (connection.passwordSecret !== undefined) {
      try {
        password = await this.context.secrets.resolve(connection.passwordSecret);
      } catch {
        // The resolver's own message is not repeated: it is not this connector's to vouch for.
        throw new ConnectorError('CONNECTOR_AUTH_FAILED', `the secret ${connection.passwordSecret} named in connection.passwordSecret could not be resolved`);
      }
      if (password) this.secrets.push(password);
    }
    return openSqlDriver({
      dialect: this.config.dialect,
      host: connection.host,
      port: connection.port,
      database: connection.database,
      user: connection.user,
      password,
      file: connection.file,
      encrypt: connection.encrypt,
      trustServerCertificate: connection.trustServerCertificate,
      poolSize: connection.poolSize,
      connectTimeoutMs: connection.connectTimeoutMs,
      queryTimeoutMs: connection.queryTimeoutMs,
      applicationName: `identitymesh-${this.context.connectorId}`.slice(0, 63),
      onIdleError: (error) =>
        this.context.logger.warn('an idle database connection failed; the pool replaces it', { error: toConnectorError(error, 'idle connection', this.secrets).message }),
    });
  }

  private async query(statement: SqlStatement, doing: string): Promise<SqlRow[]> {
    try {
      return await (await this.connect()).query(statement);
    } catch (error) {
      throw toConnectorError(error, doing, this.secrets);
    }
  }

  private async transaction<T>(work: (session: SqlSession) => Promise<T>, doing: string): Promise<T> {
    try {
      return await (await this.connect()).transaction(work);
    } catch (error) {
      throw toConnectorError(error, doing, this.secrets);
    }
  }
}

/** The raw anchor as the server compares it. */
function anchorKeyOf(row: SqlRow): string {
  const raw = row[ALIAS.anchor];
  return typeof raw === 'string' ? raw : String(raw);
}

/**
 * Pages are read with one row more than a batch holds. When that extra row
 * continues the key of the batch's last row (a duplicate anchor in a view),
 * the rows of that key are held back and the next page starts at the key
 * again, so a key repeated across the page boundary is seen whole on one
 * page. Otherwise the next page starts after the last row kept.
 */
function holdBack(
  rows: SqlRow[],
  limit: number,
  keyOf: (row: SqlRow) => string,
  startAt: (inclusive: boolean, row: SqlRow) => SqlPageStart,
): { kept: SqlRow[]; next?: SqlPageStart } {
  if (rows.length <= limit) return { kept: rows };
  const last = rows[limit - 1];
  const lastKey = keyOf(last);
  if (keyOf(rows[limit]) !== lastKey) return { kept: rows.slice(0, limit), next: startAt(false, last) };
  let cut = limit;
  while (cut > 0 && keyOf(rows[cut - 1]) === lastKey) cut--;
  // A page that is one key only: report it and move past, or the next page would be the same one.
  if (cut === 0) return { kept: rows.slice(0, limit), next: startAt(false, last) };
  return { kept: rows.slice(0, cut), next: startAt(true, last) };
}

function refused(change: ExportChange, message: string): ExportResult {
  return { id: change.id, outcome: 'failed', error: { code: 'OBJECT_REJECTED', message, retryable: false } };
}

function objectTypeSchema(type: SqlObjectTypeConfig): ObjectTypeSchema {
  const view = type.kind === 'view';
  return {
    name: type.name,
    anchorAttribute: type.anchor.attribute,
    attributes: [
      { name: type.anchor.attribute, type: type.anchor.type, required: true, ...(view ? { readOnly: true } : {}) },
      ...type.attributes.map((attribute) => ({
        name: attribute.attribute,
        type: attribute.type,
        ...(attribute.multiValued ? { multiValued: true } : {}),
        ...(attribute.required ? { required: true } : {}),
        ...(attribute.readOnly || view ? { readOnly: true } : {}),
        ...(attribute.type === 'reference' ? { referenceBy: 'anchor' as const } : {}),
      })),
    ],
  };
}

/** The `sql` connector type. */
export const sqlConnectorFactory: ConnectorFactory<SqlConnectorConfig> = {
  type: 'sql',
  validate: parseSqlConnectorConfig,
  create: (config, context) => new SqlConnector(config, context),
};
