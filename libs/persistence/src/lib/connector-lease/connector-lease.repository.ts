import type { DataSource, EntityManager } from 'typeorm';
import { LessThanOrEqual, MoreThan } from 'typeorm';
import { ConnectorLeaseEntity } from '../entities/connector-lease.entity';
import { isUniqueViolation } from '../data-source/dialect';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';
import { LeaseHolder, LeaseLostError } from './connector-lease.errors';

/**
 * When an engine may take a lease another engine holds:
 * - `when-expired`: only once it has run out (cluster mode: a dead engine's
 *   connectors move after the lease time);
 * - `always`: at once (single-instance mode: the one active engine takes
 *   every lease; whoever held it before is gone or a paused former active).
 */
export type LeaseTakeover = 'when-expired' | 'always';

/** A lease as granted to one engine. */
export interface LeaseGrant {
  connectorId: string;
  engineInstanceId: string;
  /** Grows with every acquisition of the connector's lease; writes carrying an older one are refused. */
  fencingToken: number;
  acquiredAt: Date;
  expiresAt: Date;
  /** The engine whose unexpired lease this acquisition took over, if any. */
  tookOverFrom: string | null;
}

export interface LeaseTiming {
  now: Date;
  /** How long the lease lasts without a renewal. */
  durationMs: number;
}

/** Two attempts lost to a concurrent acquirer mean someone else is actively taking it; give up for now. */
const ACQUIRE_ATTEMPTS = 3;

/**
 * `IM_ConnectorLeases`: which engine owns a connector while it runs it. One
 * row per connector, kept for good once created: releasing a lease only ends
 * it (`expiresAt` = now), so the fencing token keeps growing across holders
 * and a stale holder can never meet its own old token again.
 *
 * Every batch a run commits calls {@link assertLeaseHeld} inside its
 * transaction. That statement updates the lease row, so the transaction holds
 * the row's lock (PostgreSQL, MariaDB/MySQL, SQL Server) or SQLite's single
 * write lock until it commits: a takeover waits for the in-flight batch, and
 * the holder's next batch meets the new token and is refused.
 *
 * Times are the engines' clocks (hosts of a cluster keep NTP time); MariaDB
 * and MySQL store whole seconds, so there a lease may end up to a second early.
 */
export class ConnectorLeaseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Acquires the connector's lease for `engineInstanceId` with the next
   * fencing token, or returns null when another engine holds it and
   * `takeover` does not allow taking it. Each step is one atomic statement
   * (an insert of the first row, or a compare-and-set on the token seen), so
   * two engines acquiring at once never both succeed.
   */
  async acquire(connectorId: string, engineInstanceId: string, timing: LeaseTiming & { takeover: LeaseTakeover }): Promise<LeaseGrant | null> {
    const repo = this.dataSource.getRepository(ConnectorLeaseEntity);
    const expiresAt = new Date(timing.now.getTime() + timing.durationMs);
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      const current = await withTransientRetry('lease read', () => repo.findOneBy({ connectorId }));
      if (!current) {
        try {
          await repo.insert({ connectorId, engineInstanceId, fencingToken: 1, acquiredAt: timing.now, expiresAt });
          return { connectorId, engineInstanceId, fencingToken: 1, acquiredAt: timing.now, expiresAt, tookOverFrom: null };
        } catch (error) {
          if (isUniqueViolation(error)) continue;
          throw error;
        }
      }
      const otherHolder = current.engineInstanceId !== engineInstanceId;
      const unexpired = current.expiresAt.getTime() > timing.now.getTime();
      if (otherHolder && unexpired && timing.takeover === 'when-expired') return null;
      const seen = Number(current.fencingToken);
      // Compare-and-set on the token seen; in cluster mode also on the expiry,
      // so a lease renewed in between by a clock that runs late is not taken.
      const guard = otherHolder && timing.takeover === 'when-expired' ? { connectorId, fencingToken: seen, expiresAt: LessThanOrEqual(timing.now) } : { connectorId, fencingToken: seen };
      // Waits for an in-flight batch of the former holder: it holds this row's lock until it commits.
      const result = await repo.createQueryBuilder().update().set({ engineInstanceId, fencingToken: seen + 1, acquiredAt: timing.now, expiresAt }).where(guard).execute();
      if ((result.affected ?? 0) === 1) {
        return { connectorId, engineInstanceId, fencingToken: seen + 1, acquiredAt: timing.now, expiresAt, tookOverFrom: otherHolder && unexpired ? current.engineInstanceId : null };
      }
    }
    return null;
  }

  /**
   * Extends a lease this engine still holds under `fencingToken` and has not
   * let run out. Returns the new expiry, or null when the lease is lost: the
   * holder must then stop the run.
   */
  async renew(connectorId: string, engineInstanceId: string, fencingToken: number, timing: LeaseTiming): Promise<Date | null> {
    const expiresAt = new Date(timing.now.getTime() + timing.durationMs);
    const result = await withTransientRetry('lease renew', () =>
      this.dataSource
        .getRepository(ConnectorLeaseEntity)
        .createQueryBuilder()
        .update()
        .set({ expiresAt })
        .where({ connectorId, engineInstanceId, fencingToken, expiresAt: MoreThan(timing.now) })
        .execute(),
    );
    return (result.affected ?? 0) === 1 ? expiresAt : null;
  }

  /** Ends a lease this engine holds; the row and its token stay for the next holder. False when it was no longer ours. */
  async release(connectorId: string, engineInstanceId: string, fencingToken: number, now: Date): Promise<boolean> {
    const result = await withTransientRetry('lease release', () =>
      this.dataSource
        .getRepository(ConnectorLeaseEntity)
        .createQueryBuilder()
        .update()
        .set({ expiresAt: now })
        .where({ connectorId, engineInstanceId, fencingToken })
        .execute(),
    );
    return (result.affected ?? 0) === 1;
  }

  /**
   * Inside a batch's transaction: proves this engine still holds the lease
   * under `fencingToken` and takes the lease row's lock until the transaction
   * ends. Throws LeaseLostError otherwise; the caller lets the transaction
   * roll back. Call it first in the transaction, before any other write.
   */
  async assertLeaseHeld(tx: Transaction, connectorId: string, engineInstanceId: string, fencingToken: number, now: Date): Promise<void> {
    const manager = managerOf(tx);
    const qb = manager.getRepository(ConnectorLeaseEntity).createQueryBuilder().update();
    // A no-op write: it locks the row and counts it on every dialect (MySQL's
    // affected rows count matched rows because mysql2 sets FOUND_ROWS).
    const result = await qb
      .set({ fencingToken: () => qb.escape('fencingToken') })
      .where({ connectorId, engineInstanceId, fencingToken, expiresAt: MoreThan(now) })
      .execute();
    if ((result.affected ?? 0) === 1) return;
    throw new LeaseLostError(connectorId, engineInstanceId, fencingToken, await readHolder(manager, connectorId), now);
  }

  /** The connector's lease row as it is now (expired or not), or null when it was never leased. */
  async current(connectorId: string): Promise<LeaseHolder | null> {
    return readHolder(this.dataSource.manager, connectorId);
  }
}

async function readHolder(manager: EntityManager, connectorId: string): Promise<LeaseHolder | null> {
  const row = await manager.getRepository(ConnectorLeaseEntity).findOneBy({ connectorId });
  return row ? { engineInstanceId: row.engineInstanceId, fencingToken: Number(row.fencingToken), expiresAt: row.expiresAt } : null;
}
