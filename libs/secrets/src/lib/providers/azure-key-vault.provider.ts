import { createHash } from 'node:crypto';
import { AggregateAuthenticationError, AuthenticationError, CredentialUnavailableError, DefaultAzureCredential, TokenCredential } from '@azure/identity';
import { KeyVaultSecret, SecretClient, SecretClientOptions } from '@azure/keyvault-secrets';
import type { ProtectedSecret, SecretProvider, SecretReplacement } from '../secret-provider';
import { SecretProviderUnavailableError, SecretUnavailableError } from '../secret.errors';

export const AKV_CACHE_SECONDS_DEFAULT = 60;
/** A value disabled in the vault during an incident keeps being served from memory at most this long. */
export const AKV_CACHE_SECONDS_MAX = 3600;
export const AKV_CACHE_MAX_ENTRIES_DEFAULT = 500;
export const AKV_OPERATION_TIMEOUT_MS_DEFAULT = 30_000;

/** Tags on every vault secret version IdentityMesh writes: who it belongs to, and which IdentityMesh version it is. */
export const AKV_REFERENCE_TAG = 'identitymesh-reference';
export const AKV_VERSION_TAG = 'identitymesh-version';

const PROVIDER = 'azure-key-vault';
const VAULT_SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VAULT_SECRET_VERSION = /^[0-9a-zA-Z]{1,64}$/;
const READABLE_PART_MAX = 96;
// Recovery of a soft-deleted secret takes seconds in a real vault; polling faster only spends requests.
const RECOVERY_POLL_MS = 1000;

export interface AzureKeyVaultProviderOptions {
  /** The vault, `https://<vault-name>.vault.azure.net/` (IM_SECRETS_AKV_URL). */
  vaultUrl: string | undefined;
  /** How long a value read from the vault is served from memory, in seconds; 0 reads the vault every time. @default 60 */
  cacheSeconds?: number;
  /** Most values the read cache holds; the oldest goes first. @default 500 */
  cacheMaxEntries?: number;
  /** Longest one vault operation may take, retries included, before it fails as unreachable. @default 30000 */
  operationTimeoutMs?: number;
  /**
   * Who this host is to Entra ID.
   * @default new DefaultAzureCredential() — environment (AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret or certificate),
   * workload identity, managed identity; AZURE_TOKEN_CREDENTIALS=prod leaves out the developer tools' logins.
   */
  credential?: TokenCredential;
  /** Passed to the SDK's SecretClient: retries, proxy, TLS trust, HTTP agent. @default {} */
  clientOptions?: SecretClientOptions;
  /** The read cache's clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** What `ProtectedSecret.ciphertext` holds for this provider: where the value is, never the value. */
export interface VaultSecretLocation {
  name: string;
  version: string;
}

interface CachedValue {
  value: string;
  tags: Record<string, string>;
  expiresAt: number;
}

/**
 * Values live in Azure Key Vault; SQL holds only the vault secret's name and
 * version (keyId `akv:<vault host>`). Each IdentityMesh reference maps to one
 * vault secret, and each `set`/`rotate` adds a vault version to it, so old
 * versions stay readable in the vault as the vault keeps them; the vault
 * secret is deleted (soft delete) only when the IdentityMesh secret is
 * deleted or rewrapped to another provider.
 */
export class AzureKeyVaultProvider implements SecretProvider {
  readonly name = PROVIDER;
  readonly vaultUrl: string;
  private readonly vaultHost: string;
  private readonly client: SecretClient;
  private readonly cache = new Map<string, CachedValue>();
  private readonly cacheMs: number;
  private readonly cacheMaxEntries: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: AzureKeyVaultProviderOptions) {
    if (options.vaultUrl === undefined || options.vaultUrl.trim() === '') {
      throw new SecretProviderUnavailableError(PROVIDER, 'IM_SECRETS_AKV_URL is not set; set it to the vault URL, such as https://<vault-name>.vault.azure.net/');
    }
    const problem = vaultUrlProblem(options.vaultUrl);
    if (problem) throw new SecretProviderUnavailableError(PROVIDER, `IM_SECRETS_AKV_URL ${problem}`);
    const url = new URL(options.vaultUrl);
    this.vaultHost = url.host.toLowerCase();
    this.vaultUrl = `https://${this.vaultHost}/`;
    this.cacheMs = Math.max(0, options.cacheSeconds ?? AKV_CACHE_SECONDS_DEFAULT) * 1000;
    this.cacheMaxEntries = Math.max(1, options.cacheMaxEntries ?? AKV_CACHE_MAX_ENTRIES_DEFAULT);
    this.timeoutMs = options.operationTimeoutMs ?? AKV_OPERATION_TIMEOUT_MS_DEFAULT;
    this.now = options.now ?? Date.now;
    this.client = new SecretClient(this.vaultUrl, options.credential ?? defaultCredential(), options.clientOptions ?? {});
  }

  async currentKeyId(): Promise<string> {
    return this.keyId();
  }

  async protect(reference: string, version: number, value: string): Promise<ProtectedSecret> {
    const name = vaultSecretName(reference);
    const tags = { [AKV_REFERENCE_TAG]: reference, [AKV_VERSION_TAG]: String(version) };
    let written: KeyVaultSecret;
    try {
      written = await this.client.setSecret(name, value, { tags, abortSignal: this.deadline() });
    } catch (error) {
      const failure = classify(error);
      // Deleting a secret leaves its name soft-deleted in the vault; setting the reference again brings the name back first.
      if (failure.kind !== 'conflict') throw this.providerFailure(`storing ${reference} as vault secret ${name}`, failure);
      await this.recover(reference, name);
      try {
        written = await this.client.setSecret(name, value, { tags, abortSignal: this.deadline() });
      } catch (retryError) {
        throw this.providerFailure(`storing ${reference} as vault secret ${name} after recovering it`, classify(retryError));
      }
    }
    const vaultVersion = written.properties.version;
    if (!vaultVersion || !VAULT_SECRET_VERSION.test(vaultVersion)) {
      throw new SecretProviderUnavailableError(PROVIDER, `storing ${reference}: vault ${this.vaultHost} answered without a usable secret version`);
    }
    return { ciphertext: formatVaultSecretLocation({ name, version: vaultVersion }), keyId: this.keyId() };
  }

  async unprotect(reference: string, version: number, stored: ProtectedSecret): Promise<string> {
    const location = this.locate(reference, stored);
    const key = `${location.name}/${location.version}`;
    let entry = this.cached(key);
    if (!entry) {
      entry = await this.read(reference, location);
      this.remember(key, entry);
    }
    const taggedReference = entry.tags[AKV_REFERENCE_TAG];
    const taggedVersion = entry.tags[AKV_VERSION_TAG];
    if (taggedReference !== reference || taggedVersion !== String(version)) {
      throw new SecretUnavailableError(
        reference,
        `vault secret ${location.name} version ${location.version} is tagged as ` +
          `${taggedReference === undefined ? 'no IdentityMesh secret' : `version ${taggedVersion ?? '?'} of ${taggedReference}`}, not version ${version} of ${reference} ` +
          '(the record was copied or altered, or the tags were edited in the vault)',
        `Set it again with "secretscli set ${reference}".`,
      );
    }
    return entry.value;
  }

  /**
   * Deletes the vault secret (all its versions, recoverable for the vault's
   * soft-delete retention) when the IdentityMesh secret was deleted or moved
   * to another provider. After `set`/`rotate` the new version lives in the
   * same vault secret, so nothing is deleted and the old version stays as a
   * vault version.
   */
  async forget(reference: string, stored: ProtectedSecret, replacedBy?: SecretReplacement): Promise<void> {
    if (replacedBy?.provider === PROVIDER && replacedBy.keyId === stored.keyId) {
      const now = parseVaultSecretLocation(replacedBy.ciphertext);
      const before = parseVaultSecretLocation(stored.ciphertext);
      if (now && before && now.name.toLowerCase() === before.name.toLowerCase()) return;
    }
    const location = parseVaultSecretLocation(stored.ciphertext);
    if (!location) return;
    if (stored.keyId !== this.keyId()) {
      // Another vault's value can't be reached from here; after a rotation it simply stays there as history.
      if (replacedBy) return;
      throw new SecretProviderUnavailableError(
        PROVIDER,
        `${reference} is deleted from IdentityMesh, but its value stays in vault ${vaultOf(stored.keyId)} as secret ${location.name}, ` +
          `and this host is configured for vault ${this.vaultHost}; delete it there ("az keyvault secret delete --id https://${vaultOf(stored.keyId)}/secrets/${location.name}")`,
      );
    }
    this.dropCached(location.name);
    try {
      await this.client.beginDeleteSecret(location.name, { abortSignal: this.deadline() });
    } catch (error) {
      const failure = classify(error);
      // Already gone, or already being deleted: the outcome wanted.
      if (failure.kind === 'not-found' || failure.kind === 'conflict') return;
      throw this.providerFailure(
        `deleting vault secret ${location.name} of ${reference} (IdentityMesh no longer refers to it; delete it in the vault once it is reachable)`,
        failure,
      );
    }
  }

  private keyId(): string {
    return `akv:${this.vaultHost}`;
  }

  private locate(reference: string, stored: ProtectedSecret): VaultSecretLocation {
    if (stored.keyId !== this.keyId()) {
      throw new SecretUnavailableError(
        reference,
        `it is kept in vault ${vaultOf(stored.keyId)}, and this host is configured for vault ${this.vaultHost}`,
        `Set IM_SECRETS_AKV_URL to https://${vaultOf(stored.keyId)}/ on this host, or set it again here ("secretscli set ${reference}").`,
      );
    }
    const location = parseVaultSecretLocation(stored.ciphertext);
    if (!location) {
      throw new SecretUnavailableError(reference, 'the stored vault reference is not readable (it was truncated or altered)', `Set it again with "secretscli set ${reference}".`);
    }
    if (location.name.toLowerCase() !== vaultSecretName(reference)) {
      throw new SecretUnavailableError(
        reference,
        `the stored vault reference names vault secret ${location.name}, which belongs to another reference (the record was copied or altered)`,
        `Set it again with "secretscli set ${reference}".`,
      );
    }
    return location;
  }

  private async read(reference: string, location: VaultSecretLocation): Promise<CachedValue> {
    let secret: KeyVaultSecret;
    try {
      secret = await this.client.getSecret(location.name, { version: location.version, abortSignal: this.deadline() });
    } catch (error) {
      const failure = classify(error);
      const where = `vault secret ${location.name} version ${location.version} in ${this.vaultHost}`;
      switch (failure.kind) {
        case 'not-found':
          throw new SecretUnavailableError(
            reference,
            `${where} does not exist (${failure.detail}; it was deleted or purged in the vault)`,
            `If it is soft-deleted, recover it ("az keyvault secret recover --vault-name ${vaultName(this.vaultHost)} --name ${location.name}"); otherwise set it again ("secretscli set ${reference}").`,
          );
        case 'disabled':
          throw new SecretUnavailableError(
            reference,
            `${where} is disabled in the vault`,
            `Enable that version again ("az keyvault secret set-attributes --enabled true --id ${this.vaultUrl}secrets/${location.name}/${location.version}") or set a new value ("secretscli set ${reference}").`,
          );
        case 'forbidden':
          throw new SecretUnavailableError(
            reference,
            `the vault refused to let this host read ${where} (${failure.detail})`,
            `Give this host's identity the "Key Vault Secrets User" role (reading) or "Key Vault Secrets Officer" role (setting and deleting) on the vault, or check the vault's firewall.`,
          );
        default:
          throw this.providerFailure(`reading ${reference}`, failure);
      }
    }
    if (typeof secret.value !== 'string') {
      throw new SecretProviderUnavailableError(PROVIDER, `reading ${reference}: vault ${this.vaultHost} answered without the value of vault secret ${location.name}`);
    }
    return { value: secret.value, tags: { ...(secret.properties.tags ?? {}) }, expiresAt: this.now() + this.cacheMs };
  }

  private async recover(reference: string, name: string): Promise<void> {
    try {
      const poller = await this.client.beginRecoverDeletedSecret(name, { intervalInMs: RECOVERY_POLL_MS, abortSignal: this.deadline() });
      await poller.pollUntilDone({ abortSignal: this.deadline() });
    } catch (error) {
      const failure = classify(error);
      if (failure.kind === 'not-found' || failure.kind === 'conflict') {
        throw new SecretProviderUnavailableError(
          PROVIDER,
          `storing ${reference}: vault secret ${name} is still being deleted in ${this.vaultHost} (${failure.detail}); try again in a minute, ` +
            `or give it another reference`,
        );
      }
      throw this.providerFailure(`storing ${reference}: recovering the soft-deleted vault secret ${name}`, failure);
    }
  }

  private cached(key: string): CachedValue | undefined {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.cache.delete(key);
      return undefined;
    }
    return entry;
  }

  private remember(key: string, entry: CachedValue): void {
    if (this.cacheMs === 0) return;
    this.cache.delete(key);
    while (this.cache.size >= this.cacheMaxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, entry);
  }

  private dropCached(name: string): void {
    const prefix = `${name.toLowerCase()}/`;
    for (const key of [...this.cache.keys()]) if (key.toLowerCase().startsWith(prefix)) this.cache.delete(key);
  }

  private deadline(): AbortSignal {
    return AbortSignal.timeout(this.timeoutMs);
  }

  private providerFailure(doing: string, failure: VaultFailure): SecretProviderUnavailableError {
    const vault = `vault ${this.vaultHost}`;
    switch (failure.kind) {
      case 'unreachable':
        return new SecretProviderUnavailableError(
          PROVIDER,
          `${doing}: ${vault} cannot be reached (${failure.detail}); check IM_SECRETS_AKV_URL, DNS and the network path to the vault (proxy, firewall, private endpoint)`,
        );
      case 'tls':
        return new SecretProviderUnavailableError(
          PROVIDER,
          `${doing}: the TLS certificate of ${vault} is not trusted here (${failure.detail}); if a proxy inspects TLS, add its CA with NODE_EXTRA_CA_CERTS`,
        );
      case 'credential':
        return new SecretProviderUnavailableError(
          PROVIDER,
          `${doing}: this host could not get an Entra ID token for ${vault} (${failure.detail}); give it a managed identity or workload identity, ` +
            'or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH (or AZURE_CLIENT_SECRET)',
        );
      case 'unauthenticated':
        return new SecretProviderUnavailableError(
          PROVIDER,
          `${doing}: ${vault} rejected this host's Entra ID token (${failure.detail}); check that the identity belongs to the vault's tenant and that the token is current`,
        );
      case 'forbidden':
      case 'disabled':
        return new SecretProviderUnavailableError(
          PROVIDER,
          `${doing}: ${vault} refused the operation (${failure.detail}); give this host's identity the "Key Vault Secrets Officer" role on the vault, or check the vault's firewall`,
        );
      case 'throttled':
        return new SecretProviderUnavailableError(PROVIDER, `${doing}: ${vault} is throttling this host (${failure.detail}); try again later, and raise IM_SECRETS_AKV_CACHE_SECONDS if reads are frequent`);
      case 'not-found':
      case 'conflict':
      case 'other':
        return new SecretProviderUnavailableError(PROVIDER, `${doing}: ${vault} failed (${failure.detail})`);
    }
  }
}

/**
 * The vault secret that holds `reference`: `im-` and the reference with every
 * run of other characters turned into `-` (readable in the portal), then 16 hex
 * of its SHA-256, which tells apart references the readable part would merge
 * (`a/b`, `a.b`, `a_b`). At most 116 characters of [0-9a-z-].
 */
export function vaultSecretName(reference: string): string {
  const readable = reference
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, READABLE_PART_MAX)
    .replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(reference, 'utf8').digest('hex').slice(0, 16);
  return readable ? `im-${readable}-${hash}` : `im-${hash}`;
}

/** What is wrong with a vault URL, or undefined when it is usable: https, a host, no path, no credentials. */
export function vaultUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL such as https://<vault-name>.vault.azure.net/ (got "${value.slice(0, 200)}")`;
  }
  if (url.protocol !== 'https:') return `must use https (got "${url.protocol}")`;
  if (url.username || url.password) return 'must not hold a user name or password';
  if (url.pathname !== '/' || url.search || url.hash) return `must be the vault's base URL with no path, such as https://${url.host}/`;
  return undefined;
}

export function formatVaultSecretLocation(location: VaultSecretLocation): string {
  return JSON.stringify({ name: location.name, version: location.version });
}

/** The vault reference in a stored record, or undefined when it is not one. */
export function parseVaultSecretLocation(ciphertext: string): VaultSecretLocation | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ciphertext);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { name, version } = parsed as Record<string, unknown>;
  if (typeof name !== 'string' || !VAULT_SECRET_NAME.test(name)) return undefined;
  if (typeof version !== 'string' || !VAULT_SECRET_VERSION.test(version)) return undefined;
  return { name, version };
}

function defaultCredential(): TokenCredential {
  try {
    return new DefaultAzureCredential();
  } catch (error) {
    // Thrown for a bad AZURE_TOKEN_CREDENTIALS or a missing required variable; the message names it and holds no secret.
    throw new SecretProviderUnavailableError(PROVIDER, `the Azure identity cannot be set up: ${firstLine(error)}`);
  }
}

function vaultOf(keyId: string): string {
  return keyId.startsWith('akv:') ? keyId.slice('akv:'.length) : keyId;
}

function vaultName(host: string): string {
  return host.split('.')[0];
}

type VaultFailureKind =
  | 'unreachable'
  | 'tls'
  | 'credential'
  | 'unauthenticated'
  | 'forbidden'
  | 'disabled'
  | 'not-found'
  | 'conflict'
  | 'throttled'
  | 'other';

interface VaultFailure {
  kind: VaultFailureKind;
  /** Status and error codes only: the service's message text and the SDK's stack stay out of IdentityMesh errors. */
  detail: string;
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|HOSTNAME_MISMATCH)/;

function classify(error: unknown): VaultFailure {
  if (error instanceof CredentialUnavailableError || error instanceof AuthenticationError || error instanceof AggregateAuthenticationError) {
    return { kind: 'credential', detail: error.name };
  }
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const name = typeof fields['name'] === 'string' ? fields['name'] : 'Error';
  if (name === 'AbortError') return { kind: 'unreachable', detail: 'no answer in time' };
  const statusCode = typeof fields['statusCode'] === 'number' ? fields['statusCode'] : undefined;
  const code = typeof fields['code'] === 'string' ? fields['code'] : undefined;
  if (statusCode === undefined) {
    if (code && TLS_CODES.test(code)) return { kind: 'tls', detail: code };
    if (name === 'RestError') return { kind: 'unreachable', detail: code ?? 'connection failed' };
    return { kind: 'other', detail: code ? `${name} ${code}` : firstLine(error) };
  }
  const inner = innerErrorCode(fields['details']);
  const detail = [String(statusCode), code, inner].filter(Boolean).join(' ');
  if (statusCode === 401) return { kind: 'unauthenticated', detail };
  if (statusCode === 403) return { kind: inner === 'SecretDisabled' ? 'disabled' : 'forbidden', detail };
  if (statusCode === 404) return { kind: 'not-found', detail };
  if (statusCode === 409) return { kind: 'conflict', detail };
  if (statusCode === 429) return { kind: 'throttled', detail };
  return { kind: 'other', detail };
}

/** The most specific code in a Key Vault error body (`innererror.code`, nested). */
function innerErrorCode(details: unknown): string | undefined {
  let node: unknown = typeof details === 'object' && details !== null ? (details as Record<string, unknown>)['error'] : undefined;
  let code: string | undefined;
  for (let depth = 0; depth < 5 && typeof node === 'object' && node !== null; depth += 1) {
    const inner = (node as Record<string, unknown>)['innerError'] ?? (node as Record<string, unknown>)['innererror'];
    if (typeof inner !== 'object' || inner === null) break;
    const innerCode = (inner as Record<string, unknown>)['code'];
    if (typeof innerCode === 'string') code = innerCode;
    node = inner;
  }
  return code;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n')[0].slice(0, 300);
}
