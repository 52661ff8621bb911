import type { DataSource } from 'typeorm';
import { In, IsNull, MoreThan } from 'typeorm';
import { chunked, isUniqueViolation, rowsPerStatement } from '../data-source/dialect';
import { RelayEnrollmentEntity } from '../entities/relay-enrollment.entity';
import { RelayEntity } from '../entities/relay.entity';
import type { RelayStatus } from '../entities/relay.entity';
import { withTransientRetry } from '../retry/retry-policy';

/** An enrolled relay as the hub and the Admin API see it; the credential hash stays in the repository. */
export interface RelayView {
  id: string;
  name: string;
  relayGroup: string;
  host: string | null;
  version: string | null;
  status: RelayStatus;
  enrolledAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
}

/** Why an enrollment token was not redeemed. */
export type RedeemRefusal = 'unknown' | 'used' | 'expired' | 'name-taken';

export interface NewRelayEnrollment {
  id: string;
  /** sha256 of the whole token; the token itself is shown once and never stored. */
  tokenHash: string;
  relayGroup: string;
  expiresAt: Date;
  createdBy: string;
}

export interface RelayRedemption {
  enrollmentId: string;
  tokenHash: string;
  relayId: string;
  name: string;
  host: string | null;
  version: string | null;
  /** The new relay credential's salted hash, made by the Admin API. */
  credentialHash: string;
}

/** The relay name is taken: the redemption's transaction rolls back, so the token stays usable. */
class RelayNameTaken extends Error {}

/**
 * `IM_Relays` and `IM_RelayEnrollments`: one-time enrollment tokens, the
 * relays they enrolled, revocation and liveness. Whether a presented token or
 * credential matches is the Admin API's to judge (it hashes); this stores
 * hashes and decides atomically what may happen once.
 */
export class RelayRepository {
  constructor(private readonly dataSource: DataSource) {}

  async createEnrollment(input: NewRelayEnrollment, now: Date): Promise<void> {
    await this.dataSource.getRepository(RelayEnrollmentEntity).insert({ ...input, usedAt: null, relayId: null, createdAt: now });
  }

  /**
   * Trades an enrollment token for a relay, in one transaction: marks the
   * token used with a conditional update (unused, unexpired, hash matching),
   * inserts the relay in the token's group and links it to the token. Two
   * redemptions of one token never both succeed; a taken name rolls back the
   * whole redemption, so the token can be used again with another name.
   */
  async redeemEnrollment(input: RelayRedemption, now: Date): Promise<{ relay: RelayView } | { refused: RedeemRefusal }> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const enrollments = manager.getRepository(RelayEnrollmentEntity);
        const claimed = await enrollments
          .createQueryBuilder()
          .update()
          .set({ usedAt: now })
          .where({ id: input.enrollmentId, tokenHash: input.tokenHash, usedAt: IsNull(), expiresAt: MoreThan(now) })
          .execute();
        const enrollment = await enrollments.findOneBy({ id: input.enrollmentId });
        if ((claimed.affected ?? 0) !== 1 || !enrollment) return { refused: refusalOf(enrollment, input.tokenHash) };

        const relay: RelayEntity = {
          id: input.relayId,
          name: input.name,
          relayGroup: enrollment.relayGroup,
          host: input.host,
          version: input.version,
          credentialHash: input.credentialHash,
          status: 'active',
          enrolledAt: now,
          revokedAt: null,
          lastSeenAt: null,
        };
        try {
          await manager.getRepository(RelayEntity).insert({ ...relay });
        } catch (error) {
          if (isUniqueViolation(error)) throw new RelayNameTaken();
          throw error;
        }
        await enrollments.update({ id: input.enrollmentId }, { relayId: input.relayId });
        return { relay: toView(relay) };
      });
    } catch (error) {
      // Caught outside the transaction: PostgreSQL refuses every statement after a failed one.
      if (error instanceof RelayNameTaken) return { refused: 'name-taken' };
      throw error;
    }
  }

  /** The relay with its credential hash, for the hub's handshake. */
  async findWithCredential(relayId: string): Promise<(RelayView & { credentialHash: string }) | null> {
    const row = await withTransientRetry('relay find', () => this.dataSource.getRepository(RelayEntity).findOneBy({ id: relayId }));
    return row ? { ...toView(row), credentialHash: row.credentialHash } : null;
  }

  async find(relayId: string): Promise<RelayView | null> {
    const row = await withTransientRetry('relay find', () => this.dataSource.getRepository(RelayEntity).findOneBy({ id: relayId }));
    return row ? toView(row) : null;
  }

  /** Every relay by name; a deployment has a handful to a few hundred. */
  async list(): Promise<RelayView[]> {
    const rows = await withTransientRetry('relays list', () => this.dataSource.getRepository(RelayEntity).find({ order: { name: 'ASC', id: 'ASC' } }));
    return rows.map(toView);
  }

  /** Revokes the relay; a second revocation changes nothing (the first time stays). Null when there is no such relay. */
  async revoke(relayId: string, now: Date): Promise<RelayView | null> {
    const relays = this.dataSource.getRepository(RelayEntity);
    await withTransientRetry('relay revoke', () => relays.createQueryBuilder().update().set({ status: 'revoked', revokedAt: now }).where({ id: relayId, status: 'active' }).execute());
    return this.find(relayId);
  }

  /**
   * Records that the relays were seen now (the hub calls it for every
   * connected relay at once), and what a relay reported about itself when
   * given; an absent field keeps the stored value.
   */
  async touch(relayIds: string[], now: Date, reported: { host?: string | null; version?: string | null } = {}): Promise<void> {
    const ids = [...new Set(relayIds)];
    if (ids.length === 0) return;
    const set: Partial<Pick<RelayEntity, 'lastSeenAt' | 'host' | 'version'>> = { lastSeenAt: now };
    if (reported.host !== undefined) set.host = reported.host;
    if (reported.version !== undefined) set.version = reported.version;
    const relays = this.dataSource.getRepository(RelayEntity);
    for (const chunk of chunked(ids, rowsPerStatement(this.dataSource, 1, Object.keys(set).length))) {
      await withTransientRetry('relays touch', () => relays.createQueryBuilder().update().set(set).where({ id: In(chunk) }).execute());
    }
  }
}

function refusalOf(enrollment: RelayEnrollmentEntity | null, tokenHash: string): RedeemRefusal {
  // A token whose secret does not match is as unknown as one that never existed.
  if (!enrollment || enrollment.tokenHash !== tokenHash) return 'unknown';
  return enrollment.usedAt ? 'used' : 'expired';
}

function toView(row: RelayEntity): RelayView {
  return {
    id: row.id,
    name: row.name,
    relayGroup: row.relayGroup,
    host: row.host,
    version: row.version,
    status: row.status,
    enrolledAt: row.enrolledAt,
    revokedAt: row.revokedAt,
    lastSeenAt: row.lastSeenAt,
  };
}
