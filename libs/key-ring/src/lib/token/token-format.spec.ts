import { randomBytes } from 'node:crypto';
import { deriveTokenKey, openToken, parseToken, sealToken } from './token-format';

const KID = '0194d2a0-1c2b-7d3e-8f40-123456789abc';

function sealed(purpose: 'session' | 'csrf' = 'session', payload = 'operator:alice', expiresAt?: Date) {
  const material = randomBytes(32);
  const tokenKey = deriveTokenKey(material, KID, purpose);
  return { material, tokenKey, token: sealToken(KID, tokenKey, purpose, Buffer.from(payload), expiresAt) };
}

function parsedOk(token: string) {
  const parsed = parseToken(token);
  if (!parsed.ok) throw new Error(`expected a parsable token, got ${parsed.problem}`);
  return parsed;
}

describe('token format v1', () => {
  it('is five base64url parts led by the version and the key id, and round-trips the payload and expiry', () => {
    const expiresAt = new Date('2026-05-01T10:00:00.123Z');
    const { tokenKey, token } = sealed('session', 'payload with ünïcode', expiresAt);
    expect(token).toMatch(/^v1\.0194d2a0-1c2b-7d3e-8f40-123456789abc\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(token).not.toContain('payload');
    const opened = openToken(parsedOk(token), tokenKey, 'session');
    expect(opened?.payload.toString('utf8')).toBe('payload with ünïcode');
    expect(opened?.expiresAt?.toISOString()).toBe('2026-05-01T10:00:00.123Z');
  });

  it('carries no expiry when none is given, and an empty payload', () => {
    const material = randomBytes(32);
    const tokenKey = deriveTokenKey(material, KID, 'csrf');
    const opened = openToken(parsedOk(sealToken(KID, tokenKey, 'csrf', Buffer.alloc(0), undefined)), tokenKey, 'csrf');
    expect(opened).toEqual({ payload: Buffer.alloc(0), expiresAt: null });
  });

  it('gives the same payload a different token every time (random IV)', () => {
    const material = randomBytes(32);
    const tokenKey = deriveTokenKey(material, KID, 'session');
    const a = sealToken(KID, tokenKey, 'session', Buffer.from('same'), undefined);
    const b = sealToken(KID, tokenKey, 'session', Buffer.from('same'), undefined);
    expect(a).not.toBe(b);
  });

  it('does not open for another purpose, even under the same key material', () => {
    const { material, token } = sealed('session');
    const parsed = parsedOk(token);
    // The derived key differs per purpose, and the purpose is associated data too: either alone refuses.
    expect(openToken(parsed, deriveTokenKey(material, KID, 'csrf'), 'csrf')).toBeUndefined();
    expect(openToken(parsed, deriveTokenKey(material, KID, 'session'), 'csrf')).toBeUndefined();
    expect(openToken(parsed, deriveTokenKey(material, KID, 'csrf'), 'session')).toBeUndefined();
    expect(deriveTokenKey(material, KID, 'session').equals(deriveTokenKey(material, KID, 'relay-token'))).toBe(false);
  });

  it('refuses a byte flipped in the IV, the ciphertext or the tag', () => {
    const { tokenKey, token } = sealed();
    for (const part of [2, 3, 4]) {
      const parts = token.split('.');
      const bytes = Buffer.from(parts[part], 'base64url');
      for (const index of [0, bytes.length - 1]) {
        const altered = Buffer.from(bytes);
        altered[index] ^= 0x01;
        const edited = [...parts];
        edited[part] = altered.toString('base64url');
        expect(openToken(parsedOk(edited.join('.')), tokenKey, 'session')).toBeUndefined();
      }
    }
  });

  it('refuses a token whose key id was changed, under the key named or the original one', () => {
    const { material, tokenKey, token } = sealed();
    const otherKid = '0194d2a0-1c2b-7d3e-8f40-123456789abd';
    const edited = token.replace(KID, otherKid);
    expect(openToken(parsedOk(edited), tokenKey, 'session')).toBeUndefined();
    expect(openToken(parsedOk(edited), deriveTokenKey(material, otherKid, 'session'), 'session')).toBeUndefined();
  });

  it('parses only canonical base64url of the right lengths', () => {
    const { token } = sealed();
    const parts = token.split('.');
    // The tag's last character carries 4 unused bits (canonically zero: A, Q, g or w); the next character decodes to the same bytes.
    const sibling = String.fromCharCode(parts[4].charCodeAt(parts[4].length - 1) + 1);
    const nonCanonical = [...parts.slice(0, 4), parts[4].slice(0, -1) + sibling].join('.');
    expect(Buffer.from(nonCanonical.split('.')[4], 'base64url').equals(Buffer.from(parts[4], 'base64url'))).toBe(true);
    expect(parseToken(nonCanonical)).toEqual({ ok: false, problem: 'malformed' });
    expect(parseToken([...parts.slice(0, 4), `${parts[4]}==`].join('.'))).toEqual({ ok: false, problem: 'malformed' });
    expect(parseToken([parts[0], parts[1], parts[2].slice(0, 12), parts[3], parts[4]].join('.'))).toEqual({ ok: false, problem: 'malformed' });
    expect(parseToken([parts[0], parts[1], parts[2], 'AAAA', parts[4]].join('.'))).toEqual({ ok: false, problem: 'malformed' });
  });

  it('names another format version as unsupported and anything else as malformed', () => {
    const { token } = sealed();
    expect(parseToken(token.replace(/^v1/, 'v2'))).toEqual({ ok: false, problem: 'unsupported-version' });
    expect(parseToken(token.replace(/^v1/, 'V1'))).toEqual({ ok: false, problem: 'malformed' });
    for (const garbage of ['', 'v1', 'v1....', 'not a token', `${token}.extra`, token.replace(KID, 'bad kid'), 'v1.a.b.c.d']) {
      expect(parseToken(garbage)).toEqual({ ok: false, problem: 'malformed' });
    }
    expect(parseToken(undefined)).toEqual({ ok: false, problem: 'malformed' });
    expect(parseToken(42)).toEqual({ ok: false, problem: 'malformed' });
  });
});
