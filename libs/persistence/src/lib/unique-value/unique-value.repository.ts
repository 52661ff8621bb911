import type { DataSource, EntityManager } from 'typeorm';
import { Brackets } from 'typeorm';
import { uniqueValueKey } from '@identitymesh/domain';
import type { UniqueValueReservation } from '@identitymesh/domain';
import { UniqueValueReservationEntity } from '../entities/unique-value-reservation.entity';
import { insertRowsIgnoringConflicts } from '../data-source/bulk-insert';
import { chunked, rowsPerStatement } from '../data-source/dialect';
import { managerOf, Transaction } from '../transaction/transaction';

/** A value a composer wanted that another mesh object holds (or took first in a race). */
export interface ReservationConflict {
  reservation: UniqueValueReservation;
  /** The mesh object holding the value; null when this transaction cannot see the winner yet (MariaDB/MySQL's snapshot). */
  holder: string | null;
}

/** The column sizes of IM_UniqueValueReservations; a longer scope or value cannot be reserved. */
export const UNIQUE_VALUE_LIMITS = { scopeLength: 128, valueLength: 255 } as const;

// Parameters of one reservation row.
const RESERVATION_PARAMETERS = 5;

/**
 * `IM_UniqueValueReservations`: the values composer rules handed out
 * (jdoe, jdoe2, …), one row per scope and normalized value. The primary key
 * is the guarantee that two mesh objects never receive the same value, also
 * with two engines composing at the same moment: reservations are inserted
 * set-based with conflicts skipped, and read back; a value another mesh
 * object holds comes back as a conflict, and the composer moves on to its
 * next candidate.
 */
export class UniqueValueRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Who holds each of the values (already normalized, as normalizeUniqueValue
   * writes them): `uniqueValueKey(scope, value)` → mesh object id. One query
   * per parameter-limit chunk.
   */
  async findHolders(tx: Transaction, values: ReadonlyArray<{ scope: string; value: string }>): Promise<Map<string, string>> {
    const manager = managerOf(tx);
    const holders = new Map<string, string>();
    const wanted = new Map<string, { scope: string; value: string }>();
    for (const item of values) {
      if (item.scope.length > UNIQUE_VALUE_LIMITS.scopeLength || item.value.length > UNIQUE_VALUE_LIMITS.valueLength) continue;
      wanted.set(uniqueValueKey(item.scope, item.value), item);
    }
    for (const chunk of chunked([...wanted.values()], rowsPerStatement(manager, 1, 100))) {
      for (const row of await this.read(manager, chunk)) {
        const key = uniqueValueKey(row.scope, row.value);
        // A case- or accent-insensitive collation (MariaDB) may return a neighbour; only exact keys count.
        if (wanted.has(key)) holders.set(key, row.meshObjectId);
      }
    }
    return holders;
  }

  /**
   * Reserves values for mesh objects (which must exist in this
   * transaction), set-based: the rows are inserted with key conflicts
   * skipped, then read back. A value that is not this mesh object's
   * afterwards is returned as a conflict; a value the object held already
   * is simply its own. Two transactions racing for one value serialize on
   * its key: the second waits for the first's commit and gets the conflict.
   */
  async reserve(tx: Transaction, reservations: readonly UniqueValueReservation[], now: Date): Promise<ReservationConflict[]> {
    const manager = managerOf(tx);
    const conflicts: ReservationConflict[] = [];
    const rows = new Map<string, UniqueValueReservationEntity>();
    const wanted: UniqueValueReservation[] = [];
    for (const reservation of reservations) {
      const key = uniqueValueKey(reservation.scope, reservation.value);
      const earlier = rows.get(key);
      if (earlier) {
        if (earlier.meshObjectId !== reservation.meshObjectId) conflicts.push({ reservation, holder: earlier.meshObjectId });
        continue;
      }
      rows.set(key, { scope: reservation.scope, value: reservation.value, meshObjectId: reservation.meshObjectId, ruleId: reservation.ruleId, reservedAt: now });
      wanted.push(reservation);
    }
    // One key order for every writer: two engines reserving overlapping values wait for each other instead of deadlocking.
    const ordered = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    for (const chunk of chunked(ordered, rowsPerStatement(manager, RESERVATION_PARAMETERS))) await insertRowsIgnoringConflicts(manager, UniqueValueReservationEntity, chunk);
    const holders = new Map<string, string>();
    for (const chunk of chunked(wanted, rowsPerStatement(manager, 1, 100))) {
      for (const row of await this.read(manager, chunk)) holders.set(uniqueValueKey(row.scope, row.value), row.meshObjectId);
    }
    for (const reservation of wanted) {
      const holder = holders.get(uniqueValueKey(reservation.scope, reservation.value));
      if (holder !== reservation.meshObjectId) conflicts.push({ reservation, holder: holder ?? null });
    }
    return conflicts;
  }

  /** Gives values back: each row is deleted only while it is still the named mesh object's. */
  async release(tx: Transaction, releases: readonly UniqueValueReservation[]): Promise<void> {
    const manager = managerOf(tx);
    for (const chunk of chunked(releases, rowsPerStatement(manager, 3, 10))) {
      await manager
        .createQueryBuilder()
        .delete()
        .from(UniqueValueReservationEntity)
        .where(chunk.map((release) => ({ scope: release.scope, value: release.value, meshObjectId: release.meshObjectId })))
        .execute();
    }
  }

  /** The values a mesh object holds, by scope (Admin API, tests). */
  async heldBy(meshObjectId: string): Promise<Array<{ scope: string; value: string }>> {
    const rows = await this.dataSource.getRepository(UniqueValueReservationEntity).find({ where: { meshObjectId }, order: { scope: 'ASC', value: 'ASC' } });
    return rows.map((row) => ({ scope: row.scope, value: row.value }));
  }

  private read(manager: EntityManager, values: ReadonlyArray<{ scope: string; value: string }>): Promise<UniqueValueReservationEntity[]> {
    const byScope = new Map<string, string[]>();
    for (const item of values) {
      const list = byScope.get(item.scope) ?? [];
      list.push(item.value);
      byScope.set(item.scope, list);
    }
    return manager
      .getRepository(UniqueValueReservationEntity)
      .createQueryBuilder('u')
      .select(['u.scope', 'u.value', 'u.meshObjectId'])
      .where(
        new Brackets((where) => {
          let index = 0;
          for (const [scope, list] of byScope) {
            where.orWhere(`(u.scope = :s${index} AND u.value IN (:...v${index}))`, { [`s${index}`]: scope, [`v${index}`]: list });
            index++;
          }
        }),
      )
      .getMany();
  }
}
