import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { Brackets, In, IsNull } from 'typeorm';
import type { ExportOperation, PendingImport } from '@identitymesh/domain';
import type { JsonObject } from '../entities/column-types';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import { CsReferenceEntity } from '../entities/cs-reference.entity';
import { caseByIdColumns, insertRows } from '../data-source/bulk-insert';
import { chunked, driverTypeOf, rowsPerStatement } from '../data-source/dialect';
import { likeFragment } from '../data-source/like-pattern';
import { ConcurrentChangeError } from '../transaction/transaction.errors';
import { managerOf, Transaction } from '../transaction/transaction';

/** One value of a reference attribute of a staged object. */
export interface StagedReference {
  attributeName: string;
  /** The target as the system names it: its anchor, or the hash of its normalized DN. */
  targetKey: string;
}

/** One object of an import batch, prepared by the engine (normalized, hashed, validated against {@link ConnectorSpaceLimits}). */
export interface StagedObject {
  objectType: string;
  anchor: string;
  distinguishedName: string | null;
  dnHash: string | null;
  /** The non-reference attributes; references live in `references` (IM_CsReferences rows). */
  attributes: JsonObject;
  /** Covers attributes, references and DN: equal hash, nothing to write. */
  attributeHash: string;
  references: StagedReference[];
}

/** An object named by anchor; without an object type it names the anchor in every type. */
export interface ObjectKey {
  objectType?: string;
  anchor: string;
}

export interface ImportBatchInput {
  connectorId: string;
  runId: string;
  upserts: StagedObject[];
  deletes: Array<{ objectType: string; anchor: string }>;
  /**
   * Objects the source still holds but could not read this time (per-object
   * errors that carry an anchor): left as staged, and counted as seen so the
   * end of a full import does not take them for deleted.
   */
  unreadable: ObjectKey[];
  /**
   * A full import, or a delta that is a whole snapshot: every object read is
   * marked seen by this run (`lastRunId`), so {@link markUnseenAsDeleted} can
   * find the ones the source no longer has.
   */
  markSeen: boolean;
  /** The connector's schema has reference attributes: diff IM_CsReferences rows of changed objects. @default true */
  withReferences?: boolean;
  now: Date;
}

export interface StagedBatchResult {
  added: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** The CSO ids of the batch's existing objects, by {@link objectKey} (and by `\u0000anchor` for untyped keys). */
  existingIds: Map<string, string>;
}

/** The column sizes a staged object must fit; the engine turns an object that does not into a per-object error. */
export interface ConnectorSpaceLimits {
  objectTypeLength: number;
  anchorLength: number;
  distinguishedNameLength: number;
  attributeNameLength: number;
  targetKeyLength: number;
  /** UTF-8 bytes of the attributes' JSON; MariaDB/MySQL TEXT holds 64 KiB, the other dialects have no practical limit. */
  attributesBytes: number;
}

/** A staged object as read back. */
export interface ConnectorSpaceObjectView {
  id: string;
  connectorId: string;
  objectType: string;
  anchor: string;
  distinguishedName: string | null;
  dnHash: string | null;
  attributes: JsonObject;
  attributeHash: string;
  meshObjectId: string | null;
  /** Outside its connector's scoping filter when the sync last looked. */
  isDisconnector: boolean;
  pendingImport: PendingImport;
  /** Set while an export of the object is queued; `add` while a provisioned object does not exist in its system yet. */
  pendingExport: ExportOperation | null;
  lastRunId: string | null;
  version: number;
}

/** What a connector space search filters on; every filter given must hold. */
export interface ConnectorSpaceSearchFilter {
  objectType?: string;
  /** Exactly this anchor. */
  anchor?: string;
  /** Objects whose distinguished name starts with this, ignoring case. */
  dnPrefix?: string;
  /** One pending import, or `any` for every object the next sync still has to apply. */
  pendingImport?: PendingImport | 'any';
  /** One pending export, `any` for every object with one, `none` for those without. */
  pendingExport?: ExportOperation | 'any' | 'none';
}

export interface ConnectorSpaceSearchPage {
  items: ConnectorSpaceObjectView[];
  /** Where the next page starts (after this object); null when the search is exhausted. */
  next: SyncCursor | null;
}

/** Candidate rows one connector space search reads at most before it answers a short page. */
export const CONNECTOR_SPACE_SEARCH_SCAN_LIMIT = 5_000;
const CONNECTOR_SPACE_SEARCH_BATCH = 500;

/** Where a sync's walk through a connector space stands: the last object it took, in (object type, anchor) order. */
export interface SyncCursor {
  objectType: string;
  anchor: string;
}

/** One reference of a connector-space object with what its target is joined to. */
export interface ReferenceTarget {
  csObjectId: string;
  attributeName: string;
  /** As the system named it: the target's anchor, or the hash of its normalized DN. */
  targetKey: string;
  /** Null while the named object is not staged. */
  targetCsObjectId: string | null;
  targetMeshObjectId: string | null;
  targetIsDisconnector: boolean;
}

/** An object a cross-connector reference names, by the key it was named with (its anchor or DN hash). */
export interface ReferencedObject {
  csObjectId: string;
  key: string;
  meshObjectId: string | null;
  isDisconnector: boolean;
}

/** A sync's decision about one of the connector's own objects: its link, and whether the sync has taken its pending import in. */
export interface LinkUpdate {
  id: string;
  /** The version read; the write fails with ConcurrentChangeError when the row has another one. */
  version: number;
  meshObjectId: string | null;
  isDisconnector: boolean;
  pendingImport: PendingImport;
}

/** An object a provisioning rule creates in a target connector: it exists in the connector space (pending export `add`) before it exists in the system. */
export interface ProvisionedObject {
  id: string;
  connectorId: string;
  objectType: string;
  /** From the anchor template, or a provisional one ({@link PROVISIONAL_ANCHOR_PREFIX}) until the system assigns the real one. */
  anchor: string;
  distinguishedName: string | null;
  dnHash: string | null;
  /** The values its add carries. */
  attributes: JsonObject;
  attributeHash: string;
  meshObjectId: string;
}

/** A provisioned object not exported yet, named or valued anew before its add goes out. */
export interface ProvisionedObjectChange {
  id: string;
  distinguishedName: string | null;
  dnHash: string | null;
  attributes: JsonObject;
  attributeHash: string;
}

/**
 * Marks an anchor the engine made up for a provisioned object whose system
 * assigns the real one on add (LDAP entryUUID, AD objectGUID). The export
 * replaces it with the system's anchor once the add has been applied.
 */
export const PROVISIONAL_ANCHOR_PREFIX = 'provisional:';

/** Whether an anchor is one the engine made up (see {@link PROVISIONAL_ANCHOR_PREFIX}). */
export function isProvisionalAnchor(anchor: string): boolean {
  return anchor.startsWith(PROVISIONAL_ANCHOR_PREFIX);
}

/** What a recorded export changes of its object ({@link ConnectorSpaceRepository.applyExportResults}). */
export interface ExportedObjectUpdate {
  id: string;
  /** The system's anchor (one it assigned on add replaces a provisional one). */
  anchor: string;
  distinguishedName: string | null;
  dnHash: string | null;
  attributes: JsonObject;
  attributeHash: string;
  /** The reference rows after the export; undefined leaves them as they are. */
  references?: StagedReference[];
  /** What the object still has to send first, or null. */
  pendingExport: ExportOperation | null;
}

/** How reference attributes name their targets, for {@link ConnectorSpaceRepository.resolveReferences}. */
export interface ReferenceResolution {
  /** Attributes whose values are other objects' anchors, and the object types those may be. */
  byAnchor: { attributeNames: string[]; objectTypes: string[] };
  /** Attributes whose values are other objects' DNs (stored as DN hashes). */
  byDn: { attributeNames: string[] };
}

/** The key of an object within one connector. */
export function objectKey(objectType: string, anchor: string): string {
  return `${objectType}\u0000${anchor}`;
}

// Parameters of one row in each multi-row statement.
const CSO_INSERT_PARAMETERS = 17;
const CSO_CASE_COLUMNS = ['attributes', 'attributeHash', 'distinguishedName', 'dnHash', 'pendingImport'] as const;
const CSO_UPDATE_PARAMETERS = CSO_CASE_COLUMNS.length * 2 + 1;
const REFERENCE_PARAMETERS = 4;
const REFERENCE_KEY_PARAMETERS = 3;
const LINK_UPDATE_PARAMETERS = 6;
const EXPORTED_CASE_COLUMNS = ['anchor', 'distinguishedName', 'dnHash', 'attributes', 'attributeHash', 'pendingExport'] as const;
const EXPORTED_UPDATE_PARAMETERS = EXPORTED_CASE_COLUMNS.length * 2 + 1;
const PROVISIONED_UPDATE_PARAMETERS = 9;

interface ExistingRow {
  id: string;
  objectType: string;
  anchor: string;
  attributeHash: string;
  pendingImport: PendingImport;
  lastRunId: string | null;
}

interface ChangedRow {
  id: string;
  object: StagedObject;
  pendingImport: PendingImport;
}

/**
 * `IM_ConnectorSpaceObjects` and `IM_CsReferences`: the connector space.
 *
 * An import batch is staged set-based in a few statements whatever its size:
 * one read of the batch's existing objects, one multi-row insert of new ones,
 * one multi-row update of changed ones, one update marking unchanged ones
 * seen, one marking deletes, and the reference rows of new and changed
 * objects as a diff (each chunked only by the dialect's parameter limit).
 * Unchanged objects (same attribute hash) are not written at all in a delta.
 */
export class ConnectorSpaceRepository {
  constructor(private readonly dataSource: DataSource) {}

  limits(): ConnectorSpaceLimits {
    const type = driverTypeOf(this.dataSource);
    return {
      objectTypeLength: 64,
      anchorLength: 255,
      distinguishedNameLength: 1024,
      attributeNameLength: 128,
      targetKeyLength: 255,
      attributesBytes: type === 'mysql' || type === 'mariadb' ? 65_535 : Number.POSITIVE_INFINITY,
    };
  }

  /**
   * Stages one import batch inside the batch's transaction. New objects are
   * added with pendingImport `add`; objects whose hash changed are updated
   * (`update`, or `add` while the sync has not seen them yet); unchanged ones
   * are only marked seen when `markSeen`; deletes of staged objects become
   * pending deletes. Within the batch every object must appear once.
   */
  async stageImportBatch(tx: Transaction, input: ImportBatchInput): Promise<StagedBatchResult> {
    const manager = managerOf(tx);
    const existing = await this.loadExisting(manager, input);
    const byKey = new Map(existing.map((row) => [objectKey(row.objectType, row.anchor), row]));

    const inserts: Array<{ row: ConnectorSpaceObjectEntity; object: StagedObject }> = [];
    const changed: ChangedRow[] = [];
    const seen: string[] = [];
    let unchanged = 0;
    for (const object of input.upserts) {
      const row = byKey.get(objectKey(object.objectType, object.anchor));
      if (!row) {
        inserts.push({ row: newRow(input, object), object });
      } else if (row.attributeHash !== object.attributeHash || row.pendingImport === 'delete') {
        changed.push({ id: row.id, object, pendingImport: afterChange(row.pendingImport) });
      } else {
        unchanged++;
        if (input.markSeen && row.lastRunId !== input.runId) seen.push(row.id);
      }
    }
    const deletes: string[] = [];
    for (const key of input.deletes) {
      const row = byKey.get(objectKey(key.objectType, key.anchor));
      if (row && row.pendingImport !== 'delete') deletes.push(row.id);
    }
    const existingIds = new Map<string, string>();
    for (const row of existing) {
      existingIds.set(objectKey(row.objectType, row.anchor), row.id);
      existingIds.set(objectKey('', row.anchor), row.id);
    }
    if (input.markSeen) {
      const unreadable = new Set(input.unreadable.map((key) => objectKey(key.objectType ?? '', key.anchor)));
      for (const row of existing) {
        const named = unreadable.has(objectKey(row.objectType, row.anchor)) || unreadable.has(objectKey('', row.anchor));
        if (named && row.lastRunId !== input.runId) seen.push(row.id);
      }
    }

    for (const chunk of chunked(inserts, rowsPerStatement(manager, CSO_INSERT_PARAMETERS))) {
      await insertRows(
        manager,
        ConnectorSpaceObjectEntity,
        chunk.map((insert) => insert.row),
      );
    }
    for (const chunk of chunked(changed, rowsPerStatement(manager, CSO_UPDATE_PARAMETERS, 10))) await this.updateChanged(manager, chunk, input);
    for (const chunk of chunked([...new Set(seen)], rowsPerStatement(manager, 1, 10))) {
      await manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update().set({ lastRunId: input.runId }).where({ id: In(chunk) }).execute();
    }
    for (const chunk of chunked(deletes, rowsPerStatement(manager, 1, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      await qb
        .set({ pendingImport: 'delete', lastRunId: input.runId, updatedAt: input.now, version: () => `${qb.escape('version')} + 1` })
        .where({ id: In(chunk) })
        .execute();
    }
    if (input.withReferences ?? true) {
      await this.writeReferences(manager, [
        ...inserts.map((insert) => ({ id: insert.row.id, references: insert.object.references })),
        ...changed.map((row) => ({ id: row.id, references: row.object.references, existing: true })),
      ]);
    }
    return { added: inserts.length, updated: changed.length, deleted: deletes.length, unchanged, existingIds };
  }

  /**
   * After a complete full import (or snapshot delta) of `objectTypes` (all
   * of the connector's when null): every staged object this run did not see
   * becomes a pending delete, in one statement. Objects provisioned by the
   * engine and not exported yet are left alone: the system cannot have them.
   * Returns how many became pending deletes.
   */
  async markUnseenAsDeleted(tx: Transaction, connectorId: string, runId: string, objectTypes: string[] | null, now: Date): Promise<number> {
    const manager = managerOf(tx);
    const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
    const column = (name: string) => qb.escape(name);
    qb.set({ pendingImport: 'delete', updatedAt: now, version: () => `${column('version')} + 1` })
      .where(`${column('connectorId')} = :connectorId`, { connectorId })
      .andWhere(`${column('pendingImport')} <> :deleted`, { deleted: 'delete' })
      .andWhere(`(${column('lastRunId')} IS NULL OR ${column('lastRunId')} <> :runId)`, { runId })
      .andWhere(`(${column('pendingExport')} IS NULL OR ${column('pendingExport')} <> :provisioned)`, { provisioned: 'add' });
    if (objectTypes) qb.andWhere(`${column('objectType')} IN (:...objectTypes)`, { objectTypes: objectTypes.length > 0 ? objectTypes : [''] });
    const result = await qb.execute();
    return result.affected ?? 0;
  }

  /**
   * Links the connector's unresolved references to the objects they name,
   * one statement per way of naming; references to objects not staged (yet)
   * stay unresolved until a later import stages them. Returns the number resolved.
   */
  async resolveReferences(tx: Transaction, connectorId: string, resolution: ReferenceResolution): Promise<number> {
    const manager = managerOf(tx);
    let resolved = 0;
    if (resolution.byAnchor.attributeNames.length > 0 && resolution.byAnchor.objectTypes.length > 0) {
      resolved += await this.resolveBy(manager, connectorId, resolution.byAnchor.attributeNames, 'anchor', resolution.byAnchor.objectTypes);
    }
    if (resolution.byDn.attributeNames.length > 0) resolved += await this.resolveBy(manager, connectorId, resolution.byDn.attributeNames, 'dnHash', null);
    return resolved;
  }

  /**
   * Tells the query planner how big the connector space has become. A large
   * first import into an empty table otherwise runs with statistics that say
   * "empty", and PostgreSQL then reads the batch's existing objects by
   * filtering every object of the connector instead of by index: each batch
   * costs time proportional to what was imported so far. The import calls
   * this after its inserts have doubled (a handful of times per import);
   * MariaDB/MySQL, SQL Server and SQLite keep their statistics themselves or
   * need none for these lookups.
   */
  async refreshStatistics(): Promise<void> {
    if (driverTypeOf(this.dataSource) !== 'postgres') return;
    const escape = (name: string) => this.dataSource.driver.escape(name);
    const tables = [ConnectorSpaceObjectEntity, CsReferenceEntity].map((entity) => escape(this.dataSource.getMetadata(entity).tableName));
    await this.dataSource.query(`ANALYZE ${tables.join(', ')}`);
  }

  /**
   * The next page of a connector's objects for a sync, in (object type,
   * anchor) order after `after` — the unique index's order, so each page is
   * an index range. `pendingOnly`: only objects with a pending import (a
   * delta sync).
   */
  async loadSyncPage(tx: Transaction, connectorId: string, page: { after: SyncCursor | null; limit: number; pendingOnly: boolean }): Promise<ConnectorSpaceObjectView[]> {
    const query = managerOf(tx).getRepository(ConnectorSpaceObjectEntity).createQueryBuilder('o').where('o.connectorId = :connectorId', { connectorId });
    // Named values, not `<> 'none'`: the (connectorId, pendingImport) index then finds a delta's few objects among many.
    if (page.pendingOnly) query.andWhere('o.pendingImport IN (:...pending)', { pending: ['add', 'update', 'delete'] });
    if (page.after) {
      query.andWhere('(o.objectType > :afterType OR (o.objectType = :afterType AND o.anchor > :afterAnchor))', { afterType: page.after.objectType, afterAnchor: page.after.anchor });
    }
    const rows = await query.orderBy('o.objectType', 'ASC').addOrderBy('o.anchor', 'ASC').limit(page.limit).getMany();
    return rows.map(toView);
  }

  /**
   * Ids of the connector's objects up to and including `upTo` in the sync's
   * (object type, anchor) order that still have a pending import. A full
   * sync resumed from its checkpoint needs them: what its earlier attempts
   * sent to the second pass (references to objects joined later in the walk)
   * kept its pending import, lies before the checkpoint, and is not walked
   * again; the list of those objects died with the process that made it.
   */
  async pendingUpTo(tx: Transaction, connectorId: string, upTo: SyncCursor): Promise<string[]> {
    const rows = await managerOf(tx)
      .getRepository(ConnectorSpaceObjectEntity)
      .createQueryBuilder('o')
      .select('o.id', 'id')
      .where('o.connectorId = :connectorId', { connectorId })
      .andWhere('o.pendingImport IN (:...pending)', { pending: ['add', 'update', 'delete'] })
      .andWhere('(o.objectType < :upToType OR (o.objectType = :upToType AND o.anchor <= :upToAnchor))', { upToType: upTo.objectType, upToAnchor: upTo.anchor })
      .orderBy('o.objectType', 'ASC')
      .addOrderBy('o.anchor', 'ASC')
      .getRawMany<{ id: string }>();
    return rows.map((row) => row.id);
  }

  /** Objects by id, in one query per parameter-limit chunk. */
  async loadByIds(tx: Transaction, ids: readonly string[]): Promise<ConnectorSpaceObjectView[]> {
    const manager = managerOf(tx);
    const out: ConnectorSpaceObjectView[] = [];
    for (const chunk of chunked([...new Set(ids)], rowsPerStatement(manager, 1, 10))) {
      out.push(...(await manager.getRepository(ConnectorSpaceObjectEntity).find({ where: { id: In(chunk) } })).map(toView));
    }
    return out;
  }

  /** Every object joined to any of the mesh objects (of the given connectors, when given): the sources and targets of a batch's mesh objects. */
  async loadLinked(tx: Transaction, meshObjectIds: readonly string[], connectorIds?: readonly string[]): Promise<ConnectorSpaceObjectView[]> {
    const manager = managerOf(tx);
    if (connectorIds && connectorIds.length === 0) return [];
    const out: ConnectorSpaceObjectView[] = [];
    for (const chunk of chunked([...new Set(meshObjectIds)], rowsPerStatement(manager, 1, 10 + (connectorIds?.length ?? 0)))) {
      const where = connectorIds ? { meshObjectId: In(chunk), connectorId: In([...connectorIds]) } : { meshObjectId: In(chunk) };
      out.push(...(await manager.getRepository(ConnectorSpaceObjectEntity).find({ where })).map(toView));
    }
    return out;
  }

  /**
   * The reference rows of objects together with the mesh object each
   * target is joined to, in one query (per parameter-limit chunk of
   * objects, not of references: a 50,000-member group is one statement).
   */
  async loadReferenceTargets(tx: Transaction, csObjectIds: readonly string[]): Promise<ReferenceTarget[]> {
    const manager = managerOf(tx);
    const out: ReferenceTarget[] = [];
    for (const chunk of chunked([...new Set(csObjectIds)], rowsPerStatement(manager, 1, 10))) {
      const rows: Array<Omit<ReferenceTarget, 'targetIsDisconnector'> & { targetIsDisconnector: unknown }> = await manager
        .getRepository(CsReferenceEntity)
        .createQueryBuilder('r')
        .leftJoin(ConnectorSpaceObjectEntity, 't', 't.id = r.targetCsObjectId')
        .select('r.csObjectId', 'csObjectId')
        .addSelect('r.attributeName', 'attributeName')
        .addSelect('r.targetKey', 'targetKey')
        .addSelect('r.targetCsObjectId', 'targetCsObjectId')
        .addSelect('t.meshObjectId', 'targetMeshObjectId')
        .addSelect('t.isDisconnector', 'targetIsDisconnector')
        .where('r.csObjectId IN (:...chunk)', { chunk })
        .getRawMany();
      for (const row of rows) {
        out.push({
          csObjectId: row.csObjectId,
          attributeName: row.attributeName,
          targetKey: row.targetKey,
          targetCsObjectId: row.targetCsObjectId ?? null,
          targetMeshObjectId: row.targetMeshObjectId ?? null,
          targetIsDisconnector: row.targetIsDisconnector === true || Number(row.targetIsDisconnector) === 1,
        });
      }
    }
    return out;
  }

  /**
   * The objects of one connector that reference values of another connector
   * name (an anchor, or a DN by its hash), with the mesh object each is
   * joined to: the targets of a cross-connector reference flow. Only the
   * columns the link needs are read, one statement per parameter-limit chunk
   * of names — a 10,000-member group of a groups feed is one statement.
   */
  async findReferenced(tx: Transaction, connectorId: string, objectType: string | null, by: 'anchor' | 'dnHash', keys: readonly string[]): Promise<ReferencedObject[]> {
    const manager = managerOf(tx);
    const out: ReferencedObject[] = [];
    for (const chunk of chunked([...new Set(keys)], rowsPerStatement(manager, 1, 3))) {
      const query = manager
        .getRepository(ConnectorSpaceObjectEntity)
        .createQueryBuilder('o')
        .select('o.id', 'id')
        .addSelect(`o.${by}`, 'key')
        .addSelect('o.meshObjectId', 'meshObjectId')
        .addSelect('o.isDisconnector', 'isDisconnector')
        .where('o.connectorId = :connectorId', { connectorId })
        .andWhere(`o.${by} IN (:...chunk)`, { chunk });
      if (objectType !== null) query.andWhere('o.objectType = :objectType', { objectType });
      const rows: Array<{ id: string; key: string; meshObjectId: string | null; isDisconnector: unknown }> = await query.getRawMany();
      for (const row of rows) {
        out.push({ csObjectId: row.id, key: row.key, meshObjectId: row.meshObjectId ?? null, isDisconnector: row.isDisconnector === true || Number(row.isDisconnector) === 1 });
      }
    }
    return out;
  }

  /**
   * Objects of target connectors that already carry a name a provisioning
   * rule rendered (an anchor, or a DN by its hash): they are joined instead
   * of provisioned twice, or reported when another mesh object has them.
   */
  async findNamed(tx: Transaction, names: ReadonlyArray<{ connectorId: string; objectType: string; anchor?: string; dnHash?: string }>): Promise<ConnectorSpaceObjectView[]> {
    const manager = managerOf(tx);
    const out = new Map<string, ConnectorSpaceObjectView>();
    for (const chunk of chunked(names, rowsPerStatement(manager, 3, 10))) {
      const query = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder('o');
      query.where(
        new Brackets((where) => {
          chunk.forEach((name, index) => {
            if (name.anchor !== undefined) {
              where.orWhere(`(o.connectorId = :c${index} AND o.objectType = :t${index} AND o.anchor = :a${index})`, { [`c${index}`]: name.connectorId, [`t${index}`]: name.objectType, [`a${index}`]: name.anchor });
            }
            if (name.dnHash !== undefined) where.orWhere(`(o.connectorId = :c${index} AND o.dnHash = :h${index})`, { [`c${index}`]: name.connectorId, [`h${index}`]: name.dnHash });
          });
        }),
      );
      if (!chunk.some((name) => name.anchor !== undefined || name.dnHash !== undefined)) continue;
      for (const row of await query.getMany()) out.set(row.id, toView(row));
    }
    return [...out.values()];
  }

  /**
   * Writes a sync's decisions about the connector's own objects: link,
   * disconnector flag and pending import, as one multi-row UPDATE that
   * bumps each version and must find the version read (else
   * ConcurrentChangeError, and the transaction rolls back).
   */
  async updateLinks(tx: Transaction, rows: readonly LinkUpdate[], now: Date): Promise<void> {
    if (rows.length === 0) return;
    const manager = managerOf(tx);
    let changed = 0;
    for (const chunk of chunked(rows, rowsPerStatement(manager, LINK_UPDATE_PARAMETERS, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      const id = qb.escape('id');
      const version = qb.escape('version');
      const parameters: Record<string, unknown> = {};
      chunk.forEach((row, index) => {
        parameters[`u${index}`] = row.id;
        parameters[`v${index}`] = row.version;
        parameters[`m${index}`] = row.meshObjectId;
        parameters[`p${index}`] = row.pendingImport;
      });
      const disconnectors = chunk.filter((row) => row.isDisconnector).map((row) => row.id);
      const [yes, no] = booleanLiterals(manager);
      if (disconnectors.length > 0) parameters['disconnectors'] = disconnectors;
      const result = await qb
        .set({
          meshObjectId: () => `CASE ${id} ${chunk.map((_, index) => `WHEN :u${index} THEN :m${index}`).join(' ')} END`,
          pendingImport: () => `CASE ${id} ${chunk.map((_, index) => `WHEN :u${index} THEN :p${index}`).join(' ')} END`,
          isDisconnector: () => (disconnectors.length > 0 ? `CASE WHEN ${id} IN (:...disconnectors) THEN ${yes} ELSE ${no} END` : no),
          version: () => `${version} + 1`,
          updatedAt: now,
        })
        .where(chunk.map((_, index) => `(${id} = :u${index} AND ${version} = :v${index})`).join(' OR '))
        .setParameters(parameters)
        .execute();
      changed += result.affected ?? 0;
    }
    if (changed !== rows.length) throw new ConcurrentChangeError('IM_ConnectorSpaceObjects', rows.length, changed);
  }

  /**
   * Clears the pending import of objects whose changes a sync took in,
   * where they still have the version read: an object an import changed
   * meanwhile keeps its pending import for the next sync. Returns how many
   * were cleared.
   */
  async markSynced(tx: Transaction, rows: ReadonlyArray<{ id: string; version: number }>, now: Date): Promise<number> {
    const manager = managerOf(tx);
    let changed = 0;
    for (const chunk of chunked(rows, rowsPerStatement(manager, 2, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      const result = await qb
        .set({ pendingImport: 'none', version: () => `${qb.escape('version')} + 1`, updatedAt: now })
        .where(chunk.map((row) => ({ id: row.id, version: row.version })))
        .execute();
      changed += result.affected ?? 0;
    }
    return changed;
  }

  /**
   * Links objects of target connectors that a provisioning rule found by
   * name (an existing account with the DN or anchor it would have created)
   * to their mesh object, where they are still unlinked; else
   * ConcurrentChangeError (another sync linked one meanwhile).
   */
  async linkUnjoined(tx: Transaction, rows: ReadonlyArray<{ id: string; meshObjectId: string }>, now: Date): Promise<void> {
    if (rows.length === 0) return;
    const manager = managerOf(tx);
    let changed = 0;
    for (const chunk of chunked(rows, rowsPerStatement(manager, 3, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      const id = qb.escape('id');
      const parameters: Record<string, unknown> = {};
      chunk.forEach((row, index) => {
        parameters[`u${index}`] = row.id;
        parameters[`m${index}`] = row.meshObjectId;
      });
      const result = await qb
        .set({ meshObjectId: () => `CASE ${id} ${chunk.map((_, index) => `WHEN :u${index} THEN :m${index}`).join(' ')} END`, version: () => `${qb.escape('version')} + 1`, updatedAt: now })
        .where({ id: In(chunk.map((row) => row.id)), meshObjectId: IsNull() })
        .setParameters(parameters)
        .execute();
      changed += result.affected ?? 0;
    }
    if (changed !== rows.length) throw new ConcurrentChangeError('IM_ConnectorSpaceObjects', rows.length, changed);
  }

  /** Unlinks objects of target connectors from a mesh object (deprovisioning by disconnect), where they are still linked to it. */
  async unlink(tx: Transaction, rows: ReadonlyArray<{ id: string; meshObjectId: string }>, now: Date): Promise<void> {
    const manager = managerOf(tx);
    for (const chunk of chunked(rows, rowsPerStatement(manager, 2, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      await qb
        .set({ meshObjectId: null, version: () => `${qb.escape('version')} + 1`, updatedAt: now })
        .where(chunk.map((row) => ({ id: row.id, meshObjectId: row.meshObjectId })))
        .execute();
    }
  }

  /**
   * Removes objects from the connector space: deletes the sync has taken
   * in, and provisioned objects whose add never went out. References other
   * objects held to them become unresolved again; their queued exports go
   * with them (cascade).
   */
  async removeObjects(tx: Transaction, ids: readonly string[]): Promise<void> {
    const manager = managerOf(tx);
    for (const chunk of chunked([...new Set(ids)], rowsPerStatement(manager, 1, 10))) {
      await manager.createQueryBuilder().update(CsReferenceEntity).set({ targetCsObjectId: null }).where({ targetCsObjectId: In(chunk) }).execute();
      await manager.createQueryBuilder().delete().from(ConnectorSpaceObjectEntity).where({ id: In(chunk) }).execute();
    }
  }

  /** Objects provisioning rules create in target connectors (pending export `add`), as multi-row inserts. */
  async insertProvisioned(tx: Transaction, objects: readonly ProvisionedObject[], now: Date): Promise<void> {
    const manager = managerOf(tx);
    const rows: ConnectorSpaceObjectEntity[] = objects.map((object) => ({
      id: object.id,
      connectorId: object.connectorId,
      objectType: object.objectType,
      anchor: object.anchor,
      distinguishedName: object.distinguishedName,
      dnHash: object.dnHash,
      attributes: object.attributes,
      attributeHash: object.attributeHash,
      meshObjectId: object.meshObjectId,
      isDisconnector: false,
      pendingImport: 'none',
      pendingImportDelta: null,
      pendingExport: 'add',
      // Never seen by an import: a full import of the target leaves it alone until its add went out.
      lastRunId: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    }));
    for (const chunk of chunked(rows, rowsPerStatement(manager, CSO_INSERT_PARAMETERS))) await insertRows(manager, ConnectorSpaceObjectEntity, chunk);
  }

  /** New DN and values of provisioned objects whose add has not gone out yet (the add is queued again with them). */
  async updateProvisioned(tx: Transaction, changes: readonly ProvisionedObjectChange[], now: Date): Promise<void> {
    const manager = managerOf(tx);
    for (const chunk of chunked(changes, rowsPerStatement(manager, PROVISIONED_UPDATE_PARAMETERS, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      const { set, parameters } = caseByIdColumns(qb.escape('id'), chunk, (change) => change.id, ['distinguishedName', 'dnHash', 'attributes', 'attributeHash'], (change, column) =>
        column === 'attributes' ? JSON.stringify(change.attributes) : change[column as keyof ProvisionedObjectChange],
      );
      await qb
        .set({ ...set, updatedAt: now, version: () => `${qb.escape('version')} + 1` })
        .where({ id: In(chunk.map((change) => change.id)) })
        .setParameters(parameters)
        .execute();
    }
  }

  /**
   * What recorded exports changed of their objects, in the export batch's
   * transaction: the anchor a system assigned on add, the DN after a rename,
   * the values written (so the object holds what the system now holds, and
   * the next import finds an unchanged hash) with their reference rows
   * diffed, and the pending export left. One multi-row UPDATE per
   * parameter-limit chunk; each version + 1.
   */
  async applyExportResults(tx: Transaction, updates: readonly ExportedObjectUpdate[], now: Date): Promise<void> {
    if (updates.length === 0) return;
    const manager = managerOf(tx);
    for (const chunk of chunked(updates, rowsPerStatement(manager, EXPORTED_UPDATE_PARAMETERS, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      const { set, parameters } = caseByIdColumns(qb.escape('id'), chunk, (update) => update.id, EXPORTED_CASE_COLUMNS, (update, column) =>
        column === 'attributes' ? JSON.stringify(update.attributes) : update[column as keyof ExportedObjectUpdate],
      );
      await qb
        .set({ ...set, updatedAt: now, version: () => `${qb.escape('version')} + 1` })
        .where({ id: In(chunk.map((update) => update.id)) })
        .setParameters(parameters)
        .execute();
    }
    const withReferences = updates.filter((update) => update.references !== undefined);
    if (withReferences.length > 0) await this.writeReferences(manager, withReferences.map((update) => ({ id: update.id, references: update.references ?? [], existing: true })));
  }

  /** How many objects the connector space holds for a connector (what the deletion threshold's percentage is of). */
  async countObjects(connectorId: string, tx?: Transaction): Promise<number> {
    const manager = tx ? managerOf(tx) : this.dataSource.manager;
    return manager.getRepository(ConnectorSpaceObjectEntity).countBy({ connectorId });
  }

  async findByAnchor(connectorId: string, objectType: string, anchor: string): Promise<ConnectorSpaceObjectView | null> {
    const row = await this.dataSource.getRepository(ConnectorSpaceObjectEntity).findOneBy({ connectorId, objectType, anchor });
    return row ? toView(row) : null;
  }

  /** The connector's staged objects in anchor order, a page at a time. */
  async list(connectorId: string, page: { offset?: number; limit?: number } = {}): Promise<ConnectorSpaceObjectView[]> {
    const rows = await this.dataSource.getRepository(ConnectorSpaceObjectEntity).find({
      where: { connectorId },
      order: { objectType: 'ASC', anchor: 'ASC' },
      skip: page.offset ?? 0,
      take: page.limit ?? 1000,
    });
    return rows.map(toView);
  }

  /** How many of the connector's objects wait for the sync, by pending import. */
  async countByPendingImport(connectorId: string): Promise<Record<PendingImport, number>> {
    const rows: Array<{ pendingImport: PendingImport; count: string | number }> = await this.dataSource
      .getRepository(ConnectorSpaceObjectEntity)
      .createQueryBuilder('o')
      .select('o.pendingImport', 'pendingImport')
      .addSelect('COUNT(*)', 'count')
      .where('o.connectorId = :connectorId', { connectorId })
      .groupBy('o.pendingImport')
      .getRawMany();
    const counts: Record<PendingImport, number> = { none: 0, add: 0, update: 0, delete: 0 };
    for (const row of rows) counts[row.pendingImport] = Number(row.count);
    return counts;
  }

  /** The reference rows of one object, by attribute then target. */
  async referencesOf(csObjectId: string): Promise<Array<{ attributeName: string; targetKey: string; targetCsObjectId: string | null }>> {
    const rows = await this.dataSource.getRepository(CsReferenceEntity).find({ where: { csObjectId }, order: { attributeName: 'ASC', targetKey: 'ASC' } });
    return rows.map((row) => ({ attributeName: row.attributeName, targetKey: row.targetKey, targetCsObjectId: row.targetCsObjectId }));
  }

  /**
   * One page of a connector space search in (object type, anchor) order,
   * the order of the connector's unique index, after `after`. `anchor` is
   * exact; `dnPrefix` is a portable `LIKE` prefilter followed by the exact
   * check here (distinguished names compare ignoring case). A DN prefix has
   * no index, so a request reads at most `scanLimit` candidate rows; a page
   * cut short by that still says where the next one starts.
   */
  async search(connectorId: string, filter: ConnectorSpaceSearchFilter, page: { limit: number; after?: SyncCursor | null; scanLimit?: number }): Promise<ConnectorSpaceSearchPage> {
    const scanLimit = page.scanLimit ?? CONNECTOR_SPACE_SEARCH_SCAN_LIMIT;
    const batchSize = filter.dnPrefix !== undefined ? Math.max(page.limit + 1, CONNECTOR_SPACE_SEARCH_BATCH) : page.limit + 1;
    const prefix = filter.dnPrefix?.toLowerCase();
    const found: ConnectorSpaceObjectView[] = [];
    let after = page.after ?? null;
    let scanned = 0;
    for (;;) {
      const query = this.dataSource.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder('o').where('o.connectorId = :connectorId', { connectorId });
      if (filter.objectType !== undefined) query.andWhere('o.objectType = :objectType', { objectType: filter.objectType });
      if (filter.anchor !== undefined) query.andWhere('o.anchor = :anchor', { anchor: filter.anchor });
      if (prefix !== undefined) query.andWhere('LOWER(o.distinguishedName) LIKE :dnPattern', { dnPattern: `${likeFragment(prefix)}%` });
      if (filter.pendingImport === 'any') query.andWhere('o.pendingImport <> :none', { none: 'none' });
      else if (filter.pendingImport !== undefined) query.andWhere('o.pendingImport = :pendingImport', { pendingImport: filter.pendingImport });
      if (filter.pendingExport === 'any') query.andWhere('o.pendingExport IS NOT NULL');
      else if (filter.pendingExport === 'none') query.andWhere('o.pendingExport IS NULL');
      else if (filter.pendingExport !== undefined) query.andWhere('o.pendingExport = :pendingExport', { pendingExport: filter.pendingExport });
      if (after) {
        query.andWhere(
          new Brackets((inner) =>
            inner.where('o.objectType > :afterType', { afterType: after?.objectType }).orWhere('o.objectType = :afterType AND o.anchor > :afterAnchor', { afterAnchor: after?.anchor }),
          ),
        );
      }
      const rows = await query.orderBy('o.objectType', 'ASC').addOrderBy('o.anchor', 'ASC').take(batchSize).getMany();
      for (const row of rows) {
        if (prefix !== undefined && !(row.distinguishedName ?? '').toLowerCase().startsWith(prefix)) continue;
        found.push(toView(row));
        if (found.length > page.limit) {
          const last = found[page.limit - 1];
          return { items: found.slice(0, page.limit), next: { objectType: last.objectType, anchor: last.anchor } };
        }
      }
      if (rows.length < batchSize) return { items: found, next: null };
      const last = rows[rows.length - 1];
      after = { objectType: last.objectType, anchor: last.anchor };
      scanned += rows.length;
      if (scanned >= scanLimit) return { items: found, next: after };
    }
  }

  /** One object of one connector by id, null when it is not in that connector's space. */
  async findInConnector(connectorId: string, id: string): Promise<ConnectorSpaceObjectView | null> {
    const row = await this.dataSource.getRepository(ConnectorSpaceObjectEntity).findOneBy({ connectorId, id });
    return row ? toView(row) : null;
  }

  /** Every object joined to any of the mesh objects, outside a transaction (Admin API): one query per parameter-limit chunk. */
  async findLinked(meshObjectIds: readonly string[]): Promise<ConnectorSpaceObjectView[]> {
    const out: ConnectorSpaceObjectView[] = [];
    for (const chunk of chunked([...new Set(meshObjectIds)], rowsPerStatement(this.dataSource.manager, 1, 10))) {
      const rows = await this.dataSource.getRepository(ConnectorSpaceObjectEntity).find({ where: { meshObjectId: In(chunk) }, order: { connectorId: 'ASC', objectType: 'ASC', anchor: 'ASC' } });
      out.push(...rows.map(toView));
    }
    return out;
  }

  /** The batch's objects already staged, in one query per parameter-limit chunk (one for any usual batch size). */
  private async loadExisting(manager: EntityManager, input: ImportBatchInput): Promise<ExistingRow[]> {
    const typed = new Map<string, Set<string>>();
    const add = (objectType: string, anchor: string) => {
      let anchors = typed.get(objectType);
      if (!anchors) typed.set(objectType, (anchors = new Set()));
      anchors.add(anchor);
    };
    for (const object of input.upserts) add(object.objectType, object.anchor);
    for (const key of input.deletes) add(key.objectType, key.anchor);
    const untyped = new Set<string>();
    if (input.markSeen) {
      for (const key of input.unreadable) {
        if (key.objectType === undefined) untyped.add(key.anchor);
        else add(key.objectType, key.anchor);
      }
    }
    const keys: Array<{ objectType: string | null; anchor: string }> = [];
    for (const [objectType, anchors] of typed) for (const anchor of anchors) keys.push({ objectType, anchor });
    for (const anchor of untyped) keys.push({ objectType: null, anchor });
    if (keys.length === 0) return [];

    const rows: ExistingRow[] = [];
    for (const chunk of chunked(keys, rowsPerStatement(manager, 1, 100))) {
      const groups = new Map<string | null, string[]>();
      for (const key of chunk) {
        const anchors = groups.get(key.objectType) ?? [];
        anchors.push(key.anchor);
        groups.set(key.objectType, anchors);
      }
      const found = await manager
        .getRepository(ConnectorSpaceObjectEntity)
        .createQueryBuilder('o')
        .select(['o.id', 'o.objectType', 'o.anchor', 'o.attributeHash', 'o.pendingImport', 'o.lastRunId'])
        .where('o.connectorId = :connectorId', { connectorId: input.connectorId })
        .andWhere(
          new Brackets((where) => {
            let index = 0;
            for (const [objectType, anchors] of groups) {
              if (objectType === null) where.orWhere(`o.anchor IN (:...anchors${index})`, { [`anchors${index}`]: anchors });
              else where.orWhere(`(o.objectType = :type${index} AND o.anchor IN (:...anchors${index}))`, { [`type${index}`]: objectType, [`anchors${index}`]: anchors });
              index++;
            }
          }),
        )
        .getMany();
      for (const row of found) rows.push(row);
    }
    return rows;
  }

  /** One UPDATE for the chunk: each changed column a CASE over the row ids. */
  private async updateChanged(manager: EntityManager, rows: ChangedRow[], input: ImportBatchInput): Promise<void> {
    const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
    const { set, parameters } = caseByIdColumns(qb.escape('id'), rows, (row) => row.id, CSO_CASE_COLUMNS, (row, column) =>
      column === 'attributes' ? JSON.stringify(row.object.attributes) : column === 'pendingImport' ? row.pendingImport : row.object[column as 'attributeHash' | 'distinguishedName' | 'dnHash'],
    );
    await qb
      .set({ ...set, lastRunId: input.runId, updatedAt: input.now, version: () => `${qb.escape('version')} + 1` })
      .where({ id: In(rows.map((row) => row.id)) })
      .setParameters(parameters)
      .execute();
  }

  /**
   * The reference rows of new objects are inserted; those of changed objects
   * are diffed against what is stored, so a group that gained one member
   * costs one row, not a rewrite of all of them.
   */
  private async writeReferences(manager: EntityManager, objects: Array<{ id: string; references: StagedReference[]; existing?: boolean }>): Promise<void> {
    const wanted = new Map<string, Map<string, StagedReference>>();
    for (const object of objects) {
      const references = new Map<string, StagedReference>();
      for (const reference of object.references) references.set(referenceKey(reference), reference);
      wanted.set(object.id, references);
    }
    const changedIds = objects.filter((object) => object.existing).map((object) => object.id);
    const stored = new Map<string, Set<string>>();
    for (const chunk of chunked(changedIds, rowsPerStatement(manager, 1, 10))) {
      const rows = await manager.getRepository(CsReferenceEntity).find({ select: { csObjectId: true, attributeName: true, targetKey: true }, where: { csObjectId: In(chunk) } });
      for (const row of rows) {
        let keys = stored.get(row.csObjectId);
        if (!keys) stored.set(row.csObjectId, (keys = new Set()));
        keys.add(referenceKey(row));
      }
    }

    const removals: Array<{ csObjectId: string; attributeName: string; targetKey: string }> = [];
    const additions: CsReferenceEntity[] = [];
    for (const [csObjectId, references] of wanted) {
      const before = stored.get(csObjectId) ?? new Set<string>();
      for (const [key, reference] of references) {
        if (!before.has(key)) additions.push({ csObjectId, attributeName: reference.attributeName, targetKey: reference.targetKey, targetCsObjectId: null });
      }
      for (const key of before) {
        if (!references.has(key)) {
          const [attributeName, targetKey] = key.split('\u0000');
          removals.push({ csObjectId, attributeName, targetKey });
        }
      }
    }
    for (const chunk of chunked(removals, rowsPerStatement(manager, REFERENCE_KEY_PARAMETERS))) {
      // A disjunction of key triples: portable to every dialect (SQL Server has no row-value IN).
      await manager
        .createQueryBuilder()
        .delete()
        .from(CsReferenceEntity)
        .where(chunk.map((key) => ({ csObjectId: key.csObjectId, attributeName: key.attributeName, targetKey: key.targetKey })))
        .execute();
    }
    for (const chunk of chunked(additions, rowsPerStatement(manager, REFERENCE_PARAMETERS))) await insertRows(manager, CsReferenceEntity, chunk);
  }

  private async resolveBy(manager: EntityManager, connectorId: string, attributeNames: string[], targetColumn: 'anchor' | 'dnHash', objectTypes: string[] | null): Promise<number> {
    const escape = (name: string) => manager.dataSource.driver.escape(name);
    const references = escape(manager.getRepository(CsReferenceEntity).metadata.tableName);
    const objects = escape(manager.getRepository(ConnectorSpaceObjectEntity).metadata.tableName);
    const target = `FROM ${objects} t WHERE t.${escape('connectorId')} = :connectorId${objectTypes ? ` AND t.${escape('objectType')} IN (:...objectTypes)` : ''} AND t.${escape(targetColumn)} = ${references}.${escape('targetKey')}`;
    const qb = manager.createQueryBuilder().update(CsReferenceEntity);
    const result = await qb
      .set({ targetCsObjectId: () => `(SELECT MIN(t.${escape('id')}) ${target})` })
      .where(`${escape('targetCsObjectId')} IS NULL`)
      .andWhere(`${escape('attributeName')} IN (:...attributeNames)`, { attributeNames })
      .andWhere(`${escape('csObjectId')} IN (SELECT s.${escape('id')} FROM ${objects} s WHERE s.${escape('connectorId')} = :connectorId)`)
      .andWhere(`EXISTS (SELECT 1 ${target})`)
      .setParameters({ connectorId, ...(objectTypes ? { objectTypes } : {}) })
      .execute();
    return result.affected ?? 0;
  }
}

/** What a changed object's pending import becomes: an object the sync never saw stays an add; one that came back from a pending delete is an update. */
function afterChange(current: PendingImport): PendingImport {
  return current === 'add' ? 'add' : 'update';
}

function referenceKey(reference: { attributeName: string; targetKey: string }): string {
  return `${reference.attributeName}\u0000${reference.targetKey}`;
}

function newRow(input: ImportBatchInput, object: StagedObject): ConnectorSpaceObjectEntity {
  return {
    id: randomUUID(),
    connectorId: input.connectorId,
    objectType: object.objectType,
    anchor: object.anchor,
    distinguishedName: object.distinguishedName,
    dnHash: object.dnHash,
    attributes: object.attributes,
    attributeHash: object.attributeHash,
    meshObjectId: null,
    isDisconnector: false,
    pendingImport: 'add',
    pendingImportDelta: null,
    pendingExport: null,
    lastRunId: input.runId,
    createdAt: input.now,
    updatedAt: input.now,
    version: 1,
  };
}

function toView(row: ConnectorSpaceObjectEntity): ConnectorSpaceObjectView {
  return {
    id: row.id,
    connectorId: row.connectorId,
    objectType: row.objectType,
    anchor: row.anchor,
    distinguishedName: row.distinguishedName,
    dnHash: row.dnHash,
    attributes: row.attributes,
    attributeHash: row.attributeHash,
    meshObjectId: row.meshObjectId,
    isDisconnector: Boolean(row.isDisconnector),
    pendingImport: row.pendingImport,
    pendingExport: row.pendingExport,
    lastRunId: row.lastRunId,
    version: row.version,
  };
}

/** How a boolean is written literally in SQL: PostgreSQL has a boolean type, the others store 1 and 0. */
function booleanLiterals(manager: EntityManager): [string, string] {
  return driverTypeOf(manager) === 'postgres' ? ['TRUE', 'FALSE'] : ['1', '0'];
}
