import { enrollmentTokenHash, newEnrollmentToken, newRelayCredential, parseEnrollmentToken, parseRelayCredential } from './relay-credentials';

describe('relay credentials', () => {
  it('makes enrollment tokens that parse back to their enrollment and hash to what is stored', () => {
    const { id, token, tokenHash } = newEnrollmentToken();
    expect(token).toMatch(/^ime_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/);
    expect(parseEnrollmentToken(token)).toEqual({ enrollmentId: id });
    expect(enrollmentTokenHash(token)).toBe(tokenHash);
    expect(tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(newEnrollmentToken().token).not.toBe(token);
  });

  it('makes relay credentials that parse back to the relay and the secret', () => {
    const relayId = '6f1c1f0e-7a0b-4c55-9d7e-0b2b8e4f2a10';
    const { secret, credential } = newRelayCredential(relayId);
    expect(credential).toBe(`imr_${relayId}_${secret}`);
    expect(parseRelayCredential(credential)).toEqual({ relayId, secret });
  });

  it.each([
    ['another prefix', (t: string) => t.replace(/^ime_/, 'imr_')],
    ['an upper-case id', (t: string) => t.replace(/^ime_([0-9a-f-]+)/, (_m, id: string) => `ime_${id.toUpperCase()}`)],
    ['a short secret', (t: string) => t.slice(0, -1)],
    ['trailing text', (t: string) => `${t} `],
    ['a character outside base64url', (t: string) => `${t.slice(0, -1)}+`],
  ])('refuses an enrollment token with %s', (_what, spoil) => {
    expect(parseEnrollmentToken(spoil(newEnrollmentToken().token))).toBeNull();
  });

  it('tells relay credentials and enrollment tokens apart', () => {
    const { token } = newEnrollmentToken();
    const { credential } = newRelayCredential('6f1c1f0e-7a0b-4c55-9d7e-0b2b8e4f2a10');
    expect(parseRelayCredential(token)).toBeNull();
    expect(parseEnrollmentToken(credential)).toBeNull();
    expect(parseRelayCredential('im_000000000000_' + 'A'.repeat(43))).toBeNull();
  });
});
