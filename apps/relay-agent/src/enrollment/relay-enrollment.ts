import { RELAY_CREDENTIAL_PREFIX } from '@identitymesh/connector-sdk';

/** What the agent sends to `POST /api/relays/enroll`. */
export interface EnrollmentRequest {
  token: string;
  name: string;
  host: string;
  version: string;
}

export type EnrollmentOutcome =
  /** The hub issued this relay's credential. */
  | { kind: 'enrolled'; relayId: string; relayGroup: string; credential: string }
  /** The hub will not enroll with this token or name; trying again cannot help. */
  | { kind: 'refused'; reason: string }
  /** The hub could not be reached or failed; the same request may be sent again later. */
  | { kind: 'unreachable'; reason: string };

export type Fetch = typeof fetch;

/**
 * Trades a one-time enrollment token for the relay's own credential. The
 * token is spent by the first answer that carries a credential; a refusal
 * (unknown, used or expired token, a name already taken) is final, while a
 * network failure or a server error leaves the token unspent.
 */
export async function enrollRelay(hubUrl: string, request: EnrollmentRequest, fetchFn: Fetch = fetch, timeoutMs = 30_000): Promise<EnrollmentOutcome> {
  let response: Response;
  try {
    response = await fetchFn(`${hubUrl}/api/relays/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: request.token, name: request.name, host: request.host.slice(0, 255), version: request.version.slice(0, 64) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { kind: 'unreachable', reason: `POST ${hubUrl}/api/relays/enroll failed: ${causeOf(error)}` };
  }
  const body = await response.json().catch(() => undefined);
  if (response.status === 201 || response.status === 200) {
    const enrolled = body as { relayId?: unknown; relayGroup?: unknown; credential?: unknown } | undefined;
    if (typeof enrolled?.credential === 'string' && enrolled.credential.startsWith(RELAY_CREDENTIAL_PREFIX) && typeof enrolled.relayId === 'string') {
      return { kind: 'enrolled', relayId: enrolled.relayId, relayGroup: String(enrolled.relayGroup ?? ''), credential: enrolled.credential };
    }
    // The token may be spent already; a retry would be refused, so say so instead of looping.
    return { kind: 'refused', reason: `the hub answered ${response.status} without a relay credential; create a new enrollment token` };
  }
  const detail = problemDetail(body);
  if (response.status === 401 || response.status === 403) {
    return { kind: 'refused', reason: `the enrollment token was refused (${response.status}${detail}): it is unknown, used or expired; create a new one with POST /api/relays/enrollments` };
  }
  if (response.status === 409) {
    return { kind: 'refused', reason: `the relay name is taken (${response.status}${detail}); set another IM_RELAY_NAME` };
  }
  if (response.status === 400 || response.status === 404 || response.status === 422) {
    return { kind: 'refused', reason: `the hub refused the enrollment request (${response.status}${detail})` };
  }
  return { kind: 'unreachable', reason: `the hub answered ${response.status}${detail}` };
}

function problemDetail(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { detail, title } = body as { detail?: unknown; title?: unknown };
  const text = typeof detail === 'string' ? detail : typeof title === 'string' ? title : undefined;
  return text ? `: ${text.slice(0, 300)}` : '';
}

function causeOf(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}
