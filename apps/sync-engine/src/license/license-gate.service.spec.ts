import { generateKeyPairSync } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { InMemoryLicenseFile, issueLicense, keyIdOf, LicenseMonitor } from '@identitymesh/license';
import { LicenseGateService } from './license-gate.service';

const vendor = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const FILE = '/var/lib/identitymesh/license.key';

function license(expires: string, options: { evaluation?: boolean; privateKey?: typeof vendor.privateKey } = {}): string {
  return issueLicense({
    privateKey: options.privateKey ?? vendor.privateKey,
    customer: 'Contoso',
    issuedAt: new Date('2025-01-01T00:00:00Z'),
    expiresAt: new Date(expires),
    licenseId: 'lic-1',
    evaluation: options.evaluation,
  });
}

describe('LicenseGateService', () => {
  let now: Date;
  let file: InMemoryLicenseFile;
  let health: HealthRegistry;
  let gate: LicenseGateService;
  let logged: Array<{ level: string; msg: string }>;

  beforeEach(() => {
    now = new Date('2025-06-01T00:00:00Z');
    file = new InMemoryLicenseFile();
    health = new HealthRegistry();
    logged = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => void logged.push({ level, msg: (args[0] as { msg: string }).msg }));
    }
    const monitor = new LicenseMonitor(
      { file: FILE, trustedKeys: [{ keyId: keyIdOf(vendor.publicKey), publicKey: vendor.publicKey, source: 'test' }] },
      { now: () => now, files: file },
    );
    gate = new LicenseGateService(monitor, health);
  });

  afterEach(() => {
    gate.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  const licenseCheck = async () => (await health.readiness()).checks.find((c) => c.name === 'license');

  it('allows a scheduled run with a valid license, logging nothing for it', () => {
    file.write(license('2025-12-31T23:59:59Z'));
    gate.onApplicationBootstrap();
    expect(logged).toEqual([{ level: 'log', msg: 'license valid: license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z. Scheduled runs are allowed' }]);
    expect(gate.checkScheduledRun('connector "HR" full import')).toEqual({ allowed: true, license: expect.objectContaining({ licenseId: 'lic-1' }) });
    expect(logged).toHaveLength(1);
  });

  it('refuses a scheduled run once the license has expired, naming the reason and the remedy, and allows it again after a renewal', () => {
    file.write(license('2025-06-30T23:59:59Z'));
    gate.onApplicationBootstrap();
    now = new Date('2025-07-01T00:00:00Z');
    const decision = gate.checkScheduledRun('connector "HR" full import');
    expect(decision).toEqual({
      allowed: false,
      status: 'expired',
      code: 'LICENSE_EXPIRED',
      reason: 'license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z',
      remedy: `install a renewed license at ${FILE}; it is picked up without a restart`,
      message:
        `scheduled run of connector "HR" full import refused: the license is expired (license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z). ` +
        `Remedy: install a renewed license at ${FILE}; it is picked up without a restart. The data stays readable; scheduled runs resume by themselves once a valid license is in place.`,
    });
    // The change is logged once as an error, then the refusal of the run itself.
    expect(logged.slice(1).map((l) => l.level)).toEqual(['error', 'warn']);
    expect(logged[1].msg).toContain('license expired: license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z. Scheduled runs are refused');
    expect(logged[2].msg).toBe(decision.allowed ? '' : decision.message);

    file.write(license('2026-06-30T23:59:59Z'));
    expect(gate.checkScheduledRun('connector "HR" full import').allowed).toBe(true);
  });

  it.each([
    ['missing', undefined, 'LICENSE_MISSING'],
    ['truncated', () => license('2025-12-31T23:59:59Z').slice(0, 120), 'LICENSE_MALFORMED'],
    ['forged', () => license('2025-12-31T23:59:59Z').replace('"Contoso"', '"Fabrikam"'), 'LICENSE_SIGNATURE_INVALID'],
    ['signed by another key', () => license('2025-12-31T23:59:59Z', { privateKey: stranger.privateKey }), 'LICENSE_UNTRUSTED_KEY'],
  ])('refuses a scheduled run when the license is %s, with its own code', (_, text, code) => {
    file.write(text?.());
    gate.onApplicationBootstrap();
    const decision = gate.checkScheduledRun('connector "LDAP" delta import');
    expect(decision).toMatchObject({ allowed: false, code });
    expect(logged.at(-1)?.level).toBe('warn');
    expect(logged.at(-1)?.msg).toMatch(/^scheduled run of connector "LDAP" delta import refused: the license is (missing|invalid) \(.+\)\. Remedy: .+\. The data stays readable;/);
  });

  it('keeps readiness up whatever the license, with the license state in the detail', async () => {
    gate.onApplicationBootstrap();
    expect(await licenseCheck()).toMatchObject({
      status: 'up',
      detail: `missing (LICENSE_MISSING): there is no license file at ${FILE}; scheduled runs are refused, the engine keeps serving`,
    });
    file.write(license('2025-06-30T23:59:59Z', { evaluation: true }));
    expect(await licenseCheck()).toMatchObject({ status: 'up', detail: expect.stringMatching(/^valid: evaluation license lic-1 .*\(EVALUATION license, not for production use\)$/) });
    now = new Date('2025-07-01T00:00:00Z');
    expect(await licenseCheck()).toMatchObject({ status: 'up', detail: expect.stringMatching(/^expired \(LICENSE_EXPIRED\): .*; scheduled runs are refused, the engine keeps serving$/) });
    expect((await health.readiness()).status).toBe('up');
  });

  it('marks an evaluation license in its log line', () => {
    file.write(license('2025-12-31T23:59:59Z', { evaluation: true }));
    gate.onApplicationBootstrap();
    expect(logged).toEqual([
      { level: 'warn', msg: 'EVALUATION license in use: evaluation license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z; not for production use. Scheduled runs are allowed' },
    ]);
  });
});
