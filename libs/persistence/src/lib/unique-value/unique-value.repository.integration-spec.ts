import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import type { UniqueValueReservation } from '@identitymesh/domain';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { UniqueValueReservationEntity } from '../entities/unique-value-reservation.entity';
import { MeshRepository } from '../mesh/mesh.repository';
import { TransactionRunner } from '../transaction/transaction';
import { UniqueValueRepository } from './unique-value.repository';

jest.setTimeout(120_000);

const OPTIONS = { joinAttributes: new Map<string, Set<string>>(), now: new Date() };

describe.each(TEST_DIALECTS)('unique value reservations on %s', (dialect) => {
  let db: ThrowawayDatabase;
  /** Two engines' connections. */
  let a: DataSource;
  let b: DataSource;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    a = await connectDatabase(db.settings);
    // SQLite serves one engine (cluster mode refuses it): its concurrent transactions share the one connection and queue on it.
    b = dialect === 'sqlite' ? a : await connectDatabase(db.settings);
    await migrateDatabase(a);
  });
  afterAll(async () => {
    if (b !== a) await b?.destroy();
    await a?.destroy();
    await db?.drop();
  });

  async function meshObjects(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    await new TransactionRunner(a).run((tx) => new MeshRepository(a).insertObjects(tx, ids.map((id) => ({ id, objectType: 'person', attributes: {} })), OPTIONS));
    return ids;
  }

  const reservation = (scope: string, value: string, meshObjectId: string): UniqueValueReservation => ({ scope, value, meshObjectId, ruleId: 'rule-1' });

  it('reserves set-based, treats a value the object holds as its own, reports values others hold, and releases only its own', async () => {
    const [john, jane] = await meshObjects(2);
    const scope = `account-${randomUUID()}`;
    const unique = new UniqueValueRepository(a);
    const tx = new TransactionRunner(a);

    expect(await tx.run((t) => unique.reserve(t, [reservation(scope, 'jdoe', john), reservation(scope, 'john.doe', john)], new Date()))).toEqual([]);
    // John asking again for what he holds is no conflict.
    const conflicts = await tx.run((t) => unique.reserve(t, [reservation(scope, 'jdoe', jane), reservation(scope, 'jdoe2', jane), reservation(scope, 'john.doe', john)], new Date()));
    expect(conflicts).toEqual([{ reservation: reservation(scope, 'jdoe', jane), holder: john }]);
    expect(await unique.heldBy(jane)).toEqual([{ scope, value: 'jdoe2' }]);
    // Two objects asking for one new value in one call: the first gets it.
    const [ann] = await meshObjects(1);
    expect(await tx.run((t) => unique.reserve(t, [reservation(scope, 'adoe', ann), reservation(scope, 'adoe', jane)], new Date()))).toEqual([{ reservation: reservation(scope, 'adoe', jane), holder: ann }]);

    const holders = await tx.run((t) => unique.findHolders(t, [{ scope, value: 'jdoe' }, { scope, value: 'jdoe2' }, { scope, value: 'jdoe3' }, { scope: 'other', value: 'jdoe' }]));
    expect(holders).toEqual(new Map([[`${scope}\u0000jdoe`, john], [`${scope}\u0000jdoe2`, jane]]));

    // Jane cannot give back John's value; John can.
    await tx.run((t) => unique.release(t, [reservation(scope, 'jdoe', jane), reservation(scope, 'john.doe', john)]));
    expect(await unique.heldBy(john)).toEqual([{ scope, value: 'jdoe' }]);
    expect(await unique.heldBy(ann)).toEqual([{ scope, value: 'adoe' }]);
  });

  it('goes with its mesh object', async () => {
    const [id] = await meshObjects(1);
    const scope = `account-${randomUUID()}`;
    const unique = new UniqueValueRepository(a);
    await new TransactionRunner(a).run((t) => unique.reserve(t, [reservation(scope, 'gone', id)], new Date()));
    await new TransactionRunner(a).run((t) => new MeshRepository(a).deleteObjects(t, [{ id, version: 1 }]));
    expect(await a.getRepository(UniqueValueReservationEntity).countBy({ scope })).toBe(0);
  });

  it('never gives one value to two mesh objects when two engines reserve it at the same moment', async () => {
    const [first, second] = await meshObjects(2);
    const scope = `account-${randomUUID()}`;
    const engines = [
      { dataSource: a, meshObjectId: first },
      { dataSource: b, meshObjectId: second },
    ];
    for (let round = 0; round < 10; round++) {
      const values = [`race${round}`, `both${round}`, `x${round}`];
      const outcomes = await Promise.all(
        engines.map(({ dataSource, meshObjectId }) =>
          new TransactionRunner(dataSource).runIdempotent('reserve', async (tx) => {
            const conflicts = await new UniqueValueRepository(dataSource).reserve(
              tx,
              values.map((value) => reservation(scope, value, meshObjectId)),
              new Date(),
            );
            // Keep the transaction open a moment, so the other engine's insert meets the uncommitted row.
            await new Promise((resolve) => setTimeout(resolve, 20));
            return { meshObjectId, won: values.filter((value) => !conflicts.some((conflict) => conflict.reservation.value === value)) };
          }),
        ),
      );
      const won = outcomes.flatMap((outcome) => outcome.won.map((value) => ({ value, meshObjectId: outcome.meshObjectId })));
      // Every value went to exactly one of them, and the table says the same.
      expect(won.map((w) => w.value).sort()).toEqual([...values].sort());
      const stored = await a.getRepository(UniqueValueReservationEntity).findBy(values.map((value) => ({ scope, value })));
      expect(stored.map((row) => `${row.value}=${row.meshObjectId}`).sort()).toEqual(won.map((w) => `${w.value}=${w.meshObjectId}`).sort());
    }
  });
});
