import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLicense, publicKeyToBase64 } from '@identitymesh/license';
import { PERMISSIONS } from '../auth/permissions';
import { AdminApiHarness } from '../support/admin-api-harness';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;

/** `POST /api/license/upload`: verified before it replaces the file, audited, rate limited per caller. */
describe('license upload', () => {
  const vendor = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const folder = mkdtempSync(join(tmpdir(), 'im-admin-api-license-'));
  const file = join(folder, 'license.key');
  const day = 86_400_000;
  const issue = (licenseId: string, options: { expiresInDays?: number; key?: typeof vendor } = {}) =>
    issueLicense({
      privateKey: (options.key ?? vendor).privateKey,
      customer: 'Contoso',
      licenseId,
      issuedAt: new Date(Date.now() - 30 * day),
      expiresAt: new Date(Date.now() + (options.expiresInDays ?? 365) * day),
      limits: { connectors: 10 },
    });
  let api: AdminApiHarness;
  let token: string;

  beforeAll(async () => {
    writeFileSync(file, issue('lic-old'));
    api = await AdminApiHarness.start({ IM_LICENSE_FILE: file, IM_LICENSE_PUBLIC_KEYS: publicKeyToBase64(vendor.publicKey) });
    token = (await api.createKey(PERMISSIONS)).token;
  });
  afterAll(async () => {
    await api?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const upload = (body: string, contentType = 'application/octet-stream', key = token) => api.request<Json>('POST', '/api/license/upload', { token: key, raw: body, contentType });

  it('installs a valid license in place of the current one and audits it', async () => {
    const renewed = issue('lic-new');
    const answer = await upload(renewed);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'valid', licenseId: 'lic-new', customer: 'Contoso', file });
    expect(readFileSync(file, 'utf8')).toBe(renewed);
    expect(readdirSync(folder)).toEqual(['license.key']);
    expect((await api.request<Json>('GET', '/api/license', { token })).body).toMatchObject({ licenseId: 'lic-new' });
    const audit = await api.request<{ items: Json[] }>('GET', '/api/audit?action=license.upload', { token });
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'license.upload', targetType: 'license', targetId: 'lic-new', before: expect.objectContaining({ licenseId: 'lic-old' }), after: expect.objectContaining({ licenseId: 'lic-new' }) })]);
    expect(JSON.stringify(audit.body)).not.toContain(renewed.split('\n')[2]?.slice(12, 40));
    // The same file as text/plain.
    expect((await upload(issue('lic-text'), 'text/plain; charset=utf-8')).status).toBe(200);
  });

  it('refuses a forged, expired, untrusted or malformed license with 422 naming the reason, and keeps the current one', async () => {
    const current = readFileSync(file, 'utf8');
    const cases: Array<[string, string]> = [
      [issue('lic-forged').replace('"Contoso"', '"Fabrikam"'), 'LICENSE_SIGNATURE_INVALID'],
      [issue('lic-expired', { expiresInDays: -1 }), 'LICENSE_EXPIRED'],
      [issue('lic-stranger', { key: stranger }), 'LICENSE_UNTRUSTED_KEY'],
      ['this is not a license', 'LICENSE_MALFORMED'],
      ['', 'REQUEST_INVALID'],
    ];
    for (const [body, code] of cases) {
      const answer = await upload(body);
      expect({ code, status: answer.status, answered: answer.body['code'], problem: answer.headers.get('content-type')?.split(';')[0] }).toEqual({ code, status: code === 'REQUEST_INVALID' ? 400 : 422, answered: code, problem: 'application/problem+json' });
      expect(answer.body['detail']).toEqual(expect.any(String));
    }
    expect(readFileSync(file, 'utf8')).toBe(current);
    expect(readdirSync(folder)).toEqual(['license.key']);
    const audit = await api.request<{ items: Json[] }>('GET', '/api/audit?action=license.upload', { token });
    expect(audit.body.items).toHaveLength(2);
  });

  it('refuses other media types and bodies over 64 KiB', async () => {
    expect((await upload(JSON.stringify({ license: 'x' }), 'application/json')).body).toMatchObject({ status: 415, code: 'MEDIA_TYPE_UNSUPPORTED' });
    expect((await upload('x', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await upload('x'.repeat(65 * 1024))).body).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
  });

  it('allows 30 uploads a minute per caller, then answers 429 with Retry-After; other callers are not affected', async () => {
    const caller = (await api.createKey(['license.write'])).token;
    for (let i = 0; i < 30; i++) expect((await upload('not a license', 'text/plain', caller)).status).toBe(422);
    const refused = await upload(issue('lic-late'), 'text/plain', caller);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ type: 'urn:identitymesh:problem:too-many-requests', code: 'RATE_LIMITED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(readFileSync(file, 'utf8')).not.toContain('lic-late');
    const other = (await api.createKey(['license.write'])).token;
    expect((await upload('not a license', 'text/plain', other)).status).toBe(422);
  });

  it('declares the file body, its media types, the size bound and the rate limit in the OpenAPI document', async () => {
    const document = (await api.request<{ paths: Record<string, Record<string, Json>> }>('GET', '/api/docs.json')).body;
    const operation = document.paths['/api/license/upload']?.['post'] as Json;
    expect(operation['x-permission']).toBe('license.write');
    expect(operation['x-rate-limit']).toEqual({ requests: 30, perSeconds: 60, per: 'caller' });
    expect(Object.keys((operation['requestBody'] as { content: Json }).content)).toEqual(['application/octet-stream', 'text/plain']);
    expect(Object.keys(operation['responses'] as Json)).toEqual(expect.arrayContaining(['200', '401', '403', '413', '415', '429']));
  });
});
