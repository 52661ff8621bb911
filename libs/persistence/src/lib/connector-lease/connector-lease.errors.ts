import { DomainError } from '@identitymesh/domain';

/** What the lease row said when a holder's claim to it was refused. */
export interface LeaseHolder {
  engineInstanceId: string;
  fencingToken: number;
  expiresAt: Date;
}

/**
 * This engine no longer holds the connector's lease under the fencing token
 * it started with: another engine took the connector over, or the lease ran
 * out. Whatever the transaction that met it wrote is rolled back; the run
 * must stop without writing anything more.
 */
export class LeaseLostError extends DomainError {
  constructor(
    readonly connectorId: string,
    readonly engineInstanceId: string,
    readonly fencingToken: number,
    readonly holder: LeaseHolder | null,
    readonly at: Date,
  ) {
    super('LEASE_LOST', `engine ${engineInstanceId} no longer holds the lease of connector ${connectorId} (fencing token ${fencingToken}): ${describeHolder(engineInstanceId, fencingToken, holder, at)}; nothing of this transaction was committed`, {
      connectorId,
      engineInstanceId,
      fencingToken,
      holder: holder ? { ...holder, expiresAt: holder.expiresAt.toISOString() } : null,
    });
  }
}

function describeHolder(engineInstanceId: string, fencingToken: number, holder: LeaseHolder | null, at: Date): string {
  if (!holder) return 'the lease row is gone';
  if (holder.engineInstanceId !== engineInstanceId || holder.fencingToken !== fencingToken) {
    return `engine ${holder.engineInstanceId} took it over with fencing token ${holder.fencingToken}`;
  }
  return `it expired at ${holder.expiresAt.toISOString()} (now ${at.toISOString()})`;
}
