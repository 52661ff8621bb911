import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AuditRepository, RelayRepository, RelayView } from '@identitymesh/persistence';
import { assertUnreachable } from '@identitymesh/domain';
import { auditEntry } from '../audit/audit-entry';
import { hashApiKeySecret } from '../auth/api-key-secret';
import type { Principal } from '../auth/principal';
import { iso } from '../common/schemas';
import { ApiError, notFound } from '../http/api-error';
import { CreateEnrollmentBody, ENROLLMENT_DEFAULT_MINUTES, EnrollBody, EnrolledResponse, EnrollmentResponse, RelayResponse } from './dto/relay.dto';
import { enrollmentTokenHash, newEnrollmentToken, newRelayCredential, parseEnrollmentToken } from './relay-credentials';
import { RelayHubGateway } from './relay-hub.gateway';

/**
 * Relays as operators manage them: one-time enrollment tokens, the trade of
 * a token for a relay's own credential, the list with who is connected,
 * and revocation (which closes the relay's sockets at once).
 */
@Injectable()
export class RelaysService {
  private readonly logger = new Logger('Relays');

  constructor(
    private readonly relays: RelayRepository,
    private readonly audit: AuditRepository,
    private readonly hub: RelayHubGateway,
  ) {}

  async createEnrollment(body: CreateEnrollmentBody, principal: Principal): Promise<EnrollmentResponse> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + (body.expiresInMinutes ?? ENROLLMENT_DEFAULT_MINUTES) * 60_000);
    const { id, token, tokenHash } = newEnrollmentToken();
    await this.relays.createEnrollment({ id, tokenHash, relayGroup: body.relayGroup, expiresAt, createdBy: principal.actor }, now);
    await this.audit.append([auditEntry(principal, 'relay.enrollment.create', { type: 'relay-enrollment', id }, { after: { relayGroup: body.relayGroup, expiresAt: expiresAt.toISOString() } }, now)]);
    return { id, relayGroup: body.relayGroup, expiresAt: expiresAt.toISOString(), token };
  }

  /** @throws ApiError UNAUTHENTICATED for a token that is unknown, used or expired (the same answer for each), NAME_TAKEN (the token stays usable). */
  async enroll(body: EnrollBody): Promise<EnrolledResponse> {
    const token = parseEnrollmentToken(body.token);
    if (!token) throw refusedToken();
    const relayId = randomUUID();
    const { secret, credential } = newRelayCredential(relayId);
    const now = new Date();
    const outcome = await this.relays.redeemEnrollment(
      {
        enrollmentId: token.enrollmentId,
        tokenHash: enrollmentTokenHash(body.token),
        relayId,
        name: body.name,
        host: body.host ?? null,
        version: body.version ?? null,
        credentialHash: await hashApiKeySecret(secret),
      },
      now,
    );
    if ('refused' in outcome) {
      switch (outcome.refused) {
        case 'name-taken':
          throw new ApiError('NAME_TAKEN', `a relay named ${JSON.stringify(body.name)} exists already; choose another name (the enrollment token is still usable)`);
        case 'unknown':
        case 'used':
        case 'expired':
          // Why stays in the log: the caller has no credential yet, and must not learn which tokens exist.
          this.logger.warn(`enrollment ${token.enrollmentId} refused: the token is ${outcome.refused}`);
          throw refusedToken();
        default:
          return assertUnreachable(outcome.refused);
      }
    }
    const relay = outcome.relay;
    await this.audit.append([
      { actorType: 'relay', actor: `relay:${relay.name}`, action: 'relay.enroll', targetType: 'relay', targetId: relay.id, before: null, after: JSON.parse(JSON.stringify(this.toResponse(relay))) as Record<string, unknown>, at: now },
    ]);
    return { relayId: relay.id, name: relay.name, relayGroup: relay.relayGroup, credential };
  }

  async list(): Promise<RelayResponse[]> {
    return (await this.relays.list()).map((relay) => this.toResponse(relay));
  }

  async get(id: string): Promise<RelayResponse> {
    const relay = await this.relays.find(id);
    if (!relay) throw notFound('relay', id);
    return this.toResponse(relay);
  }

  /** Idempotent: a relay revoked already is answered as it is, and audited once. */
  async revoke(id: string, principal: Principal): Promise<RelayResponse> {
    const before = await this.relays.find(id);
    if (!before) throw notFound('relay', id);
    const now = new Date();
    const after = await this.relays.revoke(id, now);
    if (!after) throw notFound('relay', id);
    // After the row says revoked, so a socket that reconnects at once is refused at its handshake.
    this.hub.expel(id);
    if (before.status === 'active') {
      await this.audit.append([auditEntry(principal, 'relay.revoke', { type: 'relay', id }, { before: this.toResponse(before), after: this.toResponse(after) }, now)]);
    }
    return this.toResponse(after);
  }

  toResponse(relay: RelayView): RelayResponse {
    const presence = relay.status === 'active' ? this.hub.presence(relay.id) : null;
    return {
      id: relay.id,
      name: relay.name,
      relayGroup: relay.relayGroup,
      host: presence?.host ?? relay.host,
      version: presence?.version ?? relay.version,
      status: relay.status,
      connected: presence !== null,
      connectedSince: presence ? presence.connectedSince.toISOString() : null,
      instanceId: presence ? this.hub.instanceId : null,
      lastSeenAt: iso(relay.lastSeenAt),
      enrolledAt: relay.enrolledAt.toISOString(),
      revokedAt: iso(relay.revokedAt),
    };
  }
}

function refusedToken(): ApiError {
  return new ApiError('UNAUTHENTICATED', 'the enrollment token is not valid: unknown, used already or expired; ask an operator for a new one');
}
