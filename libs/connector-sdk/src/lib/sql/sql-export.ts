/**
 * Applying a batch of exports to one table: read the rows the batch names
 * (locked), decide per change what it needs, then write the batch with a few
 * set-based statements. When one of them fails, the batch is replayed row by
 * row inside the same transaction, each row under its own savepoint, so
 * only the row the server refuses fails.
 *
 * Whether a change is already applied is decided from the rows, not from a
 * record of change ids: a retried add finds its row with the desired values,
 * a retried delete finds no row (or one marked deleted). That holds across
 * connector instances and survives a crash between the commit and the
 * engine recording the result.
 */
import type { AttributeChange, AttributeValues, ConnectorErrorCode, ExportChange, ExportResult } from '../connector';
import { ConnectorError } from '../connector';
import type { SqlAttributeConfig } from './sql-config';
import type { SqlDialect, SqlParam, SqlStatement } from './sql-dialect';
import type { SqlSession } from './sql-driver';
import { classifySqlError, driverMessage, failureCode, isConnectionFailure, objectFailureMessage, redact } from './sql-errors';
import { ReadRow, readRow } from './sql-rows';
import type { SqlTableStatements } from './sql-table';
import { anchorParam, readAnchor, sameValues, SqlValueError, valuesToParam } from './sql-values';

type Write =
  | { kind: 'insert'; row: SqlParam[] }
  | { kind: 'update'; anchor: SqlParam; values: Map<string, SqlParam> }
  | { kind: 'delete'; anchor: SqlParam; soft: boolean };

type Plan = { outcome: 'already-applied' } | { outcome: 'failed'; code: ConnectorErrorCode; message: string; retryable: boolean } | { outcome: 'write'; write: Write };

class ChangeRefused extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/**
 * Rolling back to a savepoint failed: the server aborted the whole
 * transaction after a failed statement (SQL Server with XACT_ABORT ON), so
 * no row of the batch can be told apart from the others. Nothing was
 * committed; the same batch would fail the same way, so it is not retryable.
 */
class TransactionAborted extends ConnectorError {
  constructor(statementError: unknown, secrets: readonly string[]) {
    super('SYSTEM_ERROR', redact(`the server aborted the transaction after a failed statement, so the batch could not be applied row by row: ${driverMessage(statementError)}`, secrets));
  }
}

const BATCH_SAVEPOINT = 'im_batch';
const ROW_SAVEPOINT = 'im_row';

export class SqlTableExport {
  private readonly byAttribute: Map<string, SqlAttributeConfig>;

  constructor(
    private readonly table: SqlTableStatements,
    private readonly dialect: SqlDialect,
    private readonly secrets: readonly string[],
  ) {
    this.byAttribute = new Map(table.type.attributes.map((attribute) => [attribute.attribute, attribute]));
  }

  /** Applies changes that each name a different anchor, in one transaction of `session`. */
  async apply(session: SqlSession, changes: ExportChange[]): Promise<ExportResult[]> {
    const plans: Plan[] = new Array(changes.length);
    const anchors = new Map<number, { anchor: string; param: SqlParam }>();
    changes.forEach((change, index) => {
      try {
        anchors.set(index, this.anchorOf(change));
      } catch (error) {
        plans[index] = refusal(error);
      }
    });

    const current = await this.readCurrent(session, [...anchors.values()].map((a) => a.param));
    for (const [index, { anchor, param }] of anchors) {
      try {
        plans[index] = this.plan(changes[index], param, current.get(anchor));
      } catch (error) {
        plans[index] = refusal(error);
      }
    }

    const failures = await this.write(session, plans);
    return changes.map((change, index) => {
      const plan = plans[index];
      const failure = failures.get(index);
      if (failure) return { id: change.id, outcome: 'failed', error: failure };
      if (plan.outcome === 'failed') return { id: change.id, outcome: 'failed', error: { code: plan.code, message: plan.message, retryable: plan.retryable } };
      return { id: change.id, outcome: plan.outcome === 'write' ? 'applied' : 'already-applied' };
    });
  }

  private anchorOf(change: ExportChange): { anchor: string; param: SqlParam } {
    const type = this.table.type;
    if (change.anchor === undefined || change.anchor === '') {
      throw new ChangeRefused('OBJECT_MALFORMED', `an export to ${type.relation.join('.')} needs the anchor (${type.anchor.column}); this table does not assign one`);
    }
    // Integer anchors are compared in their canonical form ('007' is row 7).
    const anchor = readAnchor(change.anchor, type.anchor.type, type.anchor.column) as string;
    return { anchor, param: anchorParam(anchor, type.anchor.type) };
  }

  private async readCurrent(session: SqlSession, anchors: SqlParam[]): Promise<Map<string, ReadRow>> {
    const rows = new Map<string, ReadRow>();
    for (const statement of this.table.readByAnchors(anchors, { lock: true })) {
      for (const row of await session.query(statement)) {
        const read = readRow(this.table, row);
        if (read.anchor !== undefined) rows.set(read.anchor, read);
      }
    }
    return rows;
  }

  private plan(change: ExportChange, anchor: SqlParam, current: ReadRow | undefined): Plan {
    const type = this.table.type;
    const live = current !== undefined && !current.deleted;
    switch (change.kind) {
      case 'delete':
        if (!live) return { outcome: 'already-applied' };
        return { outcome: 'write', write: { kind: 'delete', anchor, soft: type.softDelete?.onExport === 'soft' } };
      case 'add':
        return this.planAdd(change, anchor, live ? current : undefined, current !== undefined);
      case 'update':
      case 'rename':
        if (!live) throw new ChangeRefused('OBJECT_NOT_FOUND', `${type.relation.join('.')} has no row with ${type.anchor.column}=${change.anchor}`);
        return this.planUpdate(change, anchor, current);
    }
  }

  private planAdd(change: ExportChange, anchor: SqlParam, live: ReadRow | undefined, exists: boolean): Plan {
    const type = this.table.type;
    const attributeChanges = this.checkedChanges(change);
    const desired = new Map<SqlAttributeConfig, AttributeValues>();
    for (const attribute of this.table.writableAttributes) {
      const op = attributeChanges.get(attribute);
      desired.set(attribute, op === undefined || op.op === 'remove' ? [] : op.values);
    }
    this.checkRequired(desired);
    const dn = type.dnColumn ? (change.dn ?? null) : undefined;

    if (!exists) {
      const row: SqlParam[] = [anchor];
      if (type.dnColumn) row.push(dn ?? null);
      for (const [attribute, values] of desired) row.push(this.param(values, attribute));
      if (type.softDelete) row.push(liveMark(type.softDelete.type));
      return { outcome: 'write', write: { kind: 'insert', row } };
    }

    const values = new Map<string, SqlParam>();
    if (!live) {
      // A row marked deleted holds stale values: the add writes all of them and brings it back.
      if (type.dnColumn) values.set(type.dnColumn, dn ?? null);
      for (const [attribute, wanted] of desired) values.set(attribute.column, this.param(wanted, attribute));
      if (type.softDelete) values.set(type.softDelete.column, liveMark(type.softDelete.type));
      return { outcome: 'write', write: { kind: 'update', anchor, values } };
    }
    if (type.dnColumn && (dn ?? undefined) !== live.dn) values.set(type.dnColumn, dn ?? null);
    for (const [attribute, wanted] of desired) {
      if (!this.holds(live, attribute, wanted)) values.set(attribute.column, this.param(wanted, attribute));
    }
    return values.size === 0 ? { outcome: 'already-applied' } : { outcome: 'write', write: { kind: 'update', anchor, values } };
  }

  private planUpdate(change: ExportChange, anchor: SqlParam, current: ReadRow): Plan {
    const type = this.table.type;
    const values = new Map<string, SqlParam>();
    if (change.kind === 'rename') {
      if (!type.dnColumn) throw new ChangeRefused('OBJECT_REJECTED', `object type ${type.name} maps no dnColumn, so it cannot be renamed; its anchor never changes`);
      if (change.newDn === undefined || change.newDn === '') throw new ChangeRefused('OBJECT_MALFORMED', 'a rename needs newDn');
      if (change.newDn !== current.dn) values.set(type.dnColumn, change.newDn);
    }
    const merged = new Map<SqlAttributeConfig, AttributeValues>();
    for (const [attribute, op] of this.checkedChanges(change)) {
      if (current.unreadable.has(attribute.attribute) && op.op !== 'replace') {
        throw new ChangeRefused('OBJECT_MALFORMED', `column ${attribute.column} holds a value that does not convert, so '${op.op}' cannot apply to it; replace it instead`);
      }
      const wanted = applyChange(current.attributes[attribute.attribute] ?? [], op, attribute);
      merged.set(attribute, wanted);
      if (!this.holds(current, attribute, wanted)) values.set(attribute.column, this.param(wanted, attribute));
    }
    this.checkRequired(merged);
    return values.size === 0 ? { outcome: 'already-applied' } : { outcome: 'write', write: { kind: 'update', anchor, values } };
  }

  /** The change's attribute changes by mapped attribute; refuses names it cannot write. */
  private checkedChanges(change: ExportChange): Map<SqlAttributeConfig, AttributeChange> {
    const type = this.table.type;
    const checked = new Map<SqlAttributeConfig, AttributeChange>();
    for (const [name, op] of Object.entries(change.attributes ?? {})) {
      if (name === type.anchor.attribute) {
        const same = op.op !== 'remove' && op.values.length === 1 && String(op.values[0]) === change.anchor;
        if (!same) throw new ChangeRefused(change.kind === 'add' ? 'OBJECT_MALFORMED' : 'OBJECT_REJECTED', `attribute ${name} is the anchor: it must equal the change's anchor and never changes`);
        continue;
      }
      const attribute = this.byAttribute.get(name);
      if (!attribute) throw new ChangeRefused('OBJECT_REJECTED', `no column of ${type.relation.join('.')} is mapped to attribute ${name}`);
      if (attribute.readOnly) throw new ChangeRefused('OBJECT_REJECTED', `attribute ${name} is read-only (column ${attribute.column})`);
      checked.set(attribute, op);
    }
    return checked;
  }

  private checkRequired(values: Map<SqlAttributeConfig, AttributeValues>): void {
    for (const [attribute, wanted] of values) {
      if (attribute.required && wanted.length === 0) throw new ChangeRefused('OBJECT_MALFORMED', `attribute ${attribute.attribute} is required`);
    }
  }

  private holds(row: ReadRow, attribute: SqlAttributeConfig, wanted: AttributeValues): boolean {
    return !row.unreadable.has(attribute.attribute) && sameValues(wanted, row.attributes[attribute.attribute] ?? [], attribute);
  }

  private param(values: AttributeValues, attribute: SqlAttributeConfig): SqlParam {
    return valuesToParam(values, attribute);
  }

  /** Writes every planned change; returns the changes the server refused. */
  private async write(session: SqlSession, plans: Plan[]): Promise<Map<number, NonNullable<ExportResult['error']>>> {
    const writes: Array<{ index: number; write: Write }> = [];
    plans.forEach((plan, index) => {
      if (plan.outcome === 'write') writes.push({ index, write: plan.write });
    });
    const failures = new Map<number, NonNullable<ExportResult['error']>>();
    if (writes.length === 0) return failures;
    const run = async (statements: SqlStatement[]) => {
      for (const statement of statements) await session.query(statement);
    };
    try {
      await this.underSavepoint(session, BATCH_SAVEPOINT, () => run(this.statements(writes.map((w) => w.write))));
      return failures;
    } catch (error) {
      if (error instanceof TransactionAborted || isConnectionFailure(classifySqlError(error))) throw error;
    }
    for (const { index, write } of writes) {
      try {
        await this.underSavepoint(session, ROW_SAVEPOINT, () => run(this.statements([write])));
      } catch (error) {
        const failure = classifySqlError(error);
        if (error instanceof TransactionAborted || isConnectionFailure(failure)) throw error;
        const { code, retryable } = failureCode(failure);
        failures.set(index, { code, retryable, message: redact(objectFailureMessage(error), this.secrets) });
      }
    }
    return failures;
  }

  /** Runs `work`; on an error the transaction is back where it was before, and still usable. */
  private async underSavepoint(session: SqlSession, name: string, work: () => Promise<void>): Promise<void> {
    const release = this.dialect.releaseSavepoint(name);
    await session.query({ sql: this.dialect.savepoint(name), params: [] });
    try {
      await work();
    } catch (error) {
      try {
        await session.query({ sql: this.dialect.rollbackToSavepoint(name), params: [] });
        if (release) await session.query({ sql: release, params: [] });
      } catch (rollbackError) {
        // A connection failure stays one (and retryable); anything else means the transaction is gone.
        throw isConnectionFailure(classifySqlError(rollbackError)) ? rollbackError : new TransactionAborted(error, this.secrets);
      }
      throw error;
    }
    if (release) await session.query({ sql: release, params: [] });
  }

  /** Set-based statements for writes: inserts first, then updates, then deletes (a manager is deleted after the rows pointing at it changed). */
  private statements(writes: Write[]): SqlStatement[] {
    const inserts: SqlParam[][] = [];
    const updates: Array<{ anchor: SqlParam; values: Map<string, SqlParam> }> = [];
    const hardDeletes: SqlParam[] = [];
    const softDeletes: SqlParam[] = [];
    for (const write of writes) {
      if (write.kind === 'insert') inserts.push(write.row);
      else if (write.kind === 'update') updates.push(write);
      else (write.soft ? softDeletes : hardDeletes).push(write.anchor);
    }
    return [
      ...(inserts.length ? this.table.upsert(inserts) : []),
      ...(updates.length ? this.table.update(updates) : []),
      ...(hardDeletes.length ? this.table.deleteByAnchors(hardDeletes) : []),
      ...(softDeletes.length ? this.table.softDeleteByAnchors(softDeletes) : []),
    ];
  }
}

function liveMark(type: 'timestamp' | 'boolean'): SqlParam {
  return type === 'timestamp' ? null : false;
}

function applyChange(current: AttributeValues, change: AttributeChange, attribute: SqlAttributeConfig): AttributeValues {
  const single = { ...attribute, multiValued: false };
  const contains = (values: AttributeValues, value: AttributeValues[number]) => values.some((held) => sameValues([held], [value], single));
  switch (change.op) {
    case 'replace':
      return change.values;
    case 'add':
      return [...current, ...change.values.filter((value, index) => !contains(current, value) && !contains(change.values.slice(0, index), value))];
    case 'remove':
      return current.filter((value) => !contains(change.values, value));
  }
}

function refusal(error: unknown): Plan {
  if (error instanceof ChangeRefused) return { outcome: 'failed', code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof SqlValueError) return { outcome: 'failed', code: 'OBJECT_MALFORMED', message: error.message, retryable: false };
  throw error;
}
