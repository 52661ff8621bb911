import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, ObjectLiteral } from 'typeorm';
import { Brackets, In } from 'typeorm';
import { joinLookupKey, meshValues, normalizeJoinValue } from '@identitymesh/domain';
import type { ExportOperation, JoinKey, MeshAttribute, MeshObjectView } from '@identitymesh/domain';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import { MeshJoinKeyEntity } from '../entities/mesh-join-key.entity';
import { MeshObjectEntity } from '../entities/mesh-object.entity';
import type { MeshAttributeValue } from '../entities/mesh-object.entity';
import { MeshReferenceEntity } from '../entities/mesh-reference.entity';
import { caseByIdColumns, insertRows } from '../data-source/bulk-insert';
import { chunked, driverTypeOf, rowsPerStatement } from '../data-source/dialect';
import { likeFragment } from '../data-source/like-pattern';
import { ConcurrentChangeError } from '../transaction/transaction.errors';
import { managerOf, Transaction } from '../transaction/transaction';

/** A mesh object as loaded for a sync: its attributes with reference values rebuilt from IM_MeshReferences, and the version a write must find. */
export interface MeshObjectRecord extends MeshObjectView {
  attributes: Record<string, MeshAttribute>;
  version: number;
}

/** An object of a connector joined to a mesh object that a reference links to: how that connector names it. */
export interface ReferenceTargetName {
  csObjectId: string;
  connectorId: string;
  objectType: string;
  anchor: string;
  distinguishedName: string | null;
  pendingExport: ExportOperation | null;
}

export interface LoadedMeshObjects {
  /** By id; ids that do not exist (any more) are absent. */
  objects: Map<string, MeshObjectRecord>;
  /**
   * Every mesh object that a reference attribute of a loaded object links
   * to, with its objects in the connectors asked for (an empty list: it has
   * none there). Filled only when connectors were asked for.
   */
  referenceTargets: Map<string, ReferenceTargetName[]>;
}

export interface NewMeshObject {
  id: string;
  objectType: string;
  attributes: Readonly<Record<string, MeshAttribute | undefined>>;
}

export interface MeshObjectUpdate {
  id: string;
  objectType: string;
  /** The version read; the write fails when the row has another one. */
  version: number;
  /** The attributes as read, for the reference rows' diff. */
  before: Readonly<Record<string, MeshAttribute | undefined>>;
  after: Readonly<Record<string, MeshAttribute | undefined>>;
}

export interface MeshWriteOptions {
  /** Per mesh object type, the attributes join rules match on: their values are kept in IM_MeshJoinKeys. */
  joinAttributes: ReadonlyMap<string, ReadonlySet<string>>;
  now: Date;
}

/** What a mesh search filters on; every filter given must hold. */
export interface MeshSearchFilter {
  objectType?: string;
  /** Objects whose display name starts with this, ignoring case. */
  displayNamePrefix?: string;
  /** Objects with a value of this attribute equal to `value`, ignoring case (one of the values of a multi-valued attribute). Reference attributes are not searched. */
  attribute?: { name: string; value: string };
}

/** A mesh object in a search result: what names it, not its attributes. */
export interface MeshObjectSummary {
  id: string;
  objectType: string;
  displayName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MeshSearchPage {
  items: MeshObjectSummary[];
  /** Where the next page starts (after this id); null when the search is exhausted. */
  nextAfterId: string | null;
}

/** Candidate rows one search request reads at most before it answers a short page. */
export const MESH_SEARCH_SCAN_LIMIT = 5_000;
const MESH_SEARCH_BATCH = 500;

/** Longest join key value IM_MeshJoinKeys holds; a longer value is not indexed, so no join can find it. */
export const JOIN_KEY_VALUE_LENGTH = 255;
const ATTRIBUTE_NAME_LENGTH = 128;
const DISPLAY_NAME_LENGTH = 255;

// Parameters of one row in each multi-row statement.
const OBJECT_INSERT_PARAMETERS = 8;
const OBJECT_UPDATE_PARAMETERS = 6;
const JOIN_KEY_PARAMETERS = 4;
const REFERENCE_PARAMETERS = 4;
const KEY_TRIPLE_PARAMETERS = 3;

interface ReferenceRow {
  meshObjectId: string;
  attributeName: string;
  targetMeshObjectId: string;
}

/**
 * `IM_MeshObjects` with their join keys (`IM_MeshJoinKeys`) and reference
 * rows (`IM_MeshReferences`): the central identities.
 *
 * Everything is set-based: a batch of mesh objects is loaded in two queries
 * (objects, then their reference rows together with how the asked
 * connectors name the referenced objects), join candidates of a whole batch
 * in one, and writes are a handful of multi-row statements. Updates and
 * deletes carry the version read and fail with ConcurrentChangeError when
 * another writer changed the row in between. Reference values are rows, so
 * one member joining a 50,000-member group writes one row.
 */
export class MeshRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Mesh objects by id, in one query per parameter-limit chunk, plus one for their reference rows. */
  loadObjects(tx: Transaction, ids: readonly string[], options: { referenceNamesIn?: readonly string[] } = {}): Promise<LoadedMeshObjects> {
    return this.load(managerOf(tx), ids, options.referenceNamesIn ?? []);
  }

  /**
   * The mesh objects holding each join key, for a whole batch in one query
   * (per parameter-limit chunk): `joinLookupKey` → mesh object ids. Keys
   * compare exactly as normalizeJoinValue writes them, whatever the
   * database's collation would also consider equal.
   */
  async findJoinCandidates(tx: Transaction, keys: readonly JoinKey[]): Promise<Map<string, string[]>> {
    const manager = managerOf(tx);
    const found = new Map<string, string[]>();
    const wanted = new Map<string, JoinKey>();
    for (const key of keys) {
      if (key.value === '' || key.value.length > JOIN_KEY_VALUE_LENGTH || key.meshAttribute.length > ATTRIBUTE_NAME_LENGTH) continue;
      wanted.set(joinLookupKey(key.meshObjectType, key.meshAttribute, key.value), key);
    }
    for (const chunk of chunked([...wanted.values()], rowsPerStatement(manager, 1, 200))) {
      const groups = new Map<string, { objectType: string; attributeName: string; values: string[] }>();
      for (const key of chunk) {
        const name = `${key.meshObjectType}\u0000${key.meshAttribute}`;
        const group = groups.get(name) ?? { objectType: key.meshObjectType, attributeName: key.meshAttribute, values: [] };
        group.values.push(key.value);
        groups.set(name, group);
      }
      const rows = await manager
        .getRepository(MeshJoinKeyEntity)
        .createQueryBuilder('k')
        .select(['k.meshObjectId', 'k.objectType', 'k.attributeName', 'k.value'])
        .where(
          new Brackets((where) => {
            let index = 0;
            for (const group of groups.values()) {
              where.orWhere(`(k.objectType = :t${index} AND k.attributeName = :a${index} AND k.value IN (:...v${index}))`, {
                [`t${index}`]: group.objectType,
                [`a${index}`]: group.attributeName,
                [`v${index}`]: group.values,
              });
              index++;
            }
          }),
        )
        .getMany();
      for (const row of rows) {
        const key = joinLookupKey(row.objectType, row.attributeName, row.value);
        if (!wanted.has(key)) continue;
        const ids = found.get(key) ?? [];
        if (!ids.includes(row.meshObjectId)) ids.push(row.meshObjectId);
        found.set(key, ids);
      }
    }
    return found;
  }

  /** New mesh objects with their join keys and reference rows, as multi-row inserts. */
  async insertObjects(tx: Transaction, objects: readonly NewMeshObject[], options: MeshWriteOptions): Promise<void> {
    if (objects.length === 0) return;
    const manager = managerOf(tx);
    const rows: MeshObjectEntity[] = objects.map((object) => {
      const stored = toStored(object.attributes);
      return {
        id: object.id,
        objectType: object.objectType,
        displayName: displayNameOf(object.attributes),
        attributes: stored,
        hash: hashOf(stored),
        version: 1,
        createdAt: options.now,
        updatedAt: options.now,
      };
    });
    for (const chunk of chunked(rows, rowsPerStatement(manager, OBJECT_INSERT_PARAMETERS))) await insertRows(manager, MeshObjectEntity, chunk);
    const keys = objects.flatMap((object) => joinKeysOf(object, options.joinAttributes));
    for (const chunk of chunked(keys, rowsPerStatement(manager, JOIN_KEY_PARAMETERS))) await insertRows(manager, MeshJoinKeyEntity, chunk);
    const references = objects.flatMap((object) => referenceRowsOf(object.id, object.attributes));
    for (const chunk of chunked(references, rowsPerStatement(manager, REFERENCE_PARAMETERS))) await insertRows(manager, MeshReferenceEntity, chunk);
  }

  /**
   * Writes changed mesh objects: one multi-row UPDATE that bumps each
   * version and finds the version read (else ConcurrentChangeError, and the
   * transaction rolls back), then the join keys diffed against the stored
   * ones and the reference rows diffed between before and after.
   */
  async updateObjects(tx: Transaction, updates: readonly MeshObjectUpdate[], options: MeshWriteOptions): Promise<void> {
    if (updates.length === 0) return;
    const manager = managerOf(tx);
    let changed = 0;
    for (const chunk of chunked(updates, rowsPerStatement(manager, OBJECT_UPDATE_PARAMETERS, 10))) changed += await this.updateChunk(manager, chunk, options.now);
    if (changed !== updates.length) throw new ConcurrentChangeError('IM_MeshObjects', updates.length, changed);

    await this.writeJoinKeys(manager, updates.map((update) => ({ id: update.id, objectType: update.objectType, attributes: update.after })), options.joinAttributes);

    const addedReferences: MeshReferenceEntity[] = [];
    const removedReferences: ReferenceRow[] = [];
    const holders = new Map<string, Array<{ meshObjectId: string; attributeName: string }>>();
    for (const update of updates) {
      const names = new Set([...Object.keys(update.before), ...Object.keys(update.after)]);
      for (const attributeName of names) {
        const before = update.before[attributeName];
        const after = update.after[attributeName];
        const beforeIds = new Set(before?.reference ? meshValues(before).map(String) : []);
        const afterIds = new Set(after?.reference ? meshValues(after).map(String) : []);
        for (const id of afterIds) if (!beforeIds.has(id)) addedReferences.push({ meshObjectId: update.id, attributeName, targetMeshObjectId: id, connectorId: after?.connectorId ?? '' });
        for (const id of beforeIds) if (!afterIds.has(id)) removedReferences.push({ meshObjectId: update.id, attributeName, targetMeshObjectId: id });
        // The rows remember their contributor; a new holder of the same links is rare and rewrites the column, not the rows.
        if (before?.reference && after?.reference && before.connectorId !== after.connectorId && afterIds.size > 0 && beforeIds.size > 0) {
          const list = holders.get(after.connectorId ?? '') ?? [];
          list.push({ meshObjectId: update.id, attributeName });
          holders.set(after.connectorId ?? '', list);
        }
      }
    }
    await this.deleteTriples(manager, MeshReferenceEntity, removedReferences);
    for (const chunk of chunked(addedReferences, rowsPerStatement(manager, REFERENCE_PARAMETERS))) await insertRows(manager, MeshReferenceEntity, chunk);
    for (const [connectorId, pairs] of holders) {
      for (const chunk of chunked(pairs, rowsPerStatement(manager, 2, 10))) {
        await manager
          .createQueryBuilder()
          .update(MeshReferenceEntity)
          .set({ connectorId })
          .where(chunk.map((pair) => ({ meshObjectId: pair.meshObjectId, attributeName: pair.attributeName })))
          .execute();
      }
    }
  }

  /**
   * Brings the join keys of unchanged mesh objects in line with the join
   * rules (a full sync after a join rule on a new attribute was added): the
   * stored keys are read in one query and only the difference is written.
   */
  async refreshJoinKeys(tx: Transaction, objects: readonly NewMeshObject[], options: MeshWriteOptions): Promise<void> {
    if (objects.length === 0) return;
    await this.writeJoinKeys(managerOf(tx), objects, options.joinAttributes);
  }

  /**
   * Deletes mesh objects that still have the version read (else
   * ConcurrentChangeError). Their join keys, reference rows and unique
   * value reservations go with them (cascade), connector-space objects are
   * unlinked (SET NULL), and links other mesh objects hold to them are
   * removed.
   */
  async deleteObjects(tx: Transaction, deletes: ReadonlyArray<{ id: string; version: number }>): Promise<void> {
    if (deletes.length === 0) return;
    const manager = managerOf(tx);
    let deleted = 0;
    for (const chunk of chunked(deletes, rowsPerStatement(manager, 2, 10))) {
      const result = await manager
        .createQueryBuilder()
        .delete()
        .from(MeshObjectEntity)
        .where(chunk.map((row) => ({ id: row.id, version: row.version })))
        .execute();
      deleted += result.affected ?? 0;
    }
    if (deleted !== deletes.length) throw new ConcurrentChangeError('IM_MeshObjects', deletes.length, deleted);
    for (const chunk of chunked(deletes.map((row) => row.id), rowsPerStatement(manager, 1, 10))) {
      await manager.createQueryBuilder().delete().from(MeshReferenceEntity).where({ targetMeshObjectId: In(chunk) }).execute();
    }
  }

  /** The join keys stored for mesh objects, as `attributeName` → normalized values. */
  async joinKeysOf(meshObjectId: string): Promise<Record<string, string[]>> {
    const rows = await this.dataSource.getRepository(MeshJoinKeyEntity).find({ where: { meshObjectId }, order: { attributeName: 'ASC', value: 'ASC' } });
    const out: Record<string, string[]> = {};
    for (const row of rows) (out[row.attributeName] ??= []).push(row.value);
    return out;
  }

  /** One mesh object as stored now, outside any transaction (Admin API, tests). */
  async findById(id: string): Promise<MeshObjectRecord | null> {
    return (await this.load(this.dataSource.manager, [id], [])).objects.get(id) ?? null;
  }

  /** The mesh objects of a type, a page at a time in id order (Admin API, tests). */
  async list(objectType: string, page: { afterId?: string; limit?: number } = {}): Promise<MeshObjectRecord[]> {
    const query = this.dataSource.getRepository(MeshObjectEntity).createQueryBuilder('m').select('m.id', 'id').where('m.objectType = :objectType', { objectType });
    if (page.afterId) query.andWhere('m.id > :afterId', { afterId: page.afterId });
    const ids: Array<{ id: string }> = await query
      .orderBy('m.id', 'ASC')
      .limit(page.limit ?? 1000)
      .getRawMany();
    const loaded = (await this.load(this.dataSource.manager, ids.map((row) => row.id), [])).objects;
    return ids.map((row) => loaded.get(row.id)).filter((record): record is MeshObjectRecord => record !== undefined);
  }

  /** The reference rows of one mesh object: attribute → linked mesh object ids (sorted). */
  async referencesOf(meshObjectId: string): Promise<Record<string, string[]>> {
    const rows = await this.dataSource.getRepository(MeshReferenceEntity).find({ where: { meshObjectId }, order: { attributeName: 'ASC', targetMeshObjectId: 'ASC' } });
    const out: Record<string, string[]> = {};
    for (const row of rows) (out[row.attributeName] ??= []).push(row.targetMeshObjectId);
    return out;
  }

  /**
   * One page of a mesh search in id order, after `afterId`. The filters are
   * a portable SQL prefilter (`LIKE` over the lower-cased text, so every
   * dialect can run it) followed by the exact check here: an attribute value
   * equal to `attribute.value` ignoring case, a display name starting with
   * the prefix ignoring case. Neither filter has an index, so a request
   * reads at most `scanLimit` candidate rows; a page cut short by that
   * carries `nextAfterId` like a full one, and the caller goes on from there.
   */
  async search(filter: MeshSearchFilter, page: { limit: number; afterId?: string | null; scanLimit?: number }): Promise<MeshSearchPage> {
    const scanLimit = page.scanLimit ?? MESH_SEARCH_SCAN_LIMIT;
    const exact = filter.attribute !== undefined || filter.displayNamePrefix !== undefined;
    // Without an exact check every candidate is a match, so one row past the page says whether there is a next one.
    const batchSize = exact ? Math.max(page.limit + 1, MESH_SEARCH_BATCH) : page.limit + 1;
    const found: MeshObjectSummary[] = [];
    let after = page.afterId ?? null;
    let scanned = 0;
    for (;;) {
      const query = this.dataSource
        .getRepository(MeshObjectEntity)
        .createQueryBuilder('m')
        .select(['m.id', 'm.objectType', 'm.displayName', 'm.createdAt', 'm.updatedAt'])
        .where('1 = 1');
      if (filter.attribute) query.addSelect('m.attributes');
      if (filter.objectType !== undefined) query.andWhere('m.objectType = :objectType', { objectType: filter.objectType });
      if (filter.displayNamePrefix !== undefined) query.andWhere('LOWER(m.displayName) LIKE :namePattern', { namePattern: `${likeFragment(filter.displayNamePrefix)}%` });
      if (filter.attribute) query.andWhere('LOWER(m.attributes) LIKE :valuePattern', { valuePattern: `%${likeFragment(filter.attribute.value)}%` });
      if (after !== null) query.andWhere('m.id > :after', { after });
      const rows = await query.orderBy('m.id', 'ASC').take(batchSize).getMany();
      for (const row of rows) {
        if (!matchesSearch(row, filter)) continue;
        found.push({ id: row.id, objectType: row.objectType, displayName: row.displayName, createdAt: row.createdAt, updatedAt: row.updatedAt });
        if (found.length > page.limit) return { items: found.slice(0, page.limit), nextAfterId: found[page.limit - 1].id };
      }
      if (rows.length < batchSize) return { items: found, nextAfterId: null };
      after = rows[rows.length - 1].id;
      scanned += rows.length;
      if (scanned >= scanLimit) return { items: found, nextAfterId: after };
    }
  }

  /** Id, type, display name and times of mesh objects, in one query per parameter-limit chunk; unknown ids are absent. */
  async findSummaries(ids: readonly string[]): Promise<MeshObjectSummary[]> {
    const out: MeshObjectSummary[] = [];
    for (const chunk of chunked([...new Set(ids)], rowsPerStatement(this.dataSource.manager, 1, 10))) {
      const rows = await this.dataSource.getRepository(MeshObjectEntity).find({ select: { id: true, objectType: true, displayName: true, createdAt: true, updatedAt: true }, where: { id: In(chunk) } });
      out.push(...rows.map((row) => ({ id: row.id, objectType: row.objectType, displayName: row.displayName, createdAt: row.createdAt, updatedAt: row.updatedAt })));
    }
    return out;
  }

  /** How many mesh objects of a type exist. */
  async count(objectType?: string): Promise<number> {
    return this.dataSource.getRepository(MeshObjectEntity).count(objectType ? { where: { objectType } } : {});
  }

  /**
   * Tells PostgreSQL's planner how big the mesh tables have become, as the
   * connector space's refreshStatistics does for a first large import: a
   * first full sync otherwise looks join keys up with statistics that say
   * "empty". Other dialects keep their statistics themselves.
   */
  async refreshStatistics(): Promise<void> {
    if (driverTypeOf(this.dataSource) !== 'postgres') return;
    const escape = (name: string) => this.dataSource.driver.escape(name);
    const tables = [MeshObjectEntity, MeshJoinKeyEntity, MeshReferenceEntity].map((entity) => escape(this.dataSource.getMetadata(entity).tableName));
    await this.dataSource.query(`ANALYZE ${tables.join(', ')}`);
  }

  private async load(manager: EntityManager, ids: readonly string[], referenceNamesIn: readonly string[]): Promise<LoadedMeshObjects> {
    const objects = new Map<string, MeshObjectRecord>();
    const referenceTargets = new Map<string, ReferenceTargetName[]>();
    const unique = [...new Set(ids)];
    if (unique.length === 0) return { objects, referenceTargets };
    const namesIn = [...new Set(referenceNamesIn)];
    const rows: MeshObjectEntity[] = [];
    const references = new Map<string, string[]>();
    for (const chunk of chunked(unique, rowsPerStatement(manager, 1, 10))) {
      rows.push(...(await manager.getRepository(MeshObjectEntity).find({ where: { id: In(chunk) } })));
    }
    const withReferences = rows.filter((row) => Object.values(row.attributes).some((attribute) => attribute?.reference !== undefined)).map((row) => row.id);
    for (const chunk of chunked(withReferences, rowsPerStatement(manager, 1, 10 + namesIn.length))) {
      const query = manager
        .getRepository(MeshReferenceEntity)
        .createQueryBuilder('r')
        .select('r.meshObjectId', 'meshObjectId')
        .addSelect('r.attributeName', 'attributeName')
        .addSelect('r.targetMeshObjectId', 'targetMeshObjectId')
        .where('r.meshObjectId IN (:...chunk)', { chunk });
      if (namesIn.length > 0) {
        query
          .leftJoin(ConnectorSpaceObjectEntity, 't', 't.meshObjectId = r.targetMeshObjectId AND t.connectorId IN (:...namesIn)', { namesIn })
          .addSelect('t.id', 'csObjectId')
          .addSelect('t.connectorId', 'connectorId')
          .addSelect('t.objectType', 'objectType')
          .addSelect('t.anchor', 'anchor')
          .addSelect('t.distinguishedName', 'distinguishedName')
          .addSelect('t.pendingExport', 'pendingExport');
      }
      const found: Array<ReferenceRow & Partial<ReferenceTargetName> & { csObjectId: string | null }> = await query.getRawMany();
      const seen = new Set<string>();
      for (const row of found) {
        const key = `${row.meshObjectId}\u0000${row.attributeName}`;
        const triple = `${key}\u0000${row.targetMeshObjectId}`;
        if (!seen.has(triple)) {
          seen.add(triple);
          const list = references.get(key) ?? [];
          list.push(row.targetMeshObjectId);
          references.set(key, list);
        }
        if (namesIn.length === 0) continue;
        const names = referenceTargets.get(row.targetMeshObjectId) ?? [];
        referenceTargets.set(row.targetMeshObjectId, names);
        if (row.csObjectId && !names.some((name) => name.csObjectId === row.csObjectId)) {
          names.push({
            csObjectId: row.csObjectId,
            connectorId: row.connectorId as string,
            objectType: row.objectType as string,
            anchor: row.anchor as string,
            distinguishedName: row.distinguishedName ?? null,
            pendingExport: row.pendingExport ?? null,
          });
        }
      }
    }
    for (const row of rows) objects.set(row.id, toRecord(row, references));
    return { objects, referenceTargets };
  }

  private async writeJoinKeys(manager: EntityManager, objects: readonly NewMeshObject[], joinAttributes: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    const stored = new Map<string, Set<string>>();
    for (const chunk of chunked(objects.map((object) => object.id), rowsPerStatement(manager, 1, 10))) {
      const rows = await manager.getRepository(MeshJoinKeyEntity).find({ select: { meshObjectId: true, attributeName: true, value: true }, where: { meshObjectId: In(chunk) } });
      for (const row of rows) {
        const keys = stored.get(row.meshObjectId) ?? new Set<string>();
        keys.add(`${row.attributeName}\u0000${row.value}`);
        stored.set(row.meshObjectId, keys);
      }
    }
    const addedKeys: MeshJoinKeyEntity[] = [];
    const removedKeys: Array<{ meshObjectId: string; attributeName: string; value: string }> = [];
    for (const object of objects) {
      const wanted = joinKeysOf(object, joinAttributes);
      const before = stored.get(object.id) ?? new Set<string>();
      const after = new Set(wanted.map((key) => `${key.attributeName}\u0000${key.value}`));
      for (const key of wanted) if (!before.has(`${key.attributeName}\u0000${key.value}`)) addedKeys.push(key);
      for (const key of before) {
        if (after.has(key)) continue;
        const [attributeName, value] = key.split('\u0000');
        removedKeys.push({ meshObjectId: object.id, attributeName, value });
      }
    }
    await this.deleteTriples(manager, MeshJoinKeyEntity, removedKeys);
    for (const chunk of chunked(addedKeys, rowsPerStatement(manager, JOIN_KEY_PARAMETERS))) await insertRows(manager, MeshJoinKeyEntity, chunk);
  }

  private async updateChunk(manager: EntityManager, rows: readonly MeshObjectUpdate[], now: Date): Promise<number> {
    const qb = manager.getRepository(MeshObjectEntity).createQueryBuilder().update();
    const id = qb.escape('id');
    const version = qb.escape('version');
    const stored = new Map(rows.map((row) => [row.id, toStored(row.after)]));
    const { set, parameters } = caseByIdColumns(id, rows, (row) => row.id, ['attributes', 'hash', 'displayName'], (row, column) => {
      const values = stored.get(row.id);
      return column === 'attributes' ? JSON.stringify(values) : column === 'hash' ? hashOf(values as ReturnType<typeof toStored>) : displayNameOf(row.after);
    });
    rows.forEach((row, index) => (parameters[`v${index}`] = row.version));
    const result = await qb
      .set({ ...set, updatedAt: now, version: () => `${version} + 1` })
      .where(rows.map((_, index) => `(${id} = :u${index} AND ${version} = :v${index})`).join(' OR '))
      .setParameters(parameters)
      .execute();
    return result.affected ?? 0;
  }

  /** Deletes rows named by three key columns, as a disjunction (SQL Server has no row-value IN). */
  private async deleteTriples(manager: EntityManager, target: typeof MeshJoinKeyEntity | typeof MeshReferenceEntity, keys: readonly ObjectLiteral[]): Promise<void> {
    for (const chunk of chunked(keys, rowsPerStatement(manager, KEY_TRIPLE_PARAMETERS, 10))) {
      await manager.createQueryBuilder().delete().from(target).where([...chunk]).execute();
    }
  }
}

/** The stored form: reference attributes keep their holder here and their values as rows. */
function toStored(attributes: Readonly<Record<string, MeshAttribute | undefined>>): Record<string, MeshAttributeValue> {
  const stored: Record<string, MeshAttributeValue> = {};
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (!attribute) continue;
    const value: MeshAttributeValue = { value: attribute.reference ? null : (attribute.value ?? null), connectorId: attribute.connectorId, at: attribute.at };
    if (attribute.ruleId !== undefined) value.ruleId = attribute.ruleId;
    if (attribute.reference) value.reference = attribute.value !== null && !Array.isArray(attribute.value) ? 'one' : 'many';
    stored[name] = value;
  }
  return stored;
}

function toRecord(row: MeshObjectEntity, references: Map<string, string[]>): MeshObjectRecord {
  const attributes: Record<string, MeshAttribute> = {};
  for (const [name, stored] of Object.entries(row.attributes ?? {})) {
    if (!stored) continue;
    const attribute: MeshAttribute = { value: null, connectorId: stored.connectorId ?? null, at: stored.at };
    if (stored.ruleId !== undefined) attribute.ruleId = stored.ruleId;
    if (stored.reference) {
      const ids = [...(references.get(`${row.id}\u0000${name}`) ?? [])].sort();
      attribute.reference = true;
      attribute.value = ids.length === 0 ? null : stored.reference === 'many' ? ids : ids[0];
    } else {
      attribute.value = stored.value as MeshAttribute['value'];
    }
    attributes[name] = attribute;
  }
  return { id: row.id, objectType: row.objectType, attributes, version: row.version };
}

function hashOf(stored: Record<string, MeshAttributeValue>): string {
  return createHash('sha256').update(JSON.stringify(stored)).digest('hex');
}

function displayNameOf(attributes: Readonly<Record<string, MeshAttribute | undefined>>): string | null {
  const value = attributes['displayName']?.value;
  if (typeof value !== 'string' || value === '') return null;
  return value.length <= DISPLAY_NAME_LENGTH ? value : value.slice(0, DISPLAY_NAME_LENGTH);
}

function joinKeysOf(object: NewMeshObject, joinAttributes: ReadonlyMap<string, ReadonlySet<string>>): MeshJoinKeyEntity[] {
  const keys = new Map<string, MeshJoinKeyEntity>();
  for (const attributeName of joinAttributes.get(object.objectType) ?? []) {
    if (attributeName.length > ATTRIBUTE_NAME_LENGTH) continue;
    for (const raw of meshValues(object.attributes[attributeName])) {
      const value = normalizeJoinValue(raw);
      if (value === '' || value.length > JOIN_KEY_VALUE_LENGTH) continue;
      keys.set(`${attributeName}\u0000${value}`, { meshObjectId: object.id, objectType: object.objectType, attributeName, value });
    }
  }
  return [...keys.values()];
}

function referenceRowsOf(meshObjectId: string, attributes: Readonly<Record<string, MeshAttribute | undefined>>): MeshReferenceEntity[] {
  const rows: MeshReferenceEntity[] = [];
  for (const [attributeName, attribute] of Object.entries(attributes)) {
    if (!attribute?.reference) continue;
    for (const id of new Set(meshValues(attribute).map(String))) rows.push({ meshObjectId, attributeName, targetMeshObjectId: id, connectorId: attribute.connectorId ?? '' });
  }
  return rows;
}

function sameText(a: string, b: string): boolean {
  return a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase();
}

/** The exact check behind the prefilter of MeshRepository.search. */
function matchesSearch(row: MeshObjectEntity, filter: MeshSearchFilter): boolean {
  if (filter.displayNamePrefix !== undefined) {
    const prefix = filter.displayNamePrefix.normalize('NFC').toLowerCase();
    if (!(row.displayName ?? '').normalize('NFC').toLowerCase().startsWith(prefix)) return false;
  }
  if (filter.attribute) {
    const stored = row.attributes?.[filter.attribute.name];
    if (!stored || stored.reference) return false;
    const values = Array.isArray(stored.value) ? stored.value : [stored.value];
    const wanted = filter.attribute.value;
    if (!values.some((value) => (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && sameText(String(value), wanted))) return false;
  }
  return true;
}
