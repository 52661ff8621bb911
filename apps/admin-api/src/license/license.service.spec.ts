import { generateKeyPairSync } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { InMemoryLicenseFile, issueLicense, keyIdOf, LicenseMonitor } from '@identitymesh/license';
import { LicenseService } from './license.service';

const vendor = generateKeyPairSync('ed25519');
const FILE = '/etc/identitymesh/license.key';
const KEY_ID = keyIdOf(vendor.publicKey);

function license(expires: string, evaluation = false): string {
  return issueLicense({
    privateKey: vendor.privateKey,
    customer: 'Contoso',
    issuedAt: new Date('2025-01-01T00:00:00Z'),
    expiresAt: new Date(expires),
    limits: { connectors: 10 },
    licenseId: 'lic-1',
    evaluation,
  });
}

describe('LicenseService', () => {
  let now: Date;
  let file: InMemoryLicenseFile;
  let health: HealthRegistry;
  let service: LicenseService;
  let logged: Array<{ level: string; msg: string }>;

  beforeEach(() => {
    now = new Date('2025-06-01T00:00:00Z');
    file = new InMemoryLicenseFile();
    health = new HealthRegistry();
    logged = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => void logged.push({ level, msg: (args[0] as { msg: string }).msg }));
    }
    const monitor = new LicenseMonitor({ file: FILE, trustedKeys: [{ keyId: KEY_ID, publicKey: vendor.publicKey, source: 'test' }] }, { now: () => now, files: file });
    service = new LicenseService(monitor, health);
    service.onApplicationBootstrap();
  });

  afterEach(() => {
    service.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  const licenseCheck = async () => (await health.readiness()).checks.find((c) => c.name === 'license');

  it('fails readiness without a license file, naming the file, and logs it with the remedy at start', async () => {
    expect(await licenseCheck()).toMatchObject({ status: 'down', detail: `missing (LICENSE_MISSING): there is no license file at ${FILE}` });
    expect(logged).toEqual([
      {
        level: 'error',
        msg: `license missing: there is no license file at ${FILE}. /health/ready reports down and scheduled runs are refused until a valid license is installed. Remedy: put the license.key from your IdentityMesh vendor at ${FILE}, or point IM_LICENSE_FILE at it.`,
      },
    ]);
  });

  it('is ready with a valid license installed later, without a restart, and logs the change once', async () => {
    file.write(license('2025-12-31T23:59:59Z'));
    expect(await licenseCheck()).toMatchObject({ status: 'up', detail: 'valid: license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z' });
    await health.readiness();
    expect(logged.map((l) => l.level)).toEqual(['error', 'log']);
    expect(logged[1].msg).toBe('license valid: license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z');
  });

  it('marks an evaluation license in the log and in the API', async () => {
    file.write(license('2025-12-31T23:59:59Z', true));
    service.describe();
    expect(logged.at(-1)).toEqual({ level: 'warn', msg: 'EVALUATION license in use: evaluation license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z; not for production use' });
    expect(service.describe().evaluation).toBe(true);
    expect((await licenseCheck())?.detail).toContain('(EVALUATION license, not for production use)');
  });

  it('fails readiness with "expired" once the license runs out, and says the data stays readable', async () => {
    file.write(license('2025-06-30T23:59:59Z'));
    expect((await licenseCheck())?.status).toBe('up');
    now = new Date('2025-07-01T00:00:00Z');
    expect(await licenseCheck()).toMatchObject({ status: 'down', detail: 'expired (LICENSE_EXPIRED): license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z' });
    expect(logged.at(-1)?.level).toBe('error');
    expect(logged.at(-1)?.msg).toContain('license expired: license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z. The data stays readable;');
    expect(logged.at(-1)?.msg).toContain(`Remedy: install a renewed license at ${FILE}; it is picked up without a restart.`);
  });

  it('describes the license for GET /api/license without any signature bytes', () => {
    file.write(license('2025-12-31T23:59:59Z'));
    const signature = (file.text ?? '').split('\n')[2].slice('signature: '.length);
    const body = service.describe();
    expect(body).toEqual({
      status: 'valid',
      code: null,
      reason: 'license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z',
      remedy: null,
      evaluation: false,
      customer: 'Contoso',
      licenseId: 'lic-1',
      issuedAt: '2025-01-01T00:00:00.000Z',
      expiresAt: '2025-12-31T23:59:59.000Z',
      limits: { connectors: 10, objects: null },
      keyId: KEY_ID,
      trustedKeyIds: [KEY_ID],
      file: FILE,
      checkedAt: '2025-06-01T00:00:00.000Z',
    });
    expect(JSON.stringify(body)).not.toContain(signature.slice(0, 20));
  });

  it('describes a forged license by its code and remedy, with no license fields', () => {
    file.write(license('2025-12-31T23:59:59Z').replace('"Contoso"', '"Fabrikam"'));
    expect(service.describe()).toMatchObject({
      status: 'invalid',
      code: 'LICENSE_SIGNATURE_INVALID',
      remedy: `replace ${FILE} with the license exactly as your vendor issued it; an edited license can't be repaired`,
      customer: null,
      licenseId: null,
      limits: null,
    });
  });
});
