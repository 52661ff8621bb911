import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { checkLicenseDates, CLOCK_SKEW_MS, issueLicense, LICENSE_HEADER, parseLicense, verifyLicense } from './license-format';
import { LicenseError, LicenseErrorCode } from './license.errors';
import { keyIdOf, TrustedKey } from './trusted-keys';

const vendor = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const trust = (publicKey: KeyObject): TrustedKey => ({ keyId: keyIdOf(publicKey), publicKey, source: 'test' });
const trusted = [trust(vendor.publicKey)];

const issuedAt = new Date('2025-01-01T00:00:00Z');
const expiresAt = new Date('2025-12-31T23:59:59Z');
const during = new Date('2025-06-01T12:00:00Z');

function issue(overrides: Partial<Parameters<typeof issueLicense>[0]> = {}): string {
  return issueLicense({ privateKey: vendor.privateKey, customer: 'Contoso', issuedAt, expiresAt, limits: { connectors: 10 }, licenseId: 'lic-1', ...overrides });
}

/** The error a verification throws; fails the test when it does not throw one. */
function failure(run: () => unknown): LicenseError {
  try {
    run();
  } catch (error) {
    if (error instanceof LicenseError) return error;
    throw error;
  }
  throw new Error('expected a LicenseError, but the license was accepted');
}

const lines = (text: string) => text.split('\n');

describe('license format', () => {
  it('issues a three-line file whose payload reads back exactly as issued', () => {
    const text = issue({ evaluation: true, limits: { connectors: 10, objects: 50_000 } });
    expect(lines(text)[0]).toBe(LICENSE_HEADER);
    expect(lines(text)[2]).toMatch(/^signature: [A-Za-z0-9+/]{86}==$/);
    expect(verifyLicense(text, trusted, during)).toEqual({
      licenseId: 'lic-1',
      customer: 'Contoso',
      issuedAt: '2025-01-01T00:00:00.000Z',
      expiresAt: '2025-12-31T23:59:59.000Z',
      limits: { connectors: 10, objects: 50_000 },
      evaluation: true,
      keyId: keyIdOf(vendor.publicKey),
    });
  });

  it('defaults to no limits and a non-evaluation license', () => {
    const payload = verifyLicense(issue({ limits: undefined }), trusted, during);
    expect(payload.limits).toEqual({ connectors: null, objects: null });
    expect(payload.evaluation).toBe(false);
  });

  it('accepts what editors do to a text file: a BOM, CRLF line ends, blank lines, indentation', () => {
    const mangled = `\uFEFF${lines(issue()).map((l) => `  ${l}`).join('\r\n\r\n')}`;
    expect(verifyLicense(mangled, trusted, during).customer).toBe('Contoso');
  });

  it('refuses to issue a license that ends before it starts, with a public key, or with a zero limit', () => {
    expect(() => issue({ expiresAt: issuedAt })).toThrow('must expire after it is issued');
    expect(() => issue({ privateKey: vendor.publicKey })).toThrow('Ed25519 private key');
    expect(() => issue({ limits: { objects: 0 } })).toThrow('objects limit must be a whole number above 0');
    expect(() => issue({ customer: '  ' })).toThrow('customer name is empty');
  });
});

describe('verifyLicense rejects each kind of bad license with its own code', () => {
  it('LICENSE_MISSING when there is no file', () => {
    const error = failure(() => verifyLicense(undefined, trusted, during));
    expect(error.code).toBe('LICENSE_MISSING');
    expect(error.message).toBe('there is no license file');
  });

  it('LICENSE_SIGNATURE_INVALID when the payload was altered after signing (a forged customer)', () => {
    const [header, payload, signature] = lines(issue());
    const forged = [header, payload.replace('"Contoso"', '"Fabrikam"'), signature].join('\n');
    const error = failure(() => verifyLicense(forged, trusted, during));
    expect(error.code).toBe('LICENSE_SIGNATURE_INVALID');
    expect(error.message).toContain('altered after it was issued, or forged');
    expect(error.message).toContain(keyIdOf(vendor.publicKey));
  });

  it('LICENSE_SIGNATURE_INVALID when a later expiry is signed by another key that claims the vendor key id', () => {
    const [header, payload] = lines(issue());
    const extended = payload.replace('2025-12-31', '2099-12-31');
    const resigned = sign(null, Buffer.from(extended), stranger.privateKey).toString('base64');
    const error = failure(() => verifyLicense([header, extended, `signature: ${resigned}`].join('\n'), trusted, during));
    expect(error.code).toBe('LICENSE_SIGNATURE_INVALID');
  });

  it('LICENSE_UNTRUSTED_KEY naming the signing key and the trusted ones, when another key signed it', () => {
    const text = issue({ privateKey: stranger.privateKey });
    const error = failure(() => verifyLicense(text, trusted, during));
    expect(error.code).toBe('LICENSE_UNTRUSTED_KEY');
    expect(error.message).toBe(
      `the license is signed by key ${keyIdOf(stranger.publicKey)}, which is not trusted here; the trusted key(s) are ${keyIdOf(vendor.publicKey)}`,
    );
  });

  it('LICENSE_UNTRUSTED_KEY saying that no key is configured, when none is', () => {
    const error = failure(() => verifyLicense(issue(), [], during));
    expect(error.code).toBe('LICENSE_UNTRUSTED_KEY');
    expect(error.message).toContain('no key is trusted (none configured)');
  });

  it('LICENSE_EXPIRED saying when, and keeping whose license it was', () => {
    const error = failure(() => verifyLicense(issue(), trusted, new Date('2026-01-01T00:00:00Z')));
    expect(error.code).toBe('LICENSE_EXPIRED');
    expect(error.message).toBe('license lic-1 for "Contoso" expired on 2025-12-31T23:59:59.000Z');
    expect(error.license?.customer).toBe('Contoso');
  });

  it('LICENSE_NOT_YET_VALID before the start date, allowing for a few minutes of clock skew', () => {
    const early = new Date(issuedAt.getTime() - CLOCK_SKEW_MS - 1);
    const error = failure(() => verifyLicense(issue(), trusted, early));
    expect(error.code).toBe('LICENSE_NOT_YET_VALID');
    expect(error.message).toBe(`license lic-1 for "Contoso" is valid from 2025-01-01T00:00:00.000Z, and this host's clock says ${early.toISOString()}`);
    expect(verifyLicense(issue(), trusted, new Date(issuedAt.getTime() - CLOCK_SKEW_MS)).customer).toBe('Contoso');
  });

  it('valid up to the last millisecond of expiresAt, expired one after', () => {
    expect(() => checkLicenseDates(verifyLicense(issue(), trusted, during), expiresAt)).not.toThrow();
    expect(failure(() => checkLicenseDates(verifyLicense(issue(), trusted, during), new Date(expiresAt.getTime() + 1))).code).toBe('LICENSE_EXPIRED');
  });

  it('LICENSE_MALFORMED for a file truncated at any point', () => {
    const text = issue();
    // The last two characters are base64 padding: dropping them leaves the same signature bytes.
    const cuts = Array.from({ length: text.trimEnd().length - 2 }, (_, i) => i);
    const codes = new Set(cuts.map((cut) => failure(() => verifyLicense(text.slice(0, cut), trusted, during)).code));
    expect([...codes]).toEqual(['LICENSE_MALFORMED']);
  });

  it.each([
    ['an empty file', '', 'the file is empty'],
    ['another kind of file', '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----', 'the first line is not "IdentityMesh license v1"'],
    ['a format from a newer version', 'IdentityMesh license v2\n{}\nsignature: AAAA', 'format v2, which this version does not understand'],
    ['only the header', 'IdentityMesh license v1\n', 'the payload and the signature are missing (truncated?)'],
    ['no signature line', `IdentityMesh license v1\n{"a":1}`, 'no signature line: it is truncated'],
    ['a short signature', `IdentityMesh license v1\n{"a":1}\nsignature: AAAA`, 'the signature is 3 bytes, an Ed25519 signature is 64 (truncated?)'],
    ['a signature that is not base64', `IdentityMesh license v1\n{"a":1}\nsignature: not*base64`, 'the signature is not base64'],
    ['a third line that is not the signature', `IdentityMesh license v1\n{"a":1}\nsig ${'A'.repeat(86)}==`, 'the third line must be "signature: <base64>"'],
  ])('LICENSE_MALFORMED saying what is wrong: %s', (_, text, problem) => {
    const error = failure(() => verifyLicense(text, trusted, during));
    expect(error.code).toBe('LICENSE_MALFORMED');
    expect(error.message).toContain(problem);
  });

  it('LICENSE_MALFORMED naming the payload field that is wrong', () => {
    const [header, payload, signature] = lines(issue());
    const edit = (from: string, to: string) => [header, payload.replace(from, to), signature].join('\n');
    const problem = (text: string) => {
      const error = failure(() => parseLicense(text));
      expect(error.code).toBe('LICENSE_MALFORMED');
      return error.message;
    };
    expect(problem(edit('"expiresAt":"2025-12-31T23:59:59.000Z"', '"expiresAt":"31.12.2025"'))).toContain('"expiresAt" must be an ISO-8601 UTC time (got "31.12.2025")');
    expect(problem(edit('"connectors":10', '"connectors":-1'))).toContain('"limits.connectors" must be a whole number above 0 or null');
    expect(problem(edit('"evaluation":false', '"evaluation":"no"'))).toContain('"evaluation" must be true or false');
    expect(problem(edit('"customer":"Contoso"', '"customer":""'))).toContain('"customer" must be a non-empty string');
    expect(problem(edit(payload, payload.slice(0, 40)))).toContain('the payload line is not valid JSON (truncated or edited?)');
    expect(problem(`${issue()}\nextra`)).toContain('1 unexpected line(s) after the signature');
  });

  it('gives six distinct codes for missing, malformed, untrusted, forged, expired and not yet valid', () => {
    const [header, payload, signature] = lines(issue());
    const codes: LicenseErrorCode[] = [
      failure(() => verifyLicense(undefined, trusted, during)).code,
      failure(() => verifyLicense(issue().slice(0, 100), trusted, during)).code,
      failure(() => verifyLicense(issue({ privateKey: stranger.privateKey }), trusted, during)).code,
      failure(() => verifyLicense([header, payload.replace('"connectors":10', '"connectors":99'), signature].join('\n'), trusted, during)).code,
      failure(() => verifyLicense(issue(), trusted, new Date('2030-01-01'))).code,
      failure(() => verifyLicense(issue(), trusted, new Date('2020-01-01'))).code,
    ];
    expect(new Set(codes).size).toBe(6);
  });
});
