import type { Request } from 'express';
import type { AuditActorType } from '@identitymesh/domain';
import type { SessionState } from '../sessions/session-tokens';
import type { Permission } from './permissions';

/** Who is calling, as the guard established it. */
export interface Principal {
  /** How the caller signed in: a bearer access token, an API key, or the browser's session cookie. */
  via: 'oidc' | 'api-key' | 'session';
  /** The audited name: the token's (or the session's) name claim (or `sub`), or `api-key:<prefix>`. */
  actor: string;
  actorType: Extract<AuditActorType, 'operator' | 'api-key'>;
  permissions: ReadonlySet<Permission>;
  /** The key's id when `via` is `api-key`. */
  apiKeyId?: string;
  /** The session when `via` is `session`, so the guard can renew its idle deadline. */
  session?: SessionState;
}

const PRINCIPAL = Symbol('identitymesh.principal');

type WithPrincipal = Request & { [PRINCIPAL]?: Principal };

export function setPrincipal(request: Request, principal: Principal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

/** The caller of an authenticated route; a public route has none. */
export function principalOf(request: Request): Principal {
  const principal = (request as WithPrincipal)[PRINCIPAL];
  if (!principal) throw new Error('no authenticated caller on this request (a public route asked for one)');
  return principal;
}
