import type { DataSource } from 'typeorm';
import { AuditEventEntity, DATA_SOURCE, SecretEntity, SecretRepository } from '@identitymesh/persistence';
import { SecretProviders, SecretStore } from '@identitymesh/secrets';
import { AdminApiConfig } from '../config/admin-api.config';
import { AdminApiHarness } from '../support/admin-api-harness';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;

/** `PUT /api/secrets/{ref}` stores through the engine's secret store; the value is in no answer, audit row or log line. */
describe('secrets', () => {
  const FIRST = 'Pl4in-Value-Nobody-Sees-1';
  const SECOND = 'Pl4in-Value-Nobody-Sees-2';
  let api: AdminApiHarness;
  let token: string;
  const output: string[] = [];

  beforeAll(async () => {
    api = await AdminApiHarness.start({ IM_LOG_LEVEL: 'trace' });
    token = (await api.createKey(['secrets.write', 'connectors.read', 'audit.read'])).token;
    // Everything the process writes while the values pass through it.
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        output.push(String(chunk));
        return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write);
    }
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await api?.close();
  });

  it('stores a value and a new version of it, answering and auditing the description only', async () => {
    const created = await api.request<Json>('PUT', '/api/secrets/ldap%2Fcorp%2Fbind-password', { token, json: { value: FIRST } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ reference: 'ldap/corp/bind-password', provider: 'host', version: 1, rotatedAt: null });
    const rotated = await api.request<Json>('PUT', '/api/secrets/ldap%2Fcorp%2Fbind-password', { token, json: { value: SECOND } });
    expect(rotated.body).toMatchObject({ reference: 'ldap/corp/bind-password', version: 2, rotatedAt: expect.any(String) });
    await api.request('PUT', '/api/secrets/sql%2Fhr', { token, json: { value: FIRST } });

    // The engine's and secretscli's store opens what the API stored.
    const store = new SecretStore(api.app.get(SecretRepository), new SecretProviders(api.app.get(AdminApiConfig).secrets));
    expect(await store.get('ldap/corp/bind-password')).toBe(SECOND);

    const list = await api.request<{ items: Json[]; nextCursor: string | null }>('GET', '/api/secrets?limit=1', { token });
    expect(list.body.items).toEqual([expect.objectContaining({ reference: 'ldap/corp/bind-password', version: 2 })]);
    const rest = await api.request<{ items: Json[]; nextCursor: string | null }>('GET', `/api/secrets?limit=1&cursor=${list.body.nextCursor}`, { token });
    expect(rest.body).toEqual({ items: [expect.objectContaining({ reference: 'sql/hr', version: 1 })], nextCursor: null });

    const audit = await api.request<{ items: Json[] }>('GET', '/api/audit?targetType=secret', { token });
    expect(audit.body.items.map((e) => [e['action'], e['targetId']])).toEqual([
      ['secret.create', 'sql/hr'],
      ['secret.rotate', 'ldap/corp/bind-password'],
      ['secret.create', 'ldap/corp/bind-password'],
    ]);
    expect(audit.body.items[1]).toMatchObject({ before: expect.objectContaining({ version: 1 }), after: expect.objectContaining({ version: 2, value: '[redacted]' }) });

    // Refused requests do not echo the value either.
    const refused = [
      await api.request('PUT', '/api/secrets/LDAP%2FUpper', { token, json: { value: FIRST } }),
      await api.request('PUT', '/api/secrets/..%2Fetc', { token, json: { value: FIRST } }),
      await api.request('PUT', '/api/secrets/ldap%2Fx', { token, json: { value: FIRST, comment: FIRST } }),
      await api.request('PUT', '/api/secrets/ldap%2Fx', { token, json: { value: `${FIRST}${'x'.repeat(17_000)}` } }),
      await api.request('PUT', '/api/secrets/ldap%2Fx', { token, json: { value: '' } }),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);

    const dataSource = api.app.get<DataSource>(DATA_SOURCE, { strict: false });
    const places: Array<[string, string]> = [
      ['answers', [created, rotated, list, rest, audit, ...refused].map((r) => r.text).join('\n')],
      ['IM_AuditEvents', JSON.stringify(await dataSource.getRepository(AuditEventEntity).find())],
      ['IM_Secrets', JSON.stringify(await dataSource.getRepository(SecretEntity).find())],
      ['logs', output.join('')],
    ];
    for (const [where, text] of places) {
      expect({ where, first: text.includes(FIRST), second: text.includes(SECOND) }).toEqual({ where, first: false, second: false });
    }
  });
});
