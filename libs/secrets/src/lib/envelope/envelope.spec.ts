import { randomBytes } from 'node:crypto';
import { SecretUnavailableError } from '../secret.errors';
import { EnvelopeKey, envelopeKeyId, keyFingerprint, openEnvelope, sealEnvelope } from './envelope';

const hostKey = (key = randomBytes(32)): EnvelopeKey => ({ id: keyFingerprint('host', key), key, provider: 'host' });
const REFERENCE = 'ldap/corp/bind-password';
const VALUE = 'Tr0ub4dor&3-ünïcødé';
const binding = { reference: REFERENCE, version: 3 };

/** Runs `work`, which must throw a SecretUnavailableError, and returns it. */
function unavailable(work: () => unknown): SecretUnavailableError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretUnavailableError);
    return error as SecretUnavailableError;
  }
  throw new Error('expected a SecretUnavailableError, but the blob opened');
}

/** Replaces one base64url character in the middle of `part` with another, so the decoded bytes change. */
function flipChar(part: string): string {
  const at = Math.floor(part.length / 2);
  const replacement = part[at] === 'A' ? 'B' : 'A';
  return part.slice(0, at) + replacement + part.slice(at + 1);
}

function withPart(blob: string, index: number, change: (part: string) => string): string {
  const parts = blob.split('.');
  parts[index] = change(parts[index]);
  return parts.join('.');
}

function withHeader(blob: string, change: (header: Record<string, string>) => void): string {
  return withPart(blob, 1, (part) => {
    const header = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    change(header);
    return Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  });
}

describe('envelope', () => {
  const kek = hostKey();

  it('round-trips a value, and seals it differently every time', () => {
    const a = sealEnvelope(VALUE, kek, binding);
    const b = sealEnvelope(VALUE, kek, binding);
    expect(a).not.toBe(b);
    expect(openEnvelope(a, kek, binding)).toBe(VALUE);
    expect(openEnvelope(b, kek, binding)).toBe(VALUE);
    expect(openEnvelope(sealEnvelope('', kek, binding), kek, binding)).toBe('');
  });

  it('writes a versioned blob that names its key and holds no plain value', () => {
    const blob = sealEnvelope(VALUE, kek, binding);
    expect(blob.split('.')).toHaveLength(4);
    expect(blob.startsWith('im1.')).toBe(true);
    expect(envelopeKeyId(blob)).toBe(kek.id);
    const header = JSON.parse(Buffer.from(blob.split('.')[1], 'base64url').toString('utf8'));
    expect(Object.keys(header).sort()).toEqual(['alg', 'iv', 'kid', 'wiv', 'wk']);
    expect(header.alg).toBe('A256GCM');
    expect(blob).not.toContain(VALUE);
    expect(Buffer.from(blob).includes(Buffer.from(VALUE, 'utf8'))).toBe(false);
  });

  it('derives key ids from the key: host:<16 hex>', () => {
    expect(kek.id).toMatch(/^host:[0-9a-f]{16}$/);
    expect(keyFingerprint('host', kek.key)).toBe(kek.id);
    expect(keyFingerprint('host', randomBytes(32))).not.toBe(kek.id);
  });

  it('refuses another key, naming both key ids, the reference and the host remedy', () => {
    const other = hostKey();
    const error = unavailable(() => openEnvelope(sealEnvelope(VALUE, kek, binding), other, binding));
    expect(error.code).toBe('SECRET_UNAVAILABLE');
    expect(error.reference).toBe(REFERENCE);
    expect(error.message).toContain(REFERENCE);
    expect(error.message).toContain(kek.id);
    expect(error.message).toContain(other.id);
    expect(error.message).toContain(`secretscli set ${REFERENCE}`);
    expect(error.message).toContain('rewrap --to shared-key');
  });

  it('names the shared-key remedy when a shared key does not match', () => {
    const sharedA: EnvelopeKey = { ...hostKey(), provider: 'shared-key' };
    const sharedB: EnvelopeKey = { ...hostKey(), provider: 'shared-key' };
    const error = unavailable(() => openEnvelope(sealEnvelope(VALUE, sharedA, binding), sharedB, binding));
    expect(error.message).toContain('IM_SECRETS_SHARED_KEY_FILE');
    expect(error.message).toContain(sharedA.id);
  });

  it('refuses a key that claims the right id but is not the key (a forged id)', () => {
    const impostor: EnvelopeKey = { ...hostKey(), id: kek.id };
    const error = unavailable(() => openEnvelope(sealEnvelope(VALUE, kek, binding), impostor, binding));
    expect(error.message).toContain(REFERENCE);
    expect(error.message).toContain('altered');
  });

  it('refuses the blob under another reference or another version', () => {
    const blob = sealEnvelope(VALUE, kek, binding);
    const otherRef = unavailable(() => openEnvelope(blob, kek, { reference: 'ldap/corp/other', version: 3 }));
    expect(otherRef.reference).toBe('ldap/corp/other');
    expect(otherRef.message).toContain('copied from another reference or version');
    const otherVersion = unavailable(() => openEnvelope(blob, kek, { reference: REFERENCE, version: 4 }));
    expect(otherVersion.message).toContain(`version 4 of ${REFERENCE}`);
    expect(otherVersion.message).toContain(`secretscli set ${REFERENCE}`);
  });

  it.each([
    ['the ciphertext', 2],
    ['the tag', 3],
    ['the header', 1],
  ])('refuses a blob whose %s was altered', (_part, index) => {
    const blob = withPart(sealEnvelope(VALUE, kek, binding), index, flipChar);
    const error = unavailable(() => openEnvelope(blob, kek, binding));
    expect(error.reference).toBe(REFERENCE);
    expect(error.message).toContain(`secretscli set ${REFERENCE}`);
  });

  it.each(['wk', 'wiv', 'iv'])('refuses a blob whose header field %s was altered', (field) => {
    const blob = withHeader(sealEnvelope(VALUE, kek, binding), (h) => {
      h[field] = flipChar(h[field]);
    });
    const error = unavailable(() => openEnvelope(blob, kek, binding));
    expect(error.message).toContain('altered');
  });

  it('refuses a header carrying an extra field (the header is authenticated as a whole)', () => {
    const blob = withHeader(sealEnvelope(VALUE, kek, binding), (h) => {
      h['note'] = 'x';
    });
    unavailable(() => openEnvelope(blob, kek, binding));
  });

  it('refuses a header that names another key id, as another key', () => {
    const blob = withHeader(sealEnvelope(VALUE, kek, binding), (h) => {
      h['kid'] = 'host:0000000000000000';
    });
    expect(unavailable(() => openEnvelope(blob, kek, binding)).message).toContain('sealed under key host:0000000000000000');
  });

  it('refuses a ciphertext swapped in from another blob of the same key', () => {
    const a = sealEnvelope(VALUE, kek, binding).split('.');
    const b = sealEnvelope('another value', kek, binding).split('.');
    unavailable(() => openEnvelope([a[0], a[1], b[2], b[3]].join('.'), kek, binding));
  });

  it.each([
    ['an empty string', ''],
    ['plain text', 'hunter2'],
    ['another format', 'im2.e30.AAAA.AAAA'],
    ['a truncated blob', 'TRUNCATE'],
    ['a header that is not JSON', 'im1.bm90IGpzb24.AAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a header of the wrong algorithm', 'ALG'],
    ['a short tag', 'SHORT_TAG'],
    ['characters outside base64url', 'BAD_CHARS'],
  ])('refuses %s as not a sealed secret, without a crypto error', (_case, input) => {
    const sealed = sealEnvelope(VALUE, kek, binding);
    const blob =
      input === 'TRUNCATE'
        ? sealed.slice(0, sealed.lastIndexOf('.'))
        : input === 'ALG'
          ? withHeader(sealed, (h) => {
              h['alg'] = 'A128GCM';
            })
          : input === 'SHORT_TAG'
            ? withPart(sealed, 3, (p) => p.slice(0, 8))
            : input === 'BAD_CHARS'
              ? withPart(sealed, 2, (p) => `${p}+/=`)
              : input;
    const error = unavailable(() => openEnvelope(blob, kek, binding));
    expect(error.message).toContain(`secret ${REFERENCE} cannot be decrypted here`);
    expect(error.message).toContain('secretscli set');
    expect(error.message).not.toMatch(/Unsupported state|auth|bad decrypt|Invalid/i);
    expect(error.stack ?? '').not.toMatch(/node:internal\/crypto/);
  });

  it('never reports the crypto library error, for any failure', () => {
    const blob = withPart(sealEnvelope(VALUE, kek, binding), 3, flipChar);
    const error = unavailable(() => openEnvelope(blob, kek, binding));
    expect(error.message).not.toMatch(/Unsupported state or unable to authenticate data/);
    expect((error as Error & { cause?: unknown }).cause).toBeUndefined();
  });
});
