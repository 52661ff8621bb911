import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiKeyRepository, TransactionRunner } from '@identitymesh/persistence';
import { buildAppModule } from '../app.module';
import { hashApiKeySecret, newApiKey } from '../auth/api-key-secret';
import { Permission, PERMISSIONS } from '../auth/permissions';
import { AdminApiConfig } from '../config/admin-api.config';

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** A value sent as JSON. */
  json?: unknown;
  /** Sent as it is, with `contentType`. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The Admin API as a Nest app on loopback over a throwaway SQLite database, for integration tests. */
export class AdminApiHarness {
  private constructor(
    readonly app: INestApplication,
    readonly url: string,
    private readonly dataDir: string,
  ) {}

  /** `port` when a test must know the URL before start (a redirect URI in the settings); any free port otherwise. */
  static async start(env: Record<string, string> = {}, options: { port?: number } = {}): Promise<AdminApiHarness> {
    const dataDir = await mkdtemp(join(tmpdir(), 'im-admin-api-'));
    const config = AdminApiConfig.load({ IM_DATA_DIR: dataDir, IM_DB_TYPE: 'sqlite', IM_LOG_LEVEL: 'error', ...env }, dataDir);
    const app = await NestFactory.create(buildAppModule(config), { logger: ['error'], abortOnError: false });
    await app.listen(options.port ?? 0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return new AdminApiHarness(app, `http://127.0.0.1:${port}`, dataDir);
  }

  async close(): Promise<void> {
    await this.app.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** An API key made directly in the database (how the first key of an installation is made), returned as its token. */
  async createKey(permissions: readonly Permission[] = PERMISSIONS, options: { expiresAt?: Date; name?: string } = {}): Promise<{ id: string; token: string; prefix: string }> {
    const { prefix, secret, token } = newApiKey();
    const id = randomUUID();
    const secretHash = await hashApiKeySecret(secret);
    await this.app.get(TransactionRunner).run((tx) =>
      this.app.get(ApiKeyRepository).insert(tx, {
        id,
        name: options.name ?? 'test key',
        prefix,
        secretHash,
        permissions: [...permissions],
        createdBy: 'test',
        createdAt: new Date(),
        expiresAt: options.expiresAt ?? new Date(Date.now() + 3600_000),
      }),
    );
    return { id, token, prefix };
  }

  async request<T = Record<string, unknown>>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
      if (options.contentType) headers['content-type'] = options.contentType;
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if (/json/.test(response.headers.get('content-type') ?? '')) parsed = text ? JSON.parse(text) : null;
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
}

/** The OIDC provider of support/oidc-test-provider.mjs, running as a child process. */
export class OidcTestProvider {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    readonly audience: string,
  ) {}

  static async start(): Promise<OidcTestProvider> {
    const child = spawn(process.execPath, [join(__dirname, 'oidc-test-provider.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the OIDC test provider did not start within 30 s: ${stderr}`)), 30_000);
      child.once('exit', (code) => reject(new Error(`the OIDC test provider exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (first) => {
        clearTimeout(timer);
        resolve(first);
      });
    });
    const { issuer, audience } = JSON.parse(line) as { issuer: string; audience: string };
    return new OidcTestProvider(child, issuer, audience);
  }

  /** An access token by the client credentials grant; `resource` other than the audience makes a token for another API. */
  async token(clientId: string, resource = this.audience): Promise<string> {
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientId}-secret`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource }).toString(),
    });
    const body = (await response.json()) as { access_token?: string; error?: string };
    if (!body.access_token) throw new Error(`no token for ${clientId}: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
