import { generateKeyPairSync } from 'node:crypto';
import { issueLicense } from './license-format';
import { InMemoryLicenseFile } from './in-memory-license-file';
import { LicenseMonitor, LicenseState, summarizeLicenseState } from './license-monitor';
import { keyIdOf } from './trusted-keys';

const vendor = generateKeyPairSync('ed25519');
const FILE = '/etc/identitymesh/license.key';
const settings = { file: FILE, trustedKeys: [{ keyId: keyIdOf(vendor.publicKey), publicKey: vendor.publicKey, source: 'test' }] };

function license(licenseId: string, expires: string, evaluation = false): string {
  return issueLicense({
    privateKey: vendor.privateKey,
    customer: 'Contoso',
    issuedAt: new Date('2025-01-01T00:00:00Z'),
    expiresAt: new Date(expires),
    licenseId,
    evaluation,
  });
}

/** The in-memory file, counting reads and able to fail its stat. */
class FakeFile extends InMemoryLicenseFile {
  reads = 0;
  statError: Error | undefined;
  override stamp(): string | undefined {
    if (this.statError) throw this.statError;
    return super.stamp();
  }
  override read(): string {
    this.reads += 1;
    return super.read();
  }
}

describe('LicenseMonitor', () => {
  let now: Date;
  let file: FakeFile;
  let changes: Array<[LicenseState['status'], LicenseState['status'] | undefined]>;
  let monitor: LicenseMonitor;

  beforeEach(() => {
    now = new Date('2025-06-01T00:00:00Z');
    file = new FakeFile();
    changes = [];
    monitor = new LicenseMonitor(settings, { now: () => now, files: file, onChange: (state, previous) => changes.push([state.status, previous?.status]) });
  });

  it('is missing, naming the file, when there is no license file', () => {
    expect(monitor.current()).toEqual({
      status: 'missing',
      code: 'LICENSE_MISSING',
      reason: `there is no license file at ${FILE}`,
      license: undefined,
      file: FILE,
      checkedAt: now,
    });
  });

  it('is valid with the payload and a reason naming customer and expiry', () => {
    file.write(license('lic-1', '2025-12-31T23:59:59Z', true));
    const state = monitor.current();
    expect(state.status).toBe('valid');
    expect(state.code).toBeUndefined();
    expect(state.license).toMatchObject({ licenseId: 'lic-1', customer: 'Contoso', evaluation: true });
    expect(state.reason).toBe('evaluation license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z');
  });

  it('reads the file once while it is unchanged, and again as soon as it changes (a renewal without restart)', () => {
    file.write(license('lic-old', '2025-03-31T23:59:59Z'));
    expect(monitor.current()).toMatchObject({ status: 'expired', code: 'LICENSE_EXPIRED', license: { licenseId: 'lic-old' } });
    monitor.current();
    monitor.current();
    expect(file.reads).toBe(1);

    file.write(license('lic-new', '2026-03-31T23:59:59Z'));
    expect(monitor.current()).toMatchObject({ status: 'valid', license: { licenseId: 'lic-new' } });
    expect(file.reads).toBe(2);
  });

  it('expires on time without the file changing', () => {
    file.write(license('lic-1', '2025-06-30T23:59:59Z'));
    expect(monitor.current().status).toBe('valid');
    now = new Date('2025-07-01T00:00:00Z');
    const state = monitor.current();
    expect(state.status).toBe('expired');
    expect(state.reason).toBe('license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z');
    expect(file.reads).toBe(1);
  });

  it('is invalid with the check that failed for a bad file, and missing again when the file is removed', () => {
    file.write('IdentityMesh license v1\n{"customer":"Contoso"');
    expect(monitor.current()).toMatchObject({ status: 'invalid', code: 'LICENSE_MALFORMED' });
    file.write(license('lic-1', '2025-12-31T23:59:59Z').replace('Contoso', 'Fabrikam'));
    expect(monitor.current()).toMatchObject({ status: 'invalid', code: 'LICENSE_SIGNATURE_INVALID' });
    file.write(undefined);
    expect(monitor.current()).toMatchObject({ status: 'missing', code: 'LICENSE_MISSING' });
  });

  it('is not yet valid before the start date (status invalid, its own code)', () => {
    file.write(license('lic-1', '2025-12-31T23:59:59Z'));
    now = new Date('2024-12-01T00:00:00Z');
    expect(monitor.current()).toMatchObject({ status: 'invalid', code: 'LICENSE_NOT_YET_VALID', license: { licenseId: 'lic-1' } });
  });

  it('counts a file it cannot even stat as missing, with the reason', () => {
    file.statError = new Error('EACCES: permission denied');
    expect(monitor.current()).toMatchObject({ status: 'missing', reason: `the license file ${FILE} cannot be read (EACCES: permission denied)` });
  });

  it('reports a change once, not on every query', () => {
    monitor.current();
    monitor.current();
    file.write(license('lic-1', '2025-06-30T23:59:59Z'));
    monitor.current();
    monitor.current();
    now = new Date('2025-07-01T00:00:00Z');
    monitor.current();
    monitor.current();
    file.write(license('lic-2', '2026-06-30T23:59:59Z'));
    monitor.current();
    // A not-yet-valid reason carries the clock, which must not count as a change.
    file.write(license('lic-3', '2027-06-30T23:59:59Z'));
    now = new Date('2024-01-01T00:00:00Z');
    monitor.current();
    now = new Date('2024-01-02T00:00:00Z');
    monitor.current();
    expect(changes).toEqual([
      ['missing', undefined],
      ['valid', 'missing'],
      ['expired', 'valid'],
      ['valid', 'expired'],
      ['invalid', 'valid'],
    ]);
  });

  it('tells subscribers of later changes too, until they unsubscribe', () => {
    const seen: string[] = [];
    const unsubscribe = monitor.subscribe((state) => seen.push(state.status));
    monitor.current();
    file.write(license('lic-1', '2025-12-31T23:59:59Z'));
    monitor.current();
    unsubscribe();
    file.write(undefined);
    monitor.current();
    expect(seen).toEqual(['missing', 'valid']);
    expect(changes.map(([status]) => status)).toEqual(['missing', 'valid', 'missing']);
  });

  it('summarizes a state in one line with its code, marking an evaluation license', () => {
    expect(summarizeLicenseState(monitor.current())).toBe(`missing (LICENSE_MISSING): there is no license file at ${FILE}`);
    file.write(license('lic-1', '2025-12-31T23:59:59Z', true));
    expect(summarizeLicenseState(monitor.current())).toBe(
      'valid: evaluation license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z (EVALUATION license, not for production use)',
    );
    now = new Date('2026-01-01T00:00:00Z');
    expect(summarizeLicenseState(monitor.current())).toBe('expired (LICENSE_EXPIRED): evaluation license lic-1 for "Contoso" expired on 2025-12-31T23:59:59.000Z');
  });
});
