import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DomainError } from '@identitymesh/domain';
import type { KeyMaterialProtector, ProtectedKeyMaterial } from '../key-ring.port';

/**
 * A secret provider's behaviour without the secrets lib (which this lib's
 * tests may not import): AES-256-GCM under a random key, the reference and
 * version bound in, and SECRET_UNAVAILABLE for anything that does not open.
 * The persistence lib's integration test runs the ring with the real providers.
 */
export class TestProtector implements KeyMaterialProtector {
  readonly keyId: string;
  calls = { protect: 0, unprotect: 0, forget: [] as string[] };

  constructor(
    readonly name = 'shared-key',
    private readonly key: Buffer = randomBytes(32),
  ) {
    this.keyId = `test:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  }

  async currentKeyId(): Promise<string> {
    return this.keyId;
  }

  async protect(reference: string, version: number, value: string): Promise<ProtectedKeyMaterial> {
    this.calls.protect++;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${reference}#${version}`));
    const sealed = Buffer.concat([iv, cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext: sealed.toString('base64url'), keyId: this.keyId };
  }

  async unprotect(reference: string, version: number, stored: ProtectedKeyMaterial): Promise<string> {
    this.calls.unprotect++;
    const sealed = Buffer.from(stored.ciphertext, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${reference}#${version}`));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new DomainError('SECRET_UNAVAILABLE', `secret ${reference} cannot be decrypted here: it was sealed under key ${stored.keyId}, and the key here is ${this.keyId}`);
    }
  }

  async forget(reference: string): Promise<void> {
    this.calls.forget.push(reference);
  }
}
