import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { joinLookupKey } from '@identitymesh/domain';
import type { MeshAttribute } from '@identitymesh/domain';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import { MeshReferenceEntity } from '../entities/mesh-reference.entity';
import { insertConnectorWithRun, staged, StatementCounter } from '../testing/connector-space-fixtures';
import { ConnectorSpaceRepository } from '../connector-space/connector-space.repository';
import { ConcurrentChangeError } from '../transaction/transaction.errors';
import { TransactionRunner } from '../transaction/transaction';
import { MeshRepository } from './mesh.repository';

jest.setTimeout(120_000);

const AT = '2026-01-02T03:04:05.000Z';
const joinAttributes = new Map([
  ['person', new Set(['employeeId', 'mail'])],
  ['group', new Set(['cn'])],
]);

describe.each(TEST_DIALECTS)('mesh objects on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  const counter = new StatementCounter();
  let mesh: MeshRepository;
  let transactions: TransactionRunner;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: counter.onQuery });
    await migrateDatabase(dataSource);
    mesh = new MeshRepository(dataSource);
    transactions = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const held = (value: MeshAttribute['value'], connectorId: string | null = 'hr', extra: Partial<MeshAttribute> = {}): MeshAttribute => ({ value, connectorId, at: AT, ...extra });
  const options = () => ({ joinAttributes, now: new Date() });

  it('stores attributes with their holders, reference values as rows, and loads them back with how a connector names the linked objects', async () => {
    const { connectorId: directory, runId } = await insertConnectorWithRun(dataSource);
    const [boss, ann, staff] = [randomUUID(), randomUUID(), randomUUID()];
    await transactions.run((tx) =>
      mesh.insertObjects(
        tx,
        [
          { id: boss, objectType: 'person', attributes: { employeeId: held('E1'), displayName: held('Bo Boss', null) } },
          { id: ann, objectType: 'person', attributes: { employeeId: held('E2'), mail: held('Ann@Example.com '), manager: held(boss, 'hr', { reference: true }), aliases: held(['a', 'b']) } },
          { id: staff, objectType: 'group', attributes: { cn: held('Staff', 'ad'), members: held([boss, ann], 'ad', { reference: true }) } },
        ],
        options(),
      ),
    );
    // The boss has an account in the directory; Ann has none there.
    const space = new ConnectorSpaceRepository(dataSource);
    await transactions.run((tx) => space.stageImportBatch(tx, { connectorId: directory, runId, upserts: [staged('U1', { uid: ['boss'] }, { objectType: 'user', dn: 'uid=boss,dc=x' })], deletes: [], unreadable: [], markSeen: false, now: new Date() }));
    await dataSource.getRepository(ConnectorSpaceObjectEntity).update({ connectorId: directory, anchor: 'U1' }, { meshObjectId: boss });

    const loaded = await transactions.run((tx) => mesh.loadObjects(tx, [ann, staff, randomUUID()], { referenceNamesIn: [directory] }));
    expect([...loaded.objects.keys()].sort()).toEqual([ann, staff].sort());
    expect(loaded.objects.get(ann)).toEqual({
      id: ann,
      objectType: 'person',
      version: 1,
      attributes: { employeeId: held('E2'), mail: held('Ann@Example.com '), manager: held(boss, 'hr', { reference: true }), aliases: held(['a', 'b']) },
    });
    expect(loaded.objects.get(staff)?.attributes['members']).toEqual(held([boss, ann].sort(), 'ad', { reference: true }));
    expect(loaded.referenceTargets.get(boss)).toEqual([expect.objectContaining({ connectorId: directory, objectType: 'user', anchor: 'U1', distinguishedName: 'uid=boss,dc=x' })]);
    expect(loaded.referenceTargets.get(ann)).toEqual([]);
    expect(await mesh.joinKeysOf(ann)).toEqual({ employeeId: ['e2'], mail: ['ann@example.com'] });
    expect(await mesh.findById(boss)).toMatchObject({ attributes: { displayName: held('Bo Boss', null) } });
  });

  it('finds the join candidates of a whole batch in one statement, comparing normalized values exactly', async () => {
    const ids = Array.from({ length: 300 }, () => randomUUID());
    const tag = randomUUID().slice(0, 8);
    await transactions.run((tx) =>
      mesh.insertObjects(
        tx,
        ids.map((id, i) => ({ id, objectType: 'person', attributes: { employeeId: held(`${tag}-${i}`), mail: held(i < 2 ? `shared-${tag}@x` : `p${i}-${tag}@x`) } })),
        options(),
      ),
    );
    const keys = [
      ...ids.map((_, i) => ({ meshObjectType: 'person', meshAttribute: 'employeeId', value: `${tag}-${i}` })),
      { meshObjectType: 'person', meshAttribute: 'mail', value: `shared-${tag}@x` },
      { meshObjectType: 'person', meshAttribute: 'mail', value: `nobody-${tag}@x` },
      // Differs only in an accent: another value, even where the collation would call it equal.
      { meshObjectType: 'person', meshAttribute: 'mail', value: `shäred-${tag}@x` },
    ];
    const { result, statements } = await counter.count(() => transactions.run((tx) => mesh.findJoinCandidates(tx, keys)));
    // BEGIN, the query, COMMIT.
    expect(statements).toBe(3);
    expect(result.get(joinLookupKey('person', 'employeeId', `${tag}-7`))).toEqual([ids[7]]);
    expect(result.get(joinLookupKey('person', 'mail', `shared-${tag}@x`))?.sort()).toEqual([ids[0], ids[1]].sort());
    expect(result.has(joinLookupKey('person', 'mail', `nobody-${tag}@x`))).toBe(false);
    expect(result.has(joinLookupKey('person', 'mail', `shäred-${tag}@x`))).toBe(false);
    expect(result.size).toBe(301);
  });

  it('updates with the version read, diffs join keys and reference rows, and costs the same statements for one member of a small or a large group', async () => {
    async function group(size: number) {
      const members = Array.from({ length: size + 1 }, () => randomUUID());
      const id = randomUUID();
      const before = { cn: held(`g${size}`, 'ad'), members: held(members.slice(0, size), 'ad', { reference: true }) };
      await transactions.run((tx) => mesh.insertObjects(tx, [{ id, objectType: 'group', attributes: before }], options()));
      const loaded = (await transactions.run((tx) => mesh.loadObjects(tx, [id]))).objects.get(id);
      const after = { ...loaded?.attributes, members: held([...members.slice(1, size), members[size]], 'ad', { reference: true }) };
      const { statements } = await counter.count(() =>
        transactions.run((tx) => mesh.updateObjects(tx, [{ id, objectType: 'group', version: 1, before: loaded?.attributes ?? {}, after }], options())),
      );
      const rows = await dataSource.getRepository(MeshReferenceEntity).findBy({ meshObjectId: id });
      expect(rows.map((row) => row.targetMeshObjectId).sort()).toEqual([...members.slice(1, size), members[size]].sort());
      return statements;
    }
    const small = await group(10);
    const large = await group(2_000);
    expect(large).toBe(small);

    const id = randomUUID();
    await transactions.run((tx) => mesh.insertObjects(tx, [{ id, objectType: 'person', attributes: { employeeId: held('E9'), mail: held('old@x') } }], options()));
    const before = { employeeId: held('E9'), mail: held('old@x') };
    await transactions.run((tx) => mesh.updateObjects(tx, [{ id, objectType: 'person', version: 1, before, after: { employeeId: held('E9'), mail: held('New@X') } }], options()));
    expect(await mesh.joinKeysOf(id)).toEqual({ employeeId: ['e9'], mail: ['new@x'] });
    expect((await mesh.findById(id))?.version).toBe(2);
    // A writer that read version 1 lost the race: nothing of its transaction stays.
    await expect(transactions.run((tx) => mesh.updateObjects(tx, [{ id, objectType: 'person', version: 1, before, after: { employeeId: held('E9') } }], options()))).rejects.toThrow(ConcurrentChangeError);
    expect(await mesh.joinKeysOf(id)).toEqual({ employeeId: ['e9'], mail: ['new@x'] });
  });

  it('deletes with the version read, unlinking connector-space objects and removing links other mesh objects held to it', async () => {
    const { connectorId, runId } = await insertConnectorWithRun(dataSource);
    const [gone, group] = [randomUUID(), randomUUID()];
    await transactions.run((tx) =>
      mesh.insertObjects(
        tx,
        [
          { id: gone, objectType: 'person', attributes: { employeeId: held('E77') } },
          { id: group, objectType: 'group', attributes: { members: held([gone], 'ad', { reference: true }) } },
        ],
        options(),
      ),
    );
    const space = new ConnectorSpaceRepository(dataSource);
    await transactions.run((tx) => space.stageImportBatch(tx, { connectorId, runId, upserts: [staged('E77', { n: [1] })], deletes: [], unreadable: [], markSeen: false, now: new Date() }));
    await dataSource.getRepository(ConnectorSpaceObjectEntity).update({ connectorId, anchor: 'E77' }, { meshObjectId: gone });

    await expect(transactions.run((tx) => mesh.deleteObjects(tx, [{ id: gone, version: 7 }]))).rejects.toThrow(ConcurrentChangeError);
    await transactions.run((tx) => mesh.deleteObjects(tx, [{ id: gone, version: 1 }]));
    expect(await mesh.findById(gone)).toBeNull();
    expect((await space.findByAnchor(connectorId, 'person', 'E77'))?.meshObjectId).toBeNull();
    expect(await mesh.referencesOf(group)).toEqual({});
  });
});
