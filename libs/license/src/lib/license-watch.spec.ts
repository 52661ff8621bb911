import { generateKeyPairSync } from 'node:crypto';
import { InMemoryLicenseFile } from './in-memory-license-file';
import { issueLicense } from './license-format';
import { LicenseMonitor } from './license-monitor';
import { LicenseLogRecord, LicenseWatch } from './license-watch';
import { keyIdOf } from './trusted-keys';

const vendor = generateKeyPairSync('ed25519');
const FILE = '/etc/identitymesh/license.key';
const settings = { file: FILE, trustedKeys: [{ keyId: keyIdOf(vendor.publicKey), publicKey: vendor.publicKey, source: 'test' }] };

const issue = { privateKey: vendor.privateKey, customer: 'Contoso', issuedAt: new Date('2025-01-01T00:00:00Z'), licenseId: 'lic-1' };
const license = (expires: string, evaluation = false) => issueLicense({ ...issue, expiresAt: new Date(expires), evaluation });

describe('LicenseWatch', () => {
  let now: Date;
  let file: InMemoryLicenseFile;
  let monitor: LicenseMonitor;
  let logged: Array<{ level: 'log' | 'warn' | 'error'; record: LicenseLogRecord }>;
  let watch: LicenseWatch;

  beforeEach(() => {
    jest.useFakeTimers();
    now = new Date('2025-06-01T00:00:00Z');
    file = new InMemoryLicenseFile();
    monitor = new LicenseMonitor(settings, { now: () => now, files: file });
    logged = [];
    watch = new LicenseWatch(monitor, {
      logger: {
        log: (record) => logged.push({ level: 'log', record }),
        warn: (record) => logged.push({ level: 'warn', record }),
        error: (record) => logged.push({ level: 'error', record }),
      },
      whenValid: 'Runs are allowed',
      whenNotValid: (state) => `Runs stop (${state.status})`,
    });
  });

  afterEach(() => {
    watch.stop();
    jest.useRealTimers();
  });

  it('logs a missing license at start as an error, with what the app does and the remedy', () => {
    watch.start();
    expect(logged).toEqual([
      {
        level: 'error',
        record: {
          status: 'missing',
          code: 'LICENSE_MISSING',
          file: FILE,
          licenseId: undefined,
          customer: undefined,
          expiresAt: undefined,
          evaluation: undefined,
          msg: `license missing: there is no license file at ${FILE}. Runs stop (missing). Remedy: put the license.key from your IdentityMesh vendor at ${FILE}, or point IM_LICENSE_FILE at it.`,
        },
      },
    ]);
  });

  it('logs a change once, with the license fields, however often the monitor is asked', () => {
    watch.start();
    file.write(license('2025-12-31T23:59:59Z'));
    monitor.current();
    monitor.current();
    expect(logged.map((l) => l.level)).toEqual(['error', 'log']);
    expect(logged[1].record).toEqual({
      status: 'valid',
      code: undefined,
      file: FILE,
      licenseId: 'lic-1',
      customer: 'Contoso',
      expiresAt: '2025-12-31T23:59:59.000Z',
      evaluation: false,
      msg: 'license valid: license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z. Runs are allowed',
    });
  });

  it('warns about an evaluation license, and adds nothing to a valid one without whenValid', () => {
    const plain = new LicenseWatch(monitor, { logger: { log: jest.fn(), warn: (record) => logged.push({ level: 'warn', record }), error: jest.fn() }, whenNotValid: () => '' });
    file.write(license('2025-12-31T23:59:59Z', true));
    monitor.current();
    plain.stop();
    expect(logged.map((l) => [l.level, l.record.msg])).toEqual([
      ['warn', 'EVALUATION license in use: evaluation license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z; not for production use. Runs are allowed'],
      ['warn', 'EVALUATION license in use: evaluation license lic-1 for "Contoso", valid until 2025-12-31T23:59:59.000Z; not for production use'],
    ]);
  });

  it('looks again every minute, so an expiry is logged while nobody asks', () => {
    file.write(license('2025-06-30T23:59:59Z'));
    watch.start();
    now = new Date('2025-07-01T00:00:00Z');
    jest.advanceTimersByTime(59_999);
    expect(logged.map((l) => l.level)).toEqual(['log']);
    jest.advanceTimersByTime(1);
    expect(logged.map((l) => l.level)).toEqual(['log', 'error']);
    expect(logged[1].record.msg).toBe(
      `license expired: license lic-1 for "Contoso" expired on 2025-06-30T23:59:59.000Z. Runs stop (expired). Remedy: install a renewed license at ${FILE}; it is picked up without a restart.`,
    );
  });

  it('stops looking and logging once stopped', () => {
    watch.start();
    watch.stop();
    expect(jest.getTimerCount()).toBe(0);
    file.write(license('2025-12-31T23:59:59Z'));
    monitor.current();
    expect(logged).toHaveLength(1);
  });
});
