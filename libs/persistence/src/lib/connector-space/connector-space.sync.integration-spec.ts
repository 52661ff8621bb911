import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import { MeshRepository } from '../mesh/mesh.repository';
import { insertConnectorWithRun, staged } from '../testing/connector-space-fixtures';
import { ConcurrentChangeError } from '../transaction/transaction.errors';
import { TransactionRunner } from '../transaction/transaction';
import { ConnectorSpaceRepository, isProvisionalAnchor, PROVISIONAL_ANCHOR_PREFIX, StagedObject, SyncCursor } from './connector-space.repository';

jest.setTimeout(120_000);

describe.each(TEST_DIALECTS)('connector space for syncs on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let space: ConnectorSpaceRepository;
  let transactions: TransactionRunner;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    space = new ConnectorSpaceRepository(dataSource);
    transactions = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  async function stage(objects: StagedObject[]): Promise<{ connectorId: string; runId: string }> {
    const ids = await insertConnectorWithRun(dataSource);
    await transactions.run((tx) => space.stageImportBatch(tx, { connectorId: ids.connectorId, runId: ids.runId, upserts: objects, deletes: [], unreadable: [], markSeen: false, now: new Date() }));
    return ids;
  }

  async function meshObject(): Promise<string> {
    const id = randomUUID();
    await transactions.run((tx) => new MeshRepository(dataSource).insertObjects(tx, [{ id, objectType: 'person', attributes: {} }], { joinAttributes: new Map(), now: new Date() }));
    return id;
  }

  it('walks a connector space in pages by object type and anchor, all of it or only what waits for the sync', async () => {
    const { connectorId } = await stage([
      staged('B', { n: [1] }),
      staged('A', { n: [1] }),
      staged('C', { n: [1] }),
      staged('G1', { n: [1] }, { objectType: 'group' }),
    ]);
    await dataSource.getRepository(ConnectorSpaceObjectEntity).update({ connectorId, anchor: 'B' }, { pendingImport: 'none' });
    const walk = async (pendingOnly: boolean) => {
      const seen: string[] = [];
      let after: SyncCursor | null = null;
      for (;;) {
        const page = await transactions.run((tx) => space.loadSyncPage(tx, connectorId, { after, limit: 2, pendingOnly }));
        if (page.length === 0) return seen;
        seen.push(...page.map((cso) => `${cso.objectType}/${cso.anchor}`));
        const last = page[page.length - 1];
        after = { objectType: last.objectType, anchor: last.anchor };
      }
    };
    expect(await walk(false)).toEqual(['group/G1', 'person/A', 'person/B', 'person/C']);
    expect(await walk(true)).toEqual(['group/G1', 'person/A', 'person/C']);
  });

  it('writes links with the version read, takes other connectors’ pending imports in only where unchanged, and removes synced deletes', async () => {
    const { connectorId } = await stage([staged('A', { n: [1] }), staged('B', { n: [1] }), staged('C', { n: [1] }, { references: [{ attributeName: 'manager', targetKey: 'A' }] })]);
    await transactions.run((tx) => space.resolveReferences(tx, connectorId, { byAnchor: { attributeNames: ['manager'], objectTypes: ['person'] }, byDn: { attributeNames: [] } }));
    const mesh = await meshObject();
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((anchor) => space.findByAnchor(connectorId, 'person', anchor)));
    if (!a || !b || !c) throw new Error('not staged');

    await transactions.run((tx) => space.updateLinks(tx, [{ id: a.id, version: a.version, meshObjectId: mesh, isDisconnector: false, pendingImport: 'none' }, { id: b.id, version: b.version, meshObjectId: null, isDisconnector: true, pendingImport: 'none' }], new Date()));
    expect(await space.findByAnchor(connectorId, 'person', 'A')).toMatchObject({ meshObjectId: mesh, pendingImport: 'none', isDisconnector: false, version: 2 });
    expect(await space.findByAnchor(connectorId, 'person', 'B')).toMatchObject({ meshObjectId: null, isDisconnector: true, version: 2 });
    // Another writer got there first: the whole transaction goes.
    await expect(transactions.run((tx) => space.updateLinks(tx, [{ id: a.id, version: a.version, meshObjectId: null, isDisconnector: false, pendingImport: 'none' }], new Date()))).rejects.toThrow(ConcurrentChangeError);

    // C was changed by an import after it was read: it keeps its pending import.
    expect(await transactions.run((tx) => space.markSynced(tx, [{ id: c.id, version: c.version + 1 }, { id: b.id, version: 2 }], new Date()))).toBe(1);
    expect((await space.findByAnchor(connectorId, 'person', 'C'))?.pendingImport).toBe('add');

    const references = await transactions.run((tx) => space.loadReferenceTargets(tx, [c.id]));
    expect(references).toEqual([{ csObjectId: c.id, attributeName: 'manager', targetKey: 'A', targetCsObjectId: a.id, targetMeshObjectId: mesh, targetIsDisconnector: false }]);
    await transactions.run((tx) => space.removeObjects(tx, [a.id]));
    expect(await space.findByAnchor(connectorId, 'person', 'A')).toBeNull();
    expect(await transactions.run((tx) => space.loadReferenceTargets(tx, [c.id]))).toEqual([expect.objectContaining({ targetCsObjectId: null, targetMeshObjectId: null })]);
    expect((await transactions.run((tx) => space.loadLinked(tx, [mesh]))).map((cso) => cso.anchor)).toEqual([]);
  });

  it('creates provisioned objects a full import leaves alone, finds objects by the names provisioning renders, and links unjoined ones once', async () => {
    const { connectorId } = await stage([staged('U1', { uid: ['taken'] }, { objectType: 'user', dn: 'uid=taken,dc=x' })]);
    const mesh = await meshObject();
    const id = randomUUID();
    await transactions.run((tx) =>
      space.insertProvisioned(tx, [{ id, connectorId, objectType: 'user', anchor: `${PROVISIONAL_ANCHOR_PREFIX}${id}`, distinguishedName: 'uid=new,dc=x', dnHash: 'h-new', attributes: { uid: ['new'] }, attributeHash: 'x', meshObjectId: mesh }], new Date()),
    );
    const provisioned = (await transactions.run((tx) => space.loadLinked(tx, [mesh], [connectorId])))[0];
    expect(provisioned).toMatchObject({ id, pendingExport: 'add', pendingImport: 'none', meshObjectId: mesh });
    expect(isProvisionalAnchor(provisioned.anchor)).toBe(true);
    expect(await transactions.run((tx) => space.markUnseenAsDeleted(tx, connectorId, randomUUID(), null, new Date()))).toBe(1);
    expect((await space.findByAnchor(connectorId, 'user', provisioned.anchor))?.pendingImport).toBe('none');

    const u1 = await space.findByAnchor(connectorId, 'user', 'U1');
    const named = await transactions.run((tx) => space.findNamed(tx, [{ connectorId, objectType: 'user', dnHash: u1?.dnHash ?? undefined }, { connectorId, objectType: 'user', anchor: 'nope' }]));
    expect(named.map((cso) => cso.anchor)).toEqual(['U1']);
    await transactions.run((tx) => space.linkUnjoined(tx, [{ id: u1?.id as string, meshObjectId: mesh }], new Date()));
    await expect(transactions.run((tx) => space.linkUnjoined(tx, [{ id: u1?.id as string, meshObjectId: mesh }], new Date()))).rejects.toThrow(ConcurrentChangeError);
    await transactions.run((tx) => space.unlink(tx, [{ id: u1?.id as string, meshObjectId: mesh }], new Date()));
    expect((await space.findByAnchor(connectorId, 'user', 'U1'))?.meshObjectId).toBeNull();
  });
});
