import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { In, MoreThan } from 'typeorm';
import { RunChangeEntity } from '../entities/run-change.entity';
import type { AttributeChange, RunChangeTarget } from '../entities/run-change.entity';
import { insertRows } from '../data-source/bulk-insert';
import { chunked, rowsPerStatement } from '../data-source/dialect';
import { managerOf, Transaction } from '../transaction/transaction';

/** One line of a run's change report. */
export interface RunChangeInput {
  /** Anchor, DN or mesh object id: what names the object to a reader. Clipped to 255 characters. */
  objectRef: string;
  targetKind: RunChangeTarget;
  /** create, update, delete (mesh); join, project, disconnect, provision, remove (connector space); add, update, delete, rename (export). */
  changeType: string;
  attributes: Record<string, AttributeChange>;
  /** Tells apart two lines that share the three fields above (two exports of one object). */
  discriminator?: string;
}

export interface RunChangeView extends RunChangeInput {
  id: string;
  runId: string;
  seq: number;
}

const OBJECT_REF_LENGTH = 255;
const CHANGE_TYPE_LENGTH = 16;
// Parameters of one row.
const CHANGE_ROW_PARAMETERS = 7;

/**
 * `IM_RunChanges`: the per-object, attribute-by-attribute report of a run,
 * written by a preview (dry run) instead of any change. A line's id is
 * derived from the run and what it reports, so a preview resumed after a
 * crash adds no line twice; `append` says how many lines were new, which is
 * what the run counts.
 */
export class RunChangeRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends lines after the run's last one; lines already there are skipped. Returns the lines added, by change type. */
  async append(tx: Transaction, runId: string, changes: readonly RunChangeInput[]): Promise<Map<string, number>> {
    const added = new Map<string, number>();
    if (changes.length === 0) return added;
    const manager = managerOf(tx);
    const rows = new Map<string, RunChangeEntity>();
    for (const change of changes) {
      const objectRef = clip(change.objectRef, OBJECT_REF_LENGTH);
      const changeType = clip(change.changeType, CHANGE_TYPE_LENGTH);
      const id = lineId(runId, change.targetKind, objectRef, changeType, change.discriminator ?? '');
      if (!rows.has(id)) rows.set(id, { id, runId, seq: 0, objectRef, targetKind: change.targetKind, changeType, attributes: change.attributes });
    }
    const existing = new Set<string>();
    for (const chunk of chunked([...rows.keys()], rowsPerStatement(manager, 1, 10))) {
      const found = await manager.getRepository(RunChangeEntity).find({ select: { id: true }, where: { id: In(chunk) } });
      for (const row of found) existing.add(row.id);
    }
    const fresh = [...rows.values()].filter((row) => !existing.has(row.id));
    if (fresh.length === 0) return added;
    const last: { max: number | string | null } | undefined = await manager.getRepository(RunChangeEntity).createQueryBuilder('c').select('MAX(c.seq)', 'max').where('c.runId = :runId', { runId }).getRawOne();
    let seq = Number(last?.max ?? 0);
    for (const row of fresh) {
      row.seq = ++seq;
      added.set(`${row.targetKind}:${row.changeType}`, (added.get(`${row.targetKind}:${row.changeType}`) ?? 0) + 1);
    }
    for (const chunk of chunked(fresh, rowsPerStatement(manager, CHANGE_ROW_PARAMETERS))) await insertRows(manager, RunChangeEntity, chunk);
    return added;
  }

  /** A run's report in order, a page at a time. */
  async list(runId: string, page: { afterSeq?: number; limit?: number } = {}): Promise<RunChangeView[]> {
    const rows = await this.dataSource.getRepository(RunChangeEntity).find({
      where: { runId, ...(page.afterSeq === undefined ? {} : { seq: MoreThan(page.afterSeq) }) },
      order: { seq: 'ASC' },
      take: page.limit ?? 1000,
    });
    return rows.map((row) => ({ id: row.id, runId: row.runId, seq: row.seq, objectRef: row.objectRef, targetKind: row.targetKind, changeType: row.changeType, attributes: row.attributes }));
  }
}

function lineId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
