import { z } from 'zod';
import { PERMISSIONS } from '../../auth/permissions';
import { displayName } from '../../common/schemas';
import { pageQueryShape, pageSchema } from '../../http/pagination';

export const MAX_API_KEY_DAYS = 730;

export const createApiKeyBody = z
  .strictObject({
    name: displayName(128).meta({ description: 'What the key is for (`nightly export job`)' }),
    permissions: z
      .array(z.enum(PERMISSIONS))
      .min(1)
      .max(PERMISSIONS.length)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a permission')
      .meta({ description: 'What the key may do; at most what its creator may do' }),
    expiresInDays: z.int().min(1).max(MAX_API_KEY_DAYS).default(90).meta({ description: 'Days until the key stops working, 1 to 730' }),
  })
  .meta({ id: 'ApiKeyInput' });
export type CreateApiKeyBody = z.output<typeof createApiKeyBody>;

export const apiKeyResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The non-secret start of the key (`im_<prefix>_…`), shown in audit entries as `api-key:<prefix>`' }),
    permissions: z.array(z.string()),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyResponse = z.infer<typeof apiKeyResponse>;

export const createdApiKeyResponse = apiKeyResponse
  .extend({ key: z.string().meta({ description: 'The key itself, `im_<prefix>_<secret>`: shown this once, stored only as a hash' }) })
  .meta({ id: 'CreatedApiKey' });
export type CreatedApiKeyResponse = z.infer<typeof createdApiKeyResponse>;

export const apiKeyPage = pageSchema(apiKeyResponse).meta({ id: 'ApiKeyPage' });
export const listApiKeysQuery = z.strictObject({ ...pageQueryShape });
