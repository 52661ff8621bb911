import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, Server } from 'node:https';
import { createServer as createTcpServer, LookupFunction, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The vault's host name as the SDK sees it. A real-looking `*.vault.azure.net`
 * name keeps the SDK's challenge resource verification on; the agent from
 * `agent()` resolves it to 127.0.0.1, so no request ever leaves the machine.
 */
export const STAND_IN_VAULT_HOST = 'im-stand-in.vault.azure.net';

export interface StandInRequest {
  method: string;
  /** Path without the query, e.g. `/secrets/im-a-b-0123456789abcdef/`. */
  path: string;
  apiVersion: string | null;
  authorization: 'none' | 'valid' | 'invalid';
  /** Whether the request carried a body (the SDK's first, challenge-seeking request does not). */
  hadBody: boolean;
  status: number;
}

export interface StandInVersion {
  version: string;
  value: string;
  tags: Record<string, string>;
  enabled: boolean;
}

/** `forbidden`: authenticated callers get 403 (no role); `hang`: requests are accepted and never answered. */
export type StandInBehaviour = 'normal' | 'forbidden' | 'hang';

export interface KeyVaultStandIn {
  /** `https://im-stand-in.vault.azure.net:<port>/` */
  readonly url: string;
  readonly port: number;
  readonly tenantId: string;
  /** The only bearer token the stand-in accepts. */
  readonly token: string;
  readonly requests: StandInRequest[];
  behaviour: StandInBehaviour;
  /** An HTTPS agent for the SDK (`clientOptions.agent`): resolves the vault host to 127.0.0.1 and, unless told otherwise, trusts the stand-in's certificate. */
  agent(options?: { trustCertificate?: boolean }): Agent;
  /** The versions of a live (not deleted) vault secret, oldest first. */
  versions(name: string): StandInVersion[];
  isDeleted(name: string): boolean;
  disable(name: string, version: string): void;
  stop(): Promise<void>;
}

interface StoredSecret {
  name: string;
  versions: Array<StandInVersion & { created: number }>;
  deletedAt?: number;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const RETENTION_DAYS = 90;

/**
 * A local HTTPS stand-in for the Azure Key Vault secrets REST API, covering
 * the calls `@azure/keyvault-secrets` makes for set, get, delete and recover,
 * and the challenge-based authentication the SDK's policy expects: an
 * unauthenticated request gets 401 with a `WWW-Authenticate` challenge naming
 * the tenant and resource, and every other request must carry the bearer token.
 */
export async function startKeyVaultStandIn(): Promise<KeyVaultStandIn> {
  const { key, cert } = await selfSignedCertificate(STAND_IN_VAULT_HOST);
  const tenantId = randomUUID();
  const token = `stand-in-${randomBytes(16).toString('hex')}`;
  const requests: StandInRequest[] = [];
  const live = new Map<string, StoredSecret>();
  const deleted = new Map<string, StoredSecret>();
  const sockets = new Set<Socket>();
  const agents = new Set<Agent>();
  const state = { behaviour: 'normal' as StandInBehaviour };

  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? STAND_IN_VAULT_HOST}`);
    const header = req.headers.authorization;
    const entry: StandInRequest = {
      method: req.method ?? '',
      path: url.pathname,
      apiVersion: url.searchParams.get('api-version'),
      authorization: header === undefined ? 'none' : header === `Bearer ${token}` ? 'valid' : 'invalid',
      hadBody: body.length > 0,
      status: 0,
    };
    requests.push(entry);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const fail = (status: number, code: string, message: string, inner?: string) =>
      send(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } });

    if (state.behaviour === 'hang') return;
    if (!entry.apiVersion) return fail(400, 'BadParameter', 'The api-version query parameter is missing.');
    if (entry.authorization !== 'valid') {
      const challenge = `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://vault.azure.net"`;
      entry.status = 401;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json; charset=utf-8' });
      res.end(
        entry.authorization === 'none'
          ? undefined
          : JSON.stringify({ error: { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' } }),
      );
      return;
    }
    if (state.behaviour === 'forbidden') {
      return fail(403, 'Forbidden', 'Caller is not authorized to perform action on resource.', 'ForbiddenByRbac');
    }

    const base = `https://${req.headers.host}`;
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const [collection, name, third] = segments;
    const keyOf = (n: string) => n.toLowerCase();

    if (collection === 'secrets' && name !== undefined && segments.length === 2 && req.method === 'PUT') {
      if (!NAME.test(name)) return fail(400, 'BadParameter', 'The secret name is invalid.');
      if (deleted.has(keyOf(name))) {
        return fail(409, 'Conflict', `Secret ${name} is currently in a deleted but recoverable state.`, 'ObjectIsDeletedButRecoverable');
      }
      let parsed: { value?: unknown; tags?: Record<string, string> };
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {
        return fail(400, 'BadParameter', 'The request body is not JSON.');
      }
      if (typeof parsed.value !== 'string') return fail(400, 'BadParameter', 'The secret value is missing.');
      const secret = live.get(keyOf(name)) ?? { name, versions: [] };
      const version = { version: randomBytes(16).toString('hex'), value: parsed.value, tags: { ...(parsed.tags ?? {}) }, enabled: true, created: now() };
      secret.versions.push(version);
      live.set(keyOf(name), secret);
      return send(200, bundle(base, secret.name, version, true));
    }
    if (collection === 'secrets' && name !== undefined && segments.length === 3 && req.method === 'GET') {
      const secret = live.get(keyOf(name));
      const version = third === '' ? secret?.versions.at(-1) : secret?.versions.find((v) => v.version === third);
      if (!secret || !version) return fail(404, 'SecretNotFound', `A secret with (name/id) ${name}/${third} was not found in this key vault.`);
      if (!version.enabled) return fail(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
      return send(200, bundle(base, secret.name, version, true));
    }
    if (collection === 'secrets' && name !== undefined && segments.length === 2 && req.method === 'DELETE') {
      const secret = live.get(keyOf(name));
      if (!secret) return fail(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`);
      live.delete(keyOf(name));
      secret.deletedAt = now();
      deleted.set(keyOf(name), secret);
      return send(200, deletedBundle(base, secret));
    }
    if (collection === 'deletedsecrets' && name !== undefined && segments.length === 2 && req.method === 'GET') {
      const secret = deleted.get(keyOf(name));
      if (!secret) return fail(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
      return send(200, deletedBundle(base, secret));
    }
    if (collection === 'deletedsecrets' && name !== undefined && third === 'recover' && req.method === 'POST') {
      const secret = deleted.get(keyOf(name));
      if (!secret) return fail(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
      deleted.delete(keyOf(name));
      delete secret.deletedAt;
      live.set(keyOf(name), secret);
      return send(200, bundle(base, secret.name, secret.versions[secret.versions.length - 1], false));
    }
    return fail(400, 'BadRequest', `The stand-in does not serve ${req.method} ${url.pathname}.`);
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    if (hostname.toLowerCase() !== STAND_IN_VAULT_HOST) {
      const error: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      callback(error, '', 4);
    } else if (options.all) {
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    } else {
      callback(null, '127.0.0.1', 4);
    }
  };

  return {
    url: `https://${STAND_IN_VAULT_HOST}:${port}/`,
    port,
    tenantId,
    token,
    requests,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(value: StandInBehaviour) {
      state.behaviour = value;
    },
    agent(options = {}) {
      const agent = new Agent({ keepAlive: true, lookup, ...(options.trustCertificate === false ? {} : { ca: cert }) });
      agents.add(agent);
      return agent;
    },
    versions(name) {
      return (live.get(name.toLowerCase())?.versions ?? []).map(({ version, value, tags, enabled }) => ({ version, value, tags, enabled }));
    },
    isDeleted(name) {
      return deleted.has(name.toLowerCase());
    },
    disable(name, version) {
      const found = live.get(name.toLowerCase())?.versions.find((v) => v.version === version);
      if (!found) throw new Error(`the stand-in holds no version ${version} of ${name}`);
      found.enabled = false;
    },
    async stop() {
      for (const agent of agents) agent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago), for "vault down" cases. */
export async function closedPort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve, reject) => probe.close((error) => (error ? reject(error) : resolve())));
  return port;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function attributes(created: number, enabled: boolean) {
  return { enabled, created, updated: created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: RETENTION_DAYS };
}

function bundle(base: string, name: string, version: StandInVersion & { created: number }, withValue: boolean) {
  return {
    ...(withValue ? { value: version.value } : {}),
    id: `${base}/secrets/${name}/${version.version}`,
    attributes: attributes(version.created, version.enabled),
    tags: version.tags,
  };
}

function deletedBundle(base: string, secret: StoredSecret) {
  const latest = secret.versions[secret.versions.length - 1];
  const deletedDate = secret.deletedAt ?? now();
  return {
    ...bundle(base, secret.name, latest, false),
    recoveryId: `${base}/deletedsecrets/${secret.name}`,
    deletedDate,
    scheduledPurgeDate: deletedDate + RETENTION_DAYS * 86_400,
  };
}

/** A throwaway key and self-signed certificate for `host` (and 127.0.0.1), made with the openssl CLI. */
async function selfSignedCertificate(host: string): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'im-akv-stand-in-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host},IP:127.0.0.1`,
    ]);
    return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
