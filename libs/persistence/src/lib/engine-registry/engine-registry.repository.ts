import type { DataSource } from 'typeorm';
import { In, LessThan, MoreThan, MoreThanOrEqual, Not } from 'typeorm';
import type { EngineInstanceStatus, EngineInstanceView } from '@identitymesh/domain';
import { EngineInstanceEntity } from '../entities/engine-instance.entity';
import { ConnectorLeaseEntity } from '../entities/connector-lease.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { withDatabaseLock } from '../schema/database-lock';

export interface LeaseView {
  connectorId: string;
  engineInstanceId: string;
  fencingToken: number;
  acquiredAt: Date;
  expiresAt: Date;
}

/** The engine registry: which engine processes exist, their heartbeats and the connector leases they hold. */
export class EngineRegistryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Registers an engine while holding the registry lock, after `decide` has
   * looked at every engine not marked stopped. Two engines starting at the
   * same instant are thus decided one after the other, never both on an empty
   * registry.
   */
  async register<D extends { kind: string }>(
    self: EngineInstanceView,
    decide: (others: EngineInstanceView[]) => D,
    statusFor: (decision: D) => 'active' | 'passive' | undefined,
  ): Promise<D> {
    return withDatabaseLock(this.dataSource, 'engine-registry', async () => {
      const repo = this.dataSource.getRepository(EngineInstanceEntity);
      const rows = await repo.find({ where: { status: In(['active', 'passive']) } });
      const decision = decide(rows.map(toView));
      const status = statusFor(decision);
      if (status) await repo.insert({ ...self, mode: 'single', status, stoppedAt: null });
      return decision;
    });
  }

  /** Returns false when the row is gone or marked stopped: the engine must not go on as if registered. */
  async heartbeat(id: string, at: Date): Promise<boolean> {
    return withTransientRetry('engine heartbeat', async () => {
      const result = await this.dataSource
        .getRepository(EngineInstanceEntity)
        .createQueryBuilder()
        .update()
        .set({ heartbeatAt: at })
        .where('id = :id AND status <> :stopped', { id, stopped: 'stopped' })
        .execute();
      return (result.affected ?? 0) > 0;
    });
  }

  /** The engine's status in the registry, or null when its row is gone. */
  async statusOf(id: string): Promise<EngineInstanceStatus | null> {
    const row = await withTransientRetry('engine status', () => this.dataSource.getRepository(EngineInstanceEntity).findOne({ select: { status: true }, where: { id } }));
    return row?.status ?? null;
  }

  /**
   * Makes a passive engine the active one, unless a live active engine is
   * left. Engines still marked active whose last heartbeat is older than
   * `staleBefore` (or that are known to be dead: `replacing`) become passive
   * first, in the same transaction: such an engine may only be paused or
   * cut off, and when it comes back its heartbeat finds it passive, so it
   * stands by instead of acting as a second active engine. Serialized with
   * registrations and other promotions by the registry lock. False when a
   * live active engine is still there (its heartbeat came in meanwhile).
   */
  async promote(id: string, at: Date, options: { staleBefore: Date; replacing?: string[] }): Promise<boolean> {
    const replacing = options.replacing ?? [];
    return withDatabaseLock(this.dataSource, 'engine-registry', () =>
      withTransientRetry('engine promote', () =>
        this.dataSource.transaction(async (manager) => {
          const repo = manager.getRepository(EngineInstanceEntity);
          await repo.update({ id: Not(id), status: 'active', heartbeatAt: LessThan(options.staleBefore) }, { status: 'passive' });
          const dead = replacing.filter((other) => other !== id);
          if (dead.length > 0) await repo.update({ id: In(dead), status: 'active' }, { status: 'passive' });
          if ((await repo.count({ where: { id: Not(id), status: 'active' } })) > 0) return false;
          await repo.update({ id }, { status: 'active', heartbeatAt: at });
          return true;
        }),
      ),
    );
  }

  /**
   * Marks the engine stopped and ends its leases in one transaction, so no
   * lease outlives its owner's clean exit. The lease rows stay (expired): a
   * connector's fencing token must keep growing across holders.
   */
  async markStopped(id: string, at: Date): Promise<void> {
    await withTransientRetry('engine stop', () =>
      this.dataSource.transaction(async (manager) => {
        await manager.getRepository(ConnectorLeaseEntity).update({ engineInstanceId: id, expiresAt: MoreThan(at) }, { expiresAt: at });
        await manager.getRepository(EngineInstanceEntity).update({ id }, { status: 'stopped', stoppedAt: at, heartbeatAt: at });
      }),
    );
  }

  /** Engines that heartbeated since `since`, newest first, with the unexpired leases each holds. */
  async listRecent(since: Date): Promise<Array<EngineInstanceView & { leases: LeaseView[] }>> {
    const recent = await this.dataSource.getRepository(EngineInstanceEntity).find({
      where: { heartbeatAt: MoreThanOrEqual(since) },
      order: { heartbeatAt: 'DESC' },
    });
    const leases = recent.length
      ? await this.dataSource.getRepository(ConnectorLeaseEntity).find({ where: { engineInstanceId: In(recent.map((i) => i.id)), expiresAt: MoreThan(new Date()) } })
      : [];
    return recent.map((i) => ({
      ...toView(i),
      leases: leases.filter((l) => l.engineInstanceId === i.id).map((l) => ({ ...l, fencingToken: Number(l.fencingToken) })),
    }));
  }

  /** Removes rows of engines stopped before `before`; the registry is not an archive. */
  async pruneStopped(before: Date): Promise<number> {
    const result = await this.dataSource.getRepository(EngineInstanceEntity).delete({ status: 'stopped', stoppedAt: LessThan(before) });
    return result.affected ?? 0;
  }
}

function toView(row: EngineInstanceEntity): EngineInstanceView {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    version: row.version,
    status: row.status,
    startedAt: row.startedAt,
    heartbeatAt: row.heartbeatAt,
  };
}
