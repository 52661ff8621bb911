import { hashApiKeySecret, newApiKey, parseApiKey, verifyApiKeySecret } from './api-key-secret';

describe('API key secrets', () => {
  it('makes keys of the documented shape whose parts parse back', () => {
    const key = newApiKey();
    expect(key.token).toMatch(/^im_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key.token)).toEqual({ prefix: key.prefix, secret: key.secret });
    for (const malformed of ['im_123_abc', `im_${key.prefix}_${key.secret}x`, `IM_${key.prefix}_${key.secret}`, key.secret, '']) expect(parseApiKey(malformed)).toBeNull();
  });

  it('stores a salted scrypt hash that verifies the secret and nothing else', async () => {
    const { secret } = newApiKey();
    const hash = await hashApiKeySecret(secret);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(hash).not.toContain(secret);
    expect(await hashApiKeySecret(secret)).not.toBe(hash);
    expect(await verifyApiKeySecret(secret, hash)).toBe(true);
    expect(await verifyApiKeySecret(newApiKey().secret, hash)).toBe(false);
    expect(await verifyApiKeySecret(secret, 'plain$text')).toBe(false);
  });
});
