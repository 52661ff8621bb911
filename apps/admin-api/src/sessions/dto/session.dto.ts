import { z } from 'zod';
import { PERMISSIONS, ROLE_NAMES } from '../../auth/permissions';
import { isoTime } from '../../common/schemas';

/**
 * What the identity provider appends to the redirect URI (RFC 6749 §4.1.2,
 * RFC 9207 `iss`, OpenID Session Management `session_state`); anything else
 * is refused like any unknown query parameter.
 */
export const callbackQuery = z.strictObject({
  code: z.string().min(1).max(2048).optional(),
  state: z.string().min(1).max(512).optional(),
  iss: z.string().min(1).max(2048).optional(),
  error: z.string().min(1).max(256).optional(),
  error_description: z.string().max(2048).optional(),
  error_uri: z.string().max(2048).optional(),
  session_state: z.string().max(2048).optional(),
});
export type CallbackQuery = z.output<typeof callbackQuery>;

export const sessionResponse = z
  .union([
    z.object({ authenticated: z.literal(false) }),
    z.object({
      authenticated: z.literal(true),
      subject: z.string().meta({ description: 'The `sub` of the ID token' }),
      name: z.string().meta({ description: 'The name claim (`IM_OIDC_NAME_CLAIM`), as the audit log records the operator' }),
      roles: z.array(z.enum(ROLE_NAMES)),
      permissions: z.array(z.enum(PERMISSIONS)),
      issuedAt: isoTime,
      expiresAt: isoTime.meta({ description: 'The absolute end of the session (`IM_SESSION_MAX_HOURS` after sign-in)' }),
      idleExpiresAt: isoTime.meta({ description: 'When the session ends unless used before (`IM_SESSION_IDLE_MINUTES` after its last use)' }),
      csrfToken: z.string().meta({ description: 'Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE authenticated by the session cookie' }),
    }),
  ])
  .meta({ id: 'Session' });
export type SessionResponse = z.output<typeof sessionResponse>;
