import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, createApiKey, freePort, waitForStatus, WORKSPACE_ROOT } from './support/app-process';
import { licenseTool, replaceFile, TestVendor } from './support/license';

interface ReadinessReport {
  status: string;
  checks: Array<{ name: string; status: string; detail: string }>;
}

interface LicenseBody {
  status: string;
  code: string | null;
  reason: string;
  remedy: string | null;
  evaluation: boolean;
  customer: string | null;
  licenseId: string | null;
  issuedAt: string | null;
  expiresAt: string | null;
  limits: { connectors: number | null; objects: number | null } | null;
  keyId: string | null;
  trustedKeyIds: string[];
  file: string;
  checkedAt: string;
}

/** Polls readiness until the license check's detail matches, which shows the file was picked up without a restart. */
async function waitForLicenseDetail(url: string, pattern: RegExp, app: AppProcess, timeoutMs = 20_000): Promise<{ httpStatus: number; report: ReadinessReport }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(url);
    const report = (await res.json()) as ReadinessReport;
    const detail = report.checks.find((c) => c.name === 'license')?.detail ?? '(no license check)';
    if (pattern.test(detail)) return { httpStatus: res.status, report };
    last = detail;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the license check never matched ${pattern} (last: ${last}); ${app.app} output:\n${app.tail()}`);
}

/**
 * The Admin API is ready only with a valid license, reports why not in
 * /health/ready and GET /api/license, and follows the license file while it
 * runs: installed, expired, forged, truncated or signed by another key, each
 * shows up with its own reason without a restart.
 */
describe('the Admin API and its license file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-e2e-license-'));
  const file = join(dir, 'data', 'license.key');
  let vendor: TestVendor;
  let admin: AppProcess;
  let baseUrl = '';
  let readyUrl = '';
  let validLicenseText = '';
  let strangersLicenseText = '';

  beforeAll(async () => {
    vendor = TestVendor.create(join(dir, 'vendor'));
    const stranger = TestVendor.create(join(dir, 'stranger'));
    stranger.issue(join(dir, 'stranger.key'));
    strangersLicenseText = readFileSync(join(dir, 'stranger.key'), 'utf8');
    baseUrl = `http://127.0.0.1:${await freePort()}`;
    readyUrl = `${baseUrl}/health/ready`;
  });

  afterAll(async () => {
    await admin?.ensureStopped();
    rmSync(dir, { recursive: true, force: true });
  });

  let apiKey = '';
  // GET /api/license needs dashboard.read: a reader's API key, made before the first start.
  const license = async () => (await (await fetch(`${baseUrl}/api/license`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as LicenseBody;

  it('without a license: /health/ready answers 503, listing database, schema and license with the reason', async () => {
    const env = { IM_DATA_DIR: join(dir, 'data'), IM_ADMIN_PORT: new URL(baseUrl).port, ...vendor.env(file) };
    apiKey = await createApiKey(env);
    admin = AppProcess.start('admin-api', env);
    const report = (await (await waitForStatus(readyUrl, 503, admin)).json()) as ReadinessReport;
    expect(report.status).toBe('down');
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['database', 'up'],
      ['schema', 'up'],
      ['license', 'down'],
    ]);
    expect(report.checks[2].detail).toBe(`missing (LICENSE_MISSING): there is no license file at ${file}`);
    expect(await license()).toMatchObject({ status: 'missing', code: 'LICENSE_MISSING', customer: null, file, trustedKeyIds: [vendor.keyId] });
    const logged = admin.records().find((r) => r['context'] === 'License');
    expect(logged).toMatchObject({ level: 'error', status: 'missing' });
    expect(String(logged?.['msg'])).toContain(`Remedy: put the license.key from your IdentityMesh vendor at ${file}`);
    // Not ready is not dead: the process keeps serving.
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
  });

  it('with a valid license installed while it runs: 200, and GET /api/license shows it', async () => {
    const licenseId = vendor.issue(file, { customer: 'Contoso', connectors: 10, objects: 50_000 });
    validLicenseText = readFileSync(file, 'utf8');
    await waitForStatus(readyUrl, 200, admin);
    const body = await license();
    expect(body).toEqual({
      status: 'valid',
      code: null,
      reason: expect.stringMatching(new RegExp(`^license ${licenseId} for "Contoso", valid until `)),
      remedy: null,
      evaluation: false,
      customer: 'Contoso',
      licenseId,
      issuedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      expiresAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      limits: { connectors: 10, objects: 50_000 },
      keyId: vendor.keyId,
      trustedKeyIds: [vendor.keyId],
      file,
      checkedAt: expect.any(String),
    });
    const signature = validLicenseText.split('\n')[2].slice('signature: '.length);
    expect(JSON.stringify(body)).not.toContain(signature.slice(0, 16));
    expect(admin.records().some((r) => r['context'] === 'License' && String(r['msg']).startsWith(`license valid: license ${licenseId}`))).toBe(true);
  });

  it('replacing it with an expired license: 503 with the "expired" reason, without a restart', async () => {
    const pid = admin.child.pid;
    const expiredId = vendor.issue(file, { issued: '2020-01-01', expires: '2020-12-31' });
    const { httpStatus, report } = await waitForLicenseDetail(readyUrl, /^expired/, admin);
    expect(httpStatus).toBe(503);
    expect(report.checks.find((c) => c.name === 'license')?.detail).toBe(`expired (LICENSE_EXPIRED): license ${expiredId} for "Contoso" expired on 2020-12-31T23:59:59.000Z`);
    // An expired license still says whose it was.
    expect(await license()).toMatchObject({ status: 'expired', code: 'LICENSE_EXPIRED', licenseId: expiredId, customer: 'Contoso', expiresAt: '2020-12-31T23:59:59.000Z' });
    expect(admin.child.pid).toBe(pid);
    expect(admin.child.exitCode).toBeNull();
    const logged = admin.records().find((r) => r['context'] === 'License' && r['status'] === 'expired');
    expect(String(logged?.['msg'])).toContain('The data stays readable');
  });

  it.each([
    ['forged (its content changed after signing)', 'LICENSE_SIGNATURE_INVALID', () => validLicenseText.replace('"connectors":10', '"connectors":1000'), /altered after it was issued, or forged/],
    ['truncated', 'LICENSE_MALFORMED', () => validLicenseText.slice(0, 120), /the license file is malformed: .*truncated/],
    ['signed by a key that is not trusted', 'LICENSE_UNTRUSTED_KEY', () => strangersLicenseText, /signed by key [0-9a-f]{16}, which is not trusted here/],
  ])('a license %s: 503 with its own reason, without a restart', async (_, code, text, reason) => {
    replaceFile(file, text());
    const { httpStatus, report } = await waitForLicenseDetail(readyUrl, new RegExp(`^invalid \\(${code}\\)`), admin);
    expect(httpStatus).toBe(503);
    expect(report.checks.find((c) => c.name === 'license')?.detail).toMatch(reason);
    expect(await license()).toMatchObject({ status: 'invalid', code, customer: null, remedy: expect.any(String) });
  });

  it('an evaluation license: ready, and marked as such in the log and in GET /api/license', async () => {
    const licenseId = vendor.issue(file, { evaluation: true, expires: '+30' });
    await waitForStatus(readyUrl, 200, admin);
    expect(await license()).toMatchObject({ status: 'valid', evaluation: true, licenseId });
    const logged = admin.records().find((r) => r['context'] === 'License' && r['licenseId'] === licenseId);
    expect(logged).toMatchObject({ level: 'warn', evaluation: true });
    expect(String(logged?.['msg'])).toMatch(/^EVALUATION license in use: /);
  });

  it('stops cleanly', async () => {
    expect(await admin.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('the Sync Engine with an expired license', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-e2e-license-engine-'));
  let engine: AppProcess | undefined;
  afterAll(async () => {
    await engine?.ensureStopped();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays ready, reports the license state in its license check, and logs that scheduled runs are refused', async () => {
    const vendor = TestVendor.create(join(dir, 'vendor'));
    const file = join(dir, 'license.key');
    vendor.issue(file, { issued: '2020-01-01', expires: '2020-12-31' });
    const port = await freePort();
    engine = AppProcess.start('sync-engine', { IM_DATA_DIR: join(dir, 'data'), IM_ENGINE_PORT: String(port), ...vendor.env(file) });
    const report = (await (await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, engine)).json()) as ReadinessReport;
    expect(report.checks.find((c) => c.name === 'license')).toMatchObject({
      status: 'up',
      detail: expect.stringMatching(/^expired \(LICENSE_EXPIRED\): license [0-9a-f-]{36} for "Contoso" expired on 2020-12-31T23:59:59\.000Z; scheduled runs are refused, the engine keeps serving$/),
    });
    const logged = engine.records().find((r) => r['context'] === 'LicenseGate');
    expect(logged).toMatchObject({ level: 'error', status: 'expired', code: 'LICENSE_EXPIRED' });
    expect(String(logged?.['msg'])).toContain('Scheduled runs are refused until a valid license is installed; the engine keeps serving and the data stays readable.');
    expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('license settings the apps refuse at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-e2e-license-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['admin-api', 'sync-engine'] as const)('%s refuses a private key in IM_LICENSE_PUBLIC_KEYS (exit 78): the product never holds one', async (app) => {
    const vendor = TestVendor.create(join(dir, app));
    const proc = AppProcess.start(app, { IM_DATA_DIR: join(dir, 'data'), IM_LICENSE_PUBLIC_KEYS: vendor.privateKey });
    expect((await proc.exit(30_000)).code).toBe(78);
    expect(proc.tail()).toContain(`IdentityMesh cannot start: invalid configuration: IM_LICENSE_PUBLIC_KEYS: ${vendor.privateKey}: holds a private key; the product trusts public keys only`);
  });
});

describe('the license tool as a standalone folder', () => {
  const folder = mkdtempSync(join(tmpdir(), 'im-package-license-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('runs with `node main.js` and no node_modules: keygen, issue, verify', () => {
    cpSync(join(WORKSPACE_ROOT, 'dist/tools/license'), join(folder, 'tool'), { recursive: true });
    const main = join(folder, 'tool', 'main.js');
    licenseTool(['keygen', '--out', 'vendor'], { main, cwd: folder });
    if (process.platform !== 'win32') expect(statSync(join(folder, 'vendor', 'vendor-private.pem')).mode & 0o777).toBe(0o600);
    licenseTool(['issue', '--key', 'vendor/vendor-private.pem', '--customer', 'Fabrikam', '--expires', '2099-12-31', '--out', 'license.key'], { main, cwd: folder });
    const verified = licenseTool(['verify', 'license.key', '--public-key', 'vendor/vendor-public.pem'], { main, cwd: folder });
    expect(verified.stdout).toMatch(/^valid: license [0-9a-f-]{36} for "Fabrikam"/);
  });
});
