import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from '@identitymesh/domain';
import { hubHandshakeAuthSchema, parseHubMessage, RELAY_CREDENTIAL_PREFIX } from '@identitymesh/connector-sdk';
import type { KeyRing } from '@identitymesh/key-ring';
import { EngineRegistryRepository, RelayRepository } from '@identitymesh/persistence';
import { secretFingerprint, verifyApiKeySecret } from '../auth/api-key-secret';
import { parseRelayCredential } from './relay-credentials';
import { refuse } from './relay-hub.errors';
import { RELAY_KEY_RING } from './relay-key-ring';

/** A relay agent, as its credential established it. */
export interface RelayPeer {
  kind: 'relay';
  relayId: string;
  name: string;
  relayGroup: string;
  /** What the handshake reported; null when it did not say. */
  host: string | null;
  version: string | null;
}

/** A sync engine, as its key ring token established it. */
export interface EnginePeer {
  kind: 'engine';
  instanceId: string;
}

export type HubPeer = RelayPeer | EnginePeer;

/** What an engine seals into its token (`keyRing.protect('relay-token', …)`). */
const engineTokenPayload = z.strictObject({ kind: z.literal('engine'), instanceId: z.string().min(1).max(64) });

/**
 * Decides who is at the other end of a hub socket, before it joins any
 * room: a relay by its credential (its status read from SQL each time, so a
 * revoked relay is refused at once), an engine by a key ring token whose
 * instance is registered and not stopped. Every refusal is a HubRefusal
 * with the protocol's code.
 */
@Injectable()
export class RelayHubAuthenticator {
  /**
   * Relay id → fingerprint of the secret last verified for it. scrypt costs
   * about 50 ms, and every relay reconnects at once after a hub restart; a
   * relay's secret never changes, so one verification per process is
   * enough. Status is not cached: it is read at each handshake.
   */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly relays: RelayRepository,
    private readonly engines: EngineRegistryRepository,
    @Inject(RELAY_KEY_RING) private readonly keyRing: KeyRing,
  ) {}

  async authenticate(auth: unknown): Promise<HubPeer> {
    const parsed = parseHubMessage(hubHandshakeAuthSchema, auth);
    if (!parsed.ok) throw refuse('HUB_UNAUTHENTICATED', `the handshake carries no usable credential (${parsed.message})`);
    const { token, host, version } = parsed.value;
    if (token.startsWith(RELAY_CREDENTIAL_PREFIX)) return this.relay(token, host ?? null, version ?? null);
    return this.engine(token);
  }

  /** Refuses a relay revoked since its handshake; called before each message it sends changes anything. */
  async assertActive(relayId: string): Promise<void> {
    const relay = await this.relays.find(relayId);
    if (!relay) throw refuse('HUB_UNAUTHENTICATED', 'this relay is no longer enrolled');
    if (relay.status !== 'active') throw refuse('RELAY_REVOKED', `relay "${relay.name}" was revoked`);
  }

  /** Drops what was verified of a relay (it was revoked): its next handshake pays the full check. */
  forget(relayId: string): void {
    this.verified.delete(relayId);
  }

  private async relay(credential: string, host: string | null, version: string | null): Promise<RelayPeer> {
    const parts = parseRelayCredential(credential);
    if (!parts) throw refuse('HUB_UNAUTHENTICATED', 'the relay credential is malformed');
    const relay = await this.relays.findWithCredential(parts.relayId);
    if (!relay) throw refuse('HUB_UNAUTHENTICATED', 'the relay credential is not valid');
    const fingerprint = secretFingerprint(parts.secret);
    if (this.verified.get(relay.id) !== fingerprint) {
      if (!(await verifyApiKeySecret(parts.secret, relay.credentialHash))) throw refuse('HUB_UNAUTHENTICATED', 'the relay credential is not valid');
      this.verified.set(relay.id, fingerprint);
    }
    // Checked after the secret, so a caller without the credential learns nothing about the relay.
    if (relay.status !== 'active') {
      this.forget(relay.id);
      throw refuse('RELAY_REVOKED', `relay "${relay.name}" was revoked; enroll it again to bring it back`);
    }
    return { kind: 'relay', relayId: relay.id, name: relay.name, relayGroup: relay.relayGroup, host, version };
  }

  private async engine(token: string): Promise<EnginePeer> {
    let bytes: Buffer;
    try {
      bytes = await this.keyRing.unprotect('relay-token', token);
    } catch (error) {
      // KEY_RING_* says the token is not good; anything else (the database) is the hub's trouble, and the engine tries again.
      if (error instanceof DomainError && error.code.startsWith('KEY_RING_')) throw refuse('HUB_UNAUTHENTICATED', `the engine token is not valid (${error.code})`);
      throw error;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw refuse('HUB_UNAUTHENTICATED', 'the engine token does not hold JSON');
    }
    const engine = engineTokenPayload.safeParse(payload);
    if (!engine.success) throw refuse('HUB_UNAUTHENTICATED', 'the token is not an engine token');
    const status = await this.engines.statusOf(engine.data.instanceId);
    if (status === null || status === 'stopped') throw refuse('HUB_UNAUTHENTICATED', `engine ${engine.data.instanceId} is not registered, or stopped`);
    return { kind: 'engine', instanceId: engine.data.instanceId };
  }
}
