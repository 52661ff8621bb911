import type { HubAck, HubErrorCode } from '@identitymesh/connector-sdk';

/**
 * Why the hub refused a handshake or a message, with the protocol's code.
 * It becomes the handshake error (`<CODE>: <message>`, `data.code`) or the
 * message's acknowledgement; it never reaches the REST problem filter.
 */
export class HubRefusal extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HubRefusal';
  }

  ack(): HubAck {
    return { ok: false, code: this.code, message: this.message };
  }

  /** The error socket.io hands to the peer's `connect_error`. */
  handshakeError(): Error & { data: { code: HubErrorCode } } {
    return Object.assign(new Error(`${this.code}: ${this.message}`), { data: { code: this.code } });
  }
}

export function refuse(code: HubErrorCode, message: string): HubRefusal {
  return new HubRefusal(code, message);
}
