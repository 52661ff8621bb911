import { generateKeyPairSync } from 'node:crypto';
import { keyIdOf, parseTrustedKeys, publicKeyToBase64, TrustedKeyError } from './trusted-keys';

const a = generateKeyPairSync('ed25519');
const b = generateKeyPairSync('ed25519');
const pem = (key: typeof a.publicKey) => key.export({ type: 'spki', format: 'pem' }).toString();

function reader(files: Record<string, string>) {
  return { baseDir: '/var/lib/identitymesh', readFile: (path: string) => files[path] };
}

function problem(run: () => unknown): TrustedKeyError {
  try {
    run();
  } catch (error) {
    if (error instanceof TrustedKeyError) return error;
    throw error;
  }
  throw new Error('expected a TrustedKeyError');
}

describe('parseTrustedKeys', () => {
  it('trusts nothing when the setting is empty', () => {
    expect(parseTrustedKeys(undefined, reader({}))).toEqual([]);
    expect(parseTrustedKeys(' , ', reader({}))).toEqual([]);
  });

  it('reads a base64 SPKI key inline and a PEM file by path, relative to the base folder', () => {
    const keys = parseTrustedKeys(` ${publicKeyToBase64(a.publicKey)} , keys/vendor.pem`, reader({ '/var/lib/identitymesh/keys/vendor.pem': pem(b.publicKey) }));
    expect(keys.map((k) => [k.keyId, k.source])).toEqual([
      [keyIdOf(a.publicKey), 'inline'],
      [keyIdOf(b.publicKey), '/var/lib/identitymesh/keys/vendor.pem'],
    ]);
  });

  it('reads every public key of a PEM file (old and new key during a rotation) and counts a key listed twice once', () => {
    const keys = parseTrustedKeys(`/etc/im/keys.pem,${publicKeyToBase64(a.publicKey)}`, reader({ '/etc/im/keys.pem': pem(a.publicKey) + pem(b.publicKey) }));
    expect(keys.map((k) => k.keyId)).toEqual([keyIdOf(a.publicKey), keyIdOf(b.publicKey)]);
  });

  it('refuses a private key: the product never holds one', () => {
    const privatePem = a.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(problem(() => parseTrustedKeys('/keys/vendor-private.pem', reader({ '/keys/vendor-private.pem': privatePem }))).problem).toContain(
      'holds a private key; the product trusts public keys only',
    );
  });

  it('refuses a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(problem(() => parseTrustedKeys(publicKeyToBase64(rsa.publicKey), reader({}))).problem).toBe('is a rsa key; licenses are signed with Ed25519');
  });

  it('names the entry that is neither a file nor a key', () => {
    const error = problem(() => parseTrustedKeys('missing.pem', reader({})));
    expect(error.entry).toBe('missing.pem');
    expect(error.problem).toBe('is neither a readable PEM file (nothing at /var/lib/identitymesh/missing.pem) nor a base64 Ed25519 public key (SPKI DER)');
    expect(problem(() => parseTrustedKeys('/k.pem', reader({ '/k.pem': 'hello' }))).problem).toBe('/k.pem holds no "-----BEGIN PUBLIC KEY-----" block');
  });

  it('names a file that exists but cannot be read', () => {
    const unreadable = { baseDir: '/', readFile: () => { throw new Error('EACCES: permission denied'); } };
    expect(problem(() => parseTrustedKeys('/root/vendor.pem', unreadable)).problem).toBe('cannot be read (EACCES: permission denied)');
  });
});
