import { z } from 'zod';
import { SECRET_PROVIDERS } from '@identitymesh/domain';
import { SECRET_REFERENCE_MAX_LENGTH, SECRET_REFERENCE_PATTERN } from '@identitymesh/secrets';
import { pageQueryShape, pageSchema } from '../../http/pagination';

/** The longest value secretscli stores; the same bound here, so both tools accept the same secrets. */
export const SECRET_VALUE_MAX_BYTES = 16 * 1024;

export const secretParams = z.strictObject({
  ref: z
    .string()
    .max(SECRET_REFERENCE_MAX_LENGTH)
    .regex(SECRET_REFERENCE_PATTERN, 'must be a secret reference: lower-case path segments of letters, digits, ".", "_" and "-" (ldap/corp/bind-password), with each "/" sent as %2F')
    .meta({ description: 'The reference, such as `ldap/corp/bind-password`, URL-encoded (`ldap%2Fcorp%2Fbind-password`)' }),
});

export const putSecretBody = z
  .strictObject({
    value: z
      .string()
      .min(1, 'must not be empty')
      .max(SECRET_VALUE_MAX_BYTES)
      .refine((value) => Buffer.byteLength(value, 'utf8') <= SECRET_VALUE_MAX_BYTES, `must be at most ${SECRET_VALUE_MAX_BYTES} bytes`)
      .meta({ description: 'The value; stored encrypted, never returned, logged or audited' }),
  })
  .meta({ id: 'PutSecretInput' });
export type PutSecretBody = z.output<typeof putSecretBody>;

export const secretResponse = z
  .object({
    reference: z.string(),
    provider: z.enum(SECRET_PROVIDERS),
    keyId: z.string().meta({ description: 'The key the value is protected under (`host:<fingerprint>`, `shared:<fingerprint>`, the vault)' }),
    version: z.int(),
    createdAt: z.string(),
    rotatedAt: z.string().nullable(),
  })
  .meta({ id: 'Secret', description: 'A stored secret without its value' });
export type SecretResponse = z.infer<typeof secretResponse>;

export const secretPage = pageSchema(secretResponse).meta({ id: 'SecretPage' });

export const listSecretsQuery = z.strictObject({ ...pageQueryShape });
