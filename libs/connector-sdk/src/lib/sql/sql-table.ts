/**
 * The statements one object type needs, written once for every dialect.
 * Names come from validated config and are quoted by the dialect; every
 * value is a bound parameter.
 */
import type { SqlAttributeConfig, SqlObjectTypeConfig } from './sql-config';
import { SqlDialect, SqlParam, SqlParameters, SqlStatement } from './sql-dialect';

/** Result column aliases: fixed, so no configured name can collide with them or reach them. */
export const ALIAS = {
  anchor: 'im_anchor',
  dn: 'im_dn',
  deleted: 'im_deleted',
  watermark: 'im_watermark',
  attribute: (index: number) => `im_a${index}`,
  max: 'im_max',
  count: 'im_count',
} as const;

/** Where a keyset page starts. */
export type SqlPageStart =
  /** Rows after this anchor (or from it, to re-read a group held back from the previous page). */
  | { by: 'anchor'; anchor: string; inclusive: boolean }
  /** Rows at this watermark value or later (a delta resuming at a position that lists the rows it saw). */
  | { by: 'watermark'; at: string }
  /** Rows after (watermark, anchor), or from it to re-read a held-back group. */
  | { by: 'watermark-after'; at: string; anchor: string; inclusive: boolean };

export class SqlTableStatements {
  /** The quoted table or view name. */
  readonly relation: string;
  /** Attributes written by exports, in the order of `writeColumns` after the anchor and dn. */
  readonly writableAttributes: SqlAttributeConfig[];
  private readonly anchor: string;
  private readonly selectList: string;

  constructor(
    private readonly dialect: SqlDialect,
    readonly type: SqlObjectTypeConfig,
  ) {
    const q = (name: string) => dialect.quote(name);
    this.relation = type.relation.map(q).join('.');
    this.anchor = q(type.anchor.column);
    const select = [`${this.anchor} AS ${q(ALIAS.anchor)}`];
    if (type.dnColumn) select.push(`${q(type.dnColumn)} AS ${q(ALIAS.dn)}`);
    type.attributes.forEach((attribute, index) => select.push(`${q(attribute.column)} AS ${q(ALIAS.attribute(index))}`));
    if (type.softDelete) select.push(`${q(type.softDelete.column)} AS ${q(ALIAS.deleted)}`);
    if (type.watermark) select.push(`${dialect.watermarkText(q(type.watermark.column), type.watermark.type)} AS ${q(ALIAS.watermark)}`);
    this.selectList = select.join(', ');
    this.writableAttributes = type.attributes.filter((attribute) => !attribute.readOnly);
  }

  /** The columns an upsert writes, the anchor first; a row's values come in this order. */
  get writeColumns(): string[] {
    return [
      this.type.anchor.column,
      ...(this.type.dnColumn ? [this.type.dnColumn] : []),
      ...this.writableAttributes.map((attribute) => attribute.column),
      // New rows are written live; an add over a soft-deleted row brings it back.
      ...(this.type.softDelete ? [this.type.softDelete.column] : []),
    ];
  }

  /** Checks that the relation and every mapped column exist, reading no row. */
  probe(): SqlStatement {
    return { sql: `SELECT ${this.selectList} FROM ${this.relation} WHERE 1 = 0`, params: [] };
  }

  count(): SqlStatement {
    return { sql: `SELECT COUNT(*) AS ${this.dialect.quote(ALIAS.count)} FROM ${this.relation}`, params: [] };
  }

  /** The highest watermark value as text, and the row count: what a delta starts from, and what a snapshot delta compares. */
  watermarkState(): SqlStatement {
    const watermark = this.requireWatermark();
    const q = (name: string) => this.dialect.quote(name);
    return {
      sql: `SELECT ${this.dialect.watermarkText(`MAX(${q(watermark.column)})`, watermark.type)} AS ${q(ALIAS.max)}, COUNT(*) AS ${q(ALIAS.count)} FROM ${this.relation}`,
      params: [],
    };
  }

  /** Rows without an anchor, which keyset pages never reach; each is reported, up to `limit`. */
  nullAnchors(limit: number): SqlStatement {
    const dn = this.type.dnColumn ? this.dialect.quote(this.type.dnColumn) : undefined;
    return {
      sql: this.dialect.selectLimited({ columns: `${dn ?? 'NULL'} AS ${this.dialect.quote(ALIAS.dn)}`, from: this.relation, where: `${this.anchor} IS NULL`, orderBy: dn ?? this.anchor, limit }),
      params: [],
    };
  }

  nullAnchorCount(): SqlStatement {
    return { sql: `SELECT COUNT(*) AS ${this.dialect.quote(ALIAS.count)} FROM ${this.relation} WHERE ${this.anchor} IS NULL`, params: [] };
  }

  /** One keyset page: by anchor for full imports, by (watermark, anchor) for deltas. */
  page(limit: number, start?: SqlPageStart): SqlStatement {
    const params = new SqlParameters(this.dialect);
    const where = [`${this.anchor} IS NOT NULL`];
    if (start === undefined || start.by === 'anchor') {
      if (start) where.push(`${this.anchor} ${start.inclusive ? '>=' : '>'} ${this.anchorParameter(params, start.anchor)}`);
      return { sql: this.dialect.selectLimited({ columns: this.selectList, from: this.relation, where: where.join(' AND '), orderBy: this.anchor, limit }), params: params.values };
    }
    const watermark = this.requireWatermark();
    const column = this.dialect.quote(watermark.column);
    const at = () => this.dialect.watermarkParameter(params.add(start.at), watermark.type);
    if (start.by === 'watermark') where.push(`${column} >= ${at()}`);
    else {
      const operator = start.inclusive ? '>=' : '>';
      where.push(`(${column} > ${at()} OR (${column} = ${at()} AND ${this.anchor} ${operator} ${this.anchorParameter(params, start.anchor)}))`);
    }
    return {
      sql: this.dialect.selectLimited({ columns: this.selectList, from: this.relation, where: where.join(' AND '), orderBy: `${column}, ${this.anchor}`, limit }),
      params: params.values,
    };
  }

  /** The rows of the given anchors, locked for the rest of the transaction so a write based on them cannot lose a concurrent one. */
  readByAnchors(anchors: SqlParam[], options: { lock: boolean }): SqlStatement[] {
    const { tableHint, suffix } = options.lock ? this.dialect.lockedRead : { tableHint: '', suffix: '' };
    return this.chunks(anchors, () => 1).map((chunk) => {
      const params = new SqlParameters(this.dialect);
      const list = chunk.map((anchor) => params.add(anchor)).join(', ');
      return { sql: `SELECT ${this.selectList} FROM ${this.relation}${tableHint} WHERE ${this.anchor} IN (${list})${suffix}`, params: params.values };
    });
  }

  /**
   * Multi-row upserts of new rows (values in `writeColumns` order), as few
   * statements as the dialect's limits allow. The conflict branch only runs
   * when another writer added the anchor since the rows were read.
   */
  upsert(rows: SqlParam[][]): SqlStatement[] {
    const columns = this.writeColumns;
    return this.chunks(rows, () => columns.length).map((chunk) => {
      const params = new SqlParameters(this.dialect);
      const placeholders = chunk.map((row) => row.map((value) => params.add(value)));
      const sql = this.dialect.upsert({ table: this.relation, columns: columns.map((c) => this.dialect.quote(c)), rows: placeholders });
      return { sql, params: params.values };
    });
  }

  /**
   * Updates of existing rows, each writing only the columns it changes:
   * `SET c = CASE anchor WHEN … THEN … ELSE c END`. Not an upsert: its INSERT
   * half would have to satisfy NOT NULL columns the connector does not map,
   * which every server checks before it looks for the conflict. The ELSE
   * branch also gives PostgreSQL the column's type for the parameters.
   */
  update(rows: Array<{ anchor: SqlParam; values: Map<string, SqlParam> }>): SqlStatement[] {
    const order = this.writeColumns;
    return this.chunks(rows, (row) => 1 + 2 * row.values.size).map((chunk) => {
      const params = new SqlParameters(this.dialect);
      const assignments = order
        .filter((column) => chunk.some((row) => row.values.has(column)))
        .map((column) => {
          const quoted = this.dialect.quote(column);
          const branches = chunk
            .filter((row) => row.values.has(column))
            .map((row) => `WHEN ${params.add(row.anchor)} THEN ${params.add(row.values.get(column) as SqlParam)}`);
          return `${quoted} = CASE ${this.anchor} ${branches.join(' ')} ELSE ${quoted} END`;
        });
      const list = chunk.map((row) => params.add(row.anchor)).join(', ');
      return { sql: `UPDATE ${this.relation} SET ${assignments.join(', ')} WHERE ${this.anchor} IN (${list})`, params: params.values };
    });
  }

  deleteByAnchors(anchors: SqlParam[]): SqlStatement[] {
    return this.chunks(anchors, () => 1).map((chunk) => {
      const params = new SqlParameters(this.dialect);
      const list = chunk.map((anchor) => params.add(anchor)).join(', ');
      return { sql: `DELETE FROM ${this.relation} WHERE ${this.anchor} IN (${list})`, params: params.values };
    });
  }

  /** Marks rows deleted: the time of the delete, or true. */
  softDeleteByAnchors(anchors: SqlParam[]): SqlStatement[] {
    const softDelete = this.type.softDelete;
    if (!softDelete) throw new Error(`object type ${this.type.name} has no soft-delete column`);
    return this.chunks(anchors, () => 1).map((chunk) => {
      const params = new SqlParameters(this.dialect);
      const mark = softDelete.type === 'timestamp' ? 'CURRENT_TIMESTAMP' : params.add(true);
      const list = chunk.map((anchor) => params.add(anchor)).join(', ');
      return { sql: `UPDATE ${this.relation} SET ${this.dialect.quote(softDelete.column)} = ${mark} WHERE ${this.anchor} IN (${list})`, params: params.values };
    });
  }

  private anchorParameter(params: SqlParameters, anchor: string): string {
    return this.type.anchor.type === 'integer' ? this.dialect.integerParameter(params.add(anchor)) : params.add(anchor);
  }

  private requireWatermark() {
    if (!this.type.watermark) throw new Error(`object type ${this.type.name} has no watermark column`);
    return this.type.watermark;
  }

  /** Splits items so each statement stays under the dialect's parameter and row limits (one parameter spare for a mark). */
  private chunks<T>(items: T[], cost: (item: T) => number): T[][] {
    const budget = this.dialect.maxParameters - 1;
    const chunks: T[][] = [];
    let current: T[] = [];
    let used = 0;
    for (const item of items) {
      const needed = cost(item);
      if (needed > budget) throw new RangeError(`one row needs ${needed} parameters; ${this.dialect.name} allows ${budget}`);
      if (current.length > 0 && (used + needed > budget || current.length >= this.dialect.maxRowsPerStatement)) {
        chunks.push(current);
        current = [];
        used = 0;
      }
      current.push(item);
      used += needed;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }
}
