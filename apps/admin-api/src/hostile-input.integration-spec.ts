import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@identitymesh/persistence';
import { AdminApiHarness, ApiAnswer } from './support/admin-api-harness';

jest.setTimeout(240_000);

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  hasBody: boolean;
  parameters: Array<{ name: string; in: string }>;
}

const HOSTILE_STRINGS = [
  "' OR '1'='1' --",
  '"; DROP TABLE "IM_Connectors"; --',
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  '\u0000\u0001\u001f',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '\uD800',
  'ǅ̵̡̢̛̛̛̗̱̘̜̤̙̙̮̟̞̫'.repeat(50),
  'x'.repeat(5_000),
];

/** Expressions meant to hurt an evaluator: deep, long, exponential, forbidden. */
const HOSTILE_EXPRESSIONS = [
  `${'('.repeat(500)}1${')'.repeat(500)}`,
  'a'.repeat(5_000),
  'matches(status, "(a+)+$")',
  'cel.bind(x, "aaaaaaaaaa", cel.bind(y, x + x, y + y))',
  '[1,2,3].map(a, [1,2,3].map(b, [1,2,3].map(c, a)))',
  `${'size("x") + '.repeat(300)}1`,
  'status ==',
  '__proto__',
  'constructor.constructor("return process")()',
];

/**
 * R9: malformed and hostile input to every mutating route of the OpenAPI
 * document gets a 4xx problem document, never a 5xx; nothing is half-saved
 * and the process stays up.
 */
describe('hostile input on every mutating route', () => {
  let api: AdminApiHarness;
  let token: string;
  let operations: Operation[];
  let connectorId: string;
  let ruleId: string;
  const files = mkdtempSync(join(tmpdir(), 'im-admin-api-hostile-'));
  const csv = join(files, 'people.csv');
  writeFileSync(csv, 'id,status\n1,active\n');
  const connectorBody = (name: string) => ({ name, type: 'csv', config: { path: csv, anchorColumn: 'id', columns: [{ column: 'id' }, { column: 'status' }] } });
  const ruleBody = () => ({ kind: 'scoping', connectorId, objectType: 'person', name: 'active', ordinal: 1, definition: { condition: 'status == "active"' } });

  /** A body each route accepts, the base the cases below spoil. */
  const validBody = (op: Operation): Json => {
    switch (`${op.method} ${op.template}`) {
      case 'POST /api/connectors':
      case 'PUT /api/connectors/{id}':
        return connectorBody('hostile-base');
      case 'POST /api/rules':
      case 'PUT /api/rules/{id}':
        return ruleBody();
      case 'POST /api/rules/preview':
        return { ...ruleBody(), name: undefined, ordinal: undefined, sample: { cso: { anchor: '1', attributes: { status: ['active'] } } } } as Json;
      case 'POST /api/connectors/{id}/runs':
        return { profile: 'full-import' };
      case 'POST /api/api-keys':
        return { name: 'hostile', permissions: ['runs.read'] };
      case 'POST /api/relays/enrollments':
        return { relayGroup: 'branch' };
      case 'POST /api/relays/enroll':
        return { token: `ime_00000000-0000-4000-8000-000000000000_${'A'.repeat(43)}`, name: 'hostile-relay' };
      case 'POST /api/relays/{id}/commands':
        return { kind: 'ping' };
      default:
        return {};
    }
  };

  const counts = async (): Promise<Record<string, number>> => {
    const dataSource = api.app.get<DataSource>(DATA_SOURCE, { strict: false });
    const result: Record<string, number> = {};
    for (const table of ['IM_Connectors', 'IM_SyncRules', 'IM_Runs', 'IM_ApiKeys', 'IM_AuditEvents']) {
      const [row] = (await dataSource.query(`SELECT COUNT(*) AS n FROM "${table}"`)) as Array<{ n: number }>;
      result[table] = Number(row?.n);
    }
    return result;
  };

  beforeAll(async () => {
    api = await AdminApiHarness.start();
    token = (await api.createKey()).token;
    connectorId = (await api.request<Json>('POST', '/api/connectors', { token, json: connectorBody('hr') })).body['id'] as string;
    ruleId = (await api.request<Json>('POST', '/api/rules', { token, json: ruleBody() })).body['id'] as string;
    const document = (await api.request<{ paths: Record<string, Record<string, { requestBody?: unknown; parameters?: Array<{ name: string; in: string }> }>> }>('GET', '/api/docs.json')).body;
    operations = Object.entries(document.paths).flatMap(([template, methods]) =>
      Object.entries(methods)
        .filter(([method]) => method !== 'get')
        .map(([method, operation]) => ({ method: method.toUpperCase(), template, hasBody: operation.requestBody !== undefined, parameters: operation.parameters ?? [] })),
    );
  });
  afterAll(async () => {
    await api?.close();
    rmSync(files, { recursive: true, force: true });
  });

  const pathOf = (op: Operation, value?: string) =>
    op.template.replace(/\{([^}]+)\}/g, () => encodeURIComponent(value ?? (op.template.startsWith('/api/rules') ? ruleId : op.template.startsWith('/api/connectors') ? connectorId : '00000000-0000-4000-8000-000000000000')));

  function expectRefused(answer: ApiAnswer, what: string): void {
    const summary = { what, status: answer.status, problem: /application\/problem\+json/.test(answer.headers.get('content-type') ?? '') };
    expect(summary.status >= 400 && summary.status < 500 ? { ...summary, status: '4xx' } : summary).toEqual({ what, status: '4xx', problem: true });
    expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+|QueryFailedError|SQLITE_|stack/);
  }

  it('finds the mutating routes in the document', () => {
    expect(operations.map((o) => `${o.method} ${o.template}`)).toEqual(
      expect.arrayContaining(['POST /api/connectors', 'PUT /api/connectors/{id}', 'DELETE /api/connectors/{id}', 'POST /api/rules', 'POST /api/rules/preview', 'POST /api/connectors/{id}/runs', 'POST /api/runs/{id}/approve-deletes', 'POST /api/api-keys', 'DELETE /api/api-keys/{id}']),
    );
  });

  it('refuses malformed bodies, unknown fields, oversized and deep bodies, hostile paths and queries on every mutating route, storing nothing', async () => {
    const before = await counts();
    for (const op of operations) {
      const name = `${op.method} ${op.template}`;
      const base = validBody(op);
      const cases: Array<[string, Parameters<AdminApiHarness['request']>[2], string?]> = [
        ['malformed JSON', { raw: '{"name": "x",', contentType: 'application/json' }],
        ['JSON that is not an object', { raw: '[1,2,3]', contentType: 'application/json' }],
        ['a JSON string', { raw: '"x"', contentType: 'application/json' }],
        ['JSON null', { raw: 'null', contentType: 'application/json' }],
        ['a body of another type', { raw: JSON.stringify(op.hasBody ? base : { x: 1 }), contentType: 'text/plain' }],
        ['a form body', { raw: 'name=x&type=csv', contentType: 'application/x-www-form-urlencoded' }],
        ['an oversized body', { raw: JSON.stringify({ ...base, padding: 'x'.repeat(200_000) }), contentType: 'application/json' }],
        ['a deeply nested body', { raw: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`, contentType: 'application/json' }],
        ['a wide body', { json: Object.fromEntries(Array.from({ length: 5_000 }, (_v, i) => [`k${i}`, i])) }],
        ['an unknown field', { json: { ...base, unexpected: true } }],
        ['a prototype key', { raw: JSON.stringify(base).replace(/^\{/, '{"__proto__":{"admin":true},').replace(',}', '}'), contentType: 'application/json' }],
        ['an unknown query parameter', { json: op.hasBody ? base : undefined }, '?debug=1'],
        ['a repeated query parameter', { json: op.hasBody ? base : undefined }, '?limit=1&limit=2'],
      ];
      for (const [label, options, query] of cases) {
        expectRefused(await api.request(op.method, `${pathOf(op)}${query ?? ''}`, { token, ...options }), `${name}: ${label}`);
      }
      if (op.parameters.some((p) => p.in === 'path')) {
        for (const hostile of [...HOSTILE_STRINGS.filter((s) => !s.includes('\uD800')), '%', '%FF', '00000000-0000-4000-8000-000000000000x']) {
          const path = op.template.replace(/\{([^}]+)\}/g, hostile === '%' || hostile === '%FF' ? hostile : encodeURIComponent(hostile));
          expectRefused(await api.request(op.method, path, { token, json: op.hasBody ? base : undefined }), `${name}: path ${JSON.stringify(hostile.slice(0, 20))}`);
        }
      }
    }
    expect(await counts()).toEqual(before);
    expect((await api.request('GET', '/health/live')).status).toBe(200);
  });

  it('answers wrong types and hostile strings in every field with a 4xx problem, or stores them exactly; never a 5xx', async () => {
    for (const op of operations.filter((o) => o.hasBody)) {
      const base = validBody(op);
      for (const [key, value] of Object.entries(base)) {
        const spoiled: unknown[] = [null, 12, true, [], {}, 'x'.repeat(70_000), -1, 1e308, ...HOSTILE_STRINGS];
        for (const wrong of spoiled) {
          if (JSON.stringify(wrong) === JSON.stringify(value)) continue;
          const what = `${op.method} ${op.template}: ${key} = ${JSON.stringify(wrong).slice(0, 24)}`;
          const answer = await api.request<Json>(op.method, pathOf(op), { token, json: { ...base, [key]: wrong } });
          if (answer.status >= 400) {
            expectRefused(answer, what);
          } else if (typeof wrong === 'string' && typeof answer.body[key] === 'string') {
            // Accepted as data: stored and returned exactly, never interpreted.
            expect({ what, stored: answer.body[key] }).toEqual({ what, stored: wrong.trim() });
          }
        }
      }
    }
    expect((await api.request('GET', '/health/live')).status).toBe(200);
  });

  it('refuses hostile rule expressions with a 4xx or a failed preview, and stays responsive', async () => {
    const before = await counts();
    for (const expression of HOSTILE_EXPRESSIONS) {
      const started = Date.now();
      const saved = await api.request('POST', '/api/rules', { token, json: { ...ruleBody(), definition: { condition: expression } } });
      expectRefused(saved, `save ${expression.slice(0, 30)}`);
      const preview = await api.request<Json>('POST', '/api/rules/preview', { token, json: { kind: 'scoping', connectorId, objectType: 'person', definition: { condition: expression }, sample: { cso: { anchor: '1', attributes: { status: ['a'.repeat(16_000)] } } } } });
      expect({ expression: expression.slice(0, 30), status: preview.status, ok: preview.body['ok'] }).toEqual({ expression: expression.slice(0, 30), status: 200, ok: false });
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses hostile list queries with a 4xx', async () => {
    for (const path of ['/api/connectors', '/api/runs', '/api/rules', '/api/audit', '/api/api-keys']) {
      for (const query of ['limit=0', 'limit=-1', 'limit=1e9', 'limit=abc', 'cursor=%27%20OR%201%3D1', `cursor=${'A'.repeat(600)}`, 'cursor=WyJ4Il0', 'from=yesterday', 'status=bogus', 'connectorId=1%27', 'kind=%00', 'actor=']) {
        const answer = await api.request('GET', `${path}?${query}`, { token });
        expectRefused(answer, `GET ${path}?${query}`);
      }
    }
  });
});
