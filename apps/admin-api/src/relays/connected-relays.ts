/** One socket of a relay, as its handshake described it. */
export interface RelaySocket {
  socketId: string;
  connectedAt: Date;
  host: string | null;
  version: string | null;
}

/** What `GET /api/relays` shows of a connected relay. */
export interface RelayPresence {
  relayGroup: string;
  socketIds: string[];
  /** When the oldest of its open sockets connected. */
  connectedSince: Date;
  /** What its newest socket reported. */
  host: string | null;
  version: string | null;
}

/**
 * The relays connected to this Admin API process, by relay id. A relay may
 * hold several sockets at once (a second agent started with the same
 * credential, or a reconnect seen before the old socket's close): each
 * joins the relay's rooms, and the relay counts as connected while any is
 * open. Kept in memory because sockets live and die with the process.
 */
export class ConnectedRelays {
  private readonly relays = new Map<string, { relayGroup: string; sockets: Map<string, RelaySocket> }>();

  add(relayId: string, relayGroup: string, socket: RelaySocket): void {
    let relay = this.relays.get(relayId);
    if (!relay) {
      relay = { relayGroup, sockets: new Map() };
      this.relays.set(relayId, relay);
    }
    relay.sockets.set(socket.socketId, socket);
  }

  remove(relayId: string, socketId: string): void {
    const relay = this.relays.get(relayId);
    if (!relay) return;
    relay.sockets.delete(socketId);
    if (relay.sockets.size === 0) this.relays.delete(relayId);
  }

  removeRelay(relayId: string): void {
    this.relays.delete(relayId);
  }

  has(relayId: string): boolean {
    return this.relays.has(relayId);
  }

  presence(relayId: string): RelayPresence | null {
    const relay = this.relays.get(relayId);
    if (!relay) return null;
    const sockets = [...relay.sockets.values()].sort((a, b) => a.connectedAt.getTime() - b.connectedAt.getTime());
    const oldest = sockets[0] as RelaySocket;
    const newest = sockets[sockets.length - 1] as RelaySocket;
    return { relayGroup: relay.relayGroup, socketIds: sockets.map((s) => s.socketId), connectedSince: oldest.connectedAt, host: newest.host, version: newest.version };
  }

  /** The socket a command goes to: the newest, the one most likely still alive after a reconnect. */
  newestSocket(relayId: string): string | null {
    const presence = this.presence(relayId);
    return presence ? (presence.socketIds[presence.socketIds.length - 1] ?? null) : null;
  }

  relayIds(): string[] {
    return [...this.relays.keys()];
  }

  groups(): string[] {
    return [...new Set([...this.relays.values()].map((r) => r.relayGroup))];
  }

  get size(): number {
    return this.relays.size;
  }
}
