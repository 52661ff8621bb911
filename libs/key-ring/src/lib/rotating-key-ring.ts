import { DomainError, isOneOf, KEY_RING_PURPOSES, KeyRingPurpose } from '@identitymesh/domain';
import { KeyRingSettings, resolveKeyRingSettings } from './config/key-ring-settings';
import type { KeyRingKeyView, ManagedKeyRing, ProtectOptions } from './key-ring';
import type { KeyMaterialProtector, KeyRingKeyRecord, KeyRingKeys } from './key-ring.port';
import { KeyRingKeyExpiredError, KeyRingKeyRevokedError, KeyRingKeyUnknownError, KeyRingTokenInvalidError } from './key-ring.errors';
import { newKeyId } from './key-id';
import { decodeKeyMaterial, encodeKeyMaterial, KEY_MATERIAL_VERSION, keyMaterialReference, StoredKeyMaterial } from './material/key-material';
import { currentKey, isEmptyPlan, keyState, PlannedKey, planMaintenance, ScheduledKey, wholeSeconds } from './policy/rotation-policy';
import { deriveTokenKey, KEY_MATERIAL_BYTES, KEY_RING_ALGORITHM, newKeyMaterial, openToken, parseToken, sealToken } from './token/token-format';

/** The few log lines the key ring writes; pino and Nest's Logger both fit. */
export interface KeyRingLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface RotatingKeyRingOptions {
  /** Where the keys are stored (`KeyRingRepository` of the persistence lib over `IM_KeyRingKeys`). */
  keys: KeyRingKeys;
  /** Encrypts key material at rest: the configured secret provider. */
  protector: KeyMaterialProtector;
  /** @default DEFAULT_KEY_RING_SETTINGS */
  settings?: Partial<KeyRingSettings>;
  /** @default () => new Date() */
  now?: () => Date;
  /** @default no logging */
  log?: KeyRingLog;
}

/** A key as this process holds it: times from the row, and the derived token key when the material opened. */
interface LoadedKey extends ScheduledKey {
  algorithm: string;
  tokenKey: Buffer | undefined;
  unreadableReason: string | undefined;
  /** The sealed material as stored (nothing secret), kept for the provider's `forget`. */
  stored: StoredKeyMaterial | undefined;
}

type OpenedMaterial = { tokenKey: Buffer } | { unreadable: string };

const silent: KeyRingLog = { info: () => undefined, warn: () => undefined };

/**
 * The key ring over a KeyRingKeys store: rotation on a schedule, material
 * sealed by the secret provider, and an in-memory copy of the ring that is
 * read again at most every `refreshIntervalMs` (at once when a token names a
 * key not loaded yet). If a read fails, the last ring read keeps serving: a
 * database hiccup never mints keys or refuses valid tokens.
 */
export class RotatingKeyRing implements ManagedKeyRing {
  private readonly keys: KeyRingKeys;
  private readonly protector: KeyMaterialProtector;
  private readonly settings: KeyRingSettings;
  private readonly clock: () => Date;
  private readonly log: KeyRingLog;

  private ring?: Map<string, LoadedKey>;
  private loadedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  /** Material opens once per process: it never changes, and decrypting on every read would cost a provider call per key. */
  private readonly opened = new Map<string, OpenedMaterial>();
  private pendingRefresh?: Promise<void>;
  /** Reads, writes and maintenance of this instance run one at a time, so an older read never replaces a newer one. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: RotatingKeyRingOptions) {
    this.keys = options.keys;
    this.protector = options.protector;
    this.settings = resolveKeyRingSettings(options.settings);
    this.clock = options.now ?? (() => new Date());
    this.log = options.log ?? silent;
  }

  async protect(purpose: KeyRingPurpose, payload: string | Buffer, options: ProtectOptions = {}): Promise<string> {
    assertPurpose(purpose);
    const now = this.clock();
    if (options.expiresAt !== undefined) this.assertTokenExpiry(options.expiresAt, now);
    let ring = await this.usableRing();
    let key = currentKey([...ring.values()], purpose, now);
    if (!key || key.expiresAt.getTime() - this.settings.validationGraceMs <= now.getTime()) {
      // Maintenance normally runs with each read; this covers a revocation or a lapse since.
      try {
        await this.ensureKeys();
        ring = this.ring ?? ring;
        key = currentKey([...ring.values()], purpose, now) ?? key;
      } catch (error) {
        if (!key) throw error;
        this.log.warn(`key ring: could not create a new ${purpose} key (${messageOf(error)}); protecting with key ${key.id} until it can`);
      }
    }
    if (!key?.tokenKey) throw new Error(`key ring: no ${purpose} key to protect with`);
    return sealToken(key.id, key.tokenKey, purpose, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, options.expiresAt);
  }

  async unprotect(purpose: KeyRingPurpose, token: string): Promise<Buffer> {
    assertPurpose(purpose);
    const parsed = parseToken(token);
    if (!parsed.ok) throw new KeyRingTokenInvalidError(parsed.problem, purpose);
    let key = (await this.usableRing()).get(parsed.keyId);
    if (!key && this.clock().getTime() - this.lastAttemptAt >= this.settings.unknownKeyReloadIntervalMs) {
      // Keys normally arrive ahead of use; a key made active at once (a new ring, rotateNow) may not have.
      await this.refreshKeepingLastRing();
      key = this.ring?.get(parsed.keyId);
    }
    if (!key) throw new KeyRingKeyUnknownError(parsed.keyId);
    if (key.purpose !== purpose) throw new KeyRingTokenInvalidError('wrong-purpose', purpose, key.id);
    if (key.revokedAt) throw new KeyRingKeyRevokedError(key.id, key.revokedAt);
    const now = this.clock();
    if (now.getTime() >= key.expiresAt.getTime()) throw new KeyRingKeyExpiredError(key.id, key.expiresAt);
    if (!key.tokenKey) throw new KeyRingKeyUnknownError(key.id, key.unreadableReason);
    const opened = openToken(parsed, key.tokenKey, purpose);
    if (!opened) throw new KeyRingTokenInvalidError('tampered', purpose, key.id);
    if (opened.expiresAt && now.getTime() >= opened.expiresAt.getTime()) throw new KeyRingTokenInvalidError('expired', purpose, key.id);
    return opened.payload;
  }

  async ensureKeys(): Promise<void> {
    this.pendingRefresh ??= this.serial(() => this.refresh()).finally(() => {
      this.pendingRefresh = undefined;
    });
    return this.pendingRefresh;
  }

  async list(): Promise<KeyRingKeyView[]> {
    await this.ensureKeys();
    return this.views();
  }

  async revoke(keyId: string): Promise<KeyRingKeyView> {
    return this.serial(async () => {
      const at = wholeSeconds(this.clock().getTime());
      if (!(await this.keys.revoke(keyId, at))) throw new KeyRingKeyUnknownError(keyId);
      // Refused here from now on, even if the read below fails.
      const held = this.ring?.get(keyId);
      if (held && !held.revokedAt) held.revokedAt = at;
      this.log.info(`key ring: revoked key ${keyId}`);
      await this.refresh();
      const view = this.views().find((v) => v.id === keyId);
      if (!view) throw new KeyRingKeyUnknownError(keyId);
      return view;
    });
  }

  async rotateNow(purpose: KeyRingPurpose): Promise<KeyRingKeyView> {
    assertPurpose(purpose);
    return this.serial(() =>
      this.keys.exclusive(async () => {
        const ring = await this.read();
        const now = this.clock();
        // Never behind the key it replaces, should this host's clock be behind the one that created that key.
        const replaced = currentKey([...ring.values()], purpose, now);
        const activatesAt = wholeSeconds(Math.max(now.getTime(), replaced?.activatesAt.getTime() ?? 0));
        const expiresAt = wholeSeconds(activatesAt.getTime() + this.settings.keyLifetimeMs + this.settings.validationGraceMs);
        const key = await this.create({ purpose, activatesAt, expiresAt }, now, ring.keys());
        ring.set(key.id, key);
        this.install(ring);
        const view = this.views().find((v) => v.id === key.id);
        if (!view) throw new Error(`key ring: key ${key.id} vanished right after it was created`);
        return view;
      }),
    );
  }

  /** The ring to answer from: read again when older than the refresh interval, the last good one if that read fails. */
  private async usableRing(): Promise<Map<string, LoadedKey>> {
    if (!this.ring || this.clock().getTime() - this.lastAttemptAt >= this.settings.refreshIntervalMs) await this.refreshKeepingLastRing();
    if (!this.ring) throw new Error('key ring: not loaded');
    return this.ring;
  }

  private async refreshKeepingLastRing(): Promise<void> {
    try {
      await this.ensureKeys();
    } catch (error) {
      if (!this.ring) throw error;
      this.log.warn(`key ring: refreshing the keys failed (${messageOf(error)}); still using the ring read at ${new Date(this.loadedAt).toISOString()}`);
    }
  }

  /**
   * Reads the ring and, when the schedule asks for it, does the maintenance
   * under the store's lock, deciding again on a fresh read there: whoever
   * takes the lock second finds the work done.
   */
  private async refresh(): Promise<void> {
    this.lastAttemptAt = this.clock().getTime();
    const ring = await this.read();
    this.install(ring);
    if (isEmptyPlan(planMaintenance([...ring.values()], this.clock(), this.settings))) return;
    await this.keys.exclusive(async () => {
      const fresh = await this.read();
      const now = this.clock();
      const plan = planMaintenance([...fresh.values()], now, this.settings);
      for (const planned of plan.create) {
        const key = await this.create(planned, now, fresh.keys());
        fresh.set(key.id, key);
      }
      if (plan.remove.length > 0) {
        const removed = plan.remove.map((id) => fresh.get(id)).filter((k): k is LoadedKey => k !== undefined);
        await this.keys.remove(plan.remove);
        for (const id of plan.remove) fresh.delete(id);
        this.log.info(`key ring: removed ${plan.remove.length} key(s) past their retention: ${plan.remove.join(', ')}`);
        await this.forget(removed);
      }
      this.install(fresh);
    });
  }

  private async read(): Promise<Map<string, LoadedKey>> {
    const records = await this.keys.list();
    const ring = new Map<string, LoadedKey>();
    for (const record of records) {
      let opened = this.opened.get(record.id);
      if (!opened) {
        opened = await this.open(record);
        this.opened.set(record.id, opened);
        if ('unreadable' in opened && this.clock().getTime() < record.expiresAt.getTime() && !record.revokedAt) {
          this.log.warn(
            `key ring: the material of ${record.purpose} key ${record.id} does not open here (${opened.unreadable}); ` +
              'this process neither protects nor validates with it, and creates a new key where it needs one (see docs/key-ring.md)',
          );
        }
      }
      ring.set(record.id, loadedKey(record, opened));
    }
    for (const id of [...this.opened.keys()]) if (!ring.has(id)) this.opened.delete(id);
    return ring;
  }

  private install(ring: Map<string, LoadedKey>): void {
    this.ring = ring;
    this.loadedAt = this.clock().getTime();
  }

  /**
   * Opens a key's material. Only a provider's "cannot open this value here"
   * (SECRET_UNAVAILABLE) marks the key unreadable; any other failure — the
   * provider itself unusable, a vault unreachable — fails the read, so the
   * last good ring keeps serving and no replacement key is minted.
   */
  private async open(record: KeyRingKeyRecord): Promise<OpenedMaterial> {
    if (record.algorithm !== KEY_RING_ALGORITHM) return { unreadable: `its algorithm ${record.algorithm} is not one this build uses` };
    if (!isOneOf(KEY_RING_PURPOSES, record.purpose)) return { unreadable: `its purpose ${String(record.purpose)} is not one this build knows` };
    const stored = decodeKeyMaterial(record.material);
    if (!stored) return { unreadable: 'the stored material is not a sealed key ring key (it was altered or truncated)' };
    if (stored.provider !== this.protector.name) {
      return { unreadable: `it was sealed by the ${stored.provider} secret provider, and this process uses ${this.protector.name}` };
    }
    let text: string;
    try {
      text = await this.protector.unprotect(keyMaterialReference(record.purpose, record.id), KEY_MATERIAL_VERSION, {
        ciphertext: stored.ciphertext,
        keyId: stored.keyId,
      });
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'SECRET_UNAVAILABLE')) throw error;
      // The provider's own message suggests re-provisioning a secret, which is not how key ring keys come back.
      const here = await this.protector.currentKeyId();
      return {
        unreadable:
          stored.keyId === here
            ? `its material does not open under ${here} (the row was altered)`
            : `its material is sealed under ${stored.keyId}, and the ${this.protector.name} key here is ${here}`,
      };
    }
    const material = Buffer.from(text, 'base64');
    if (material.length !== KEY_MATERIAL_BYTES) return { unreadable: `its material is ${material.length} bytes, not ${KEY_MATERIAL_BYTES}` };
    try {
      return { tokenKey: deriveTokenKey(material, record.id, record.purpose) };
    } finally {
      material.fill(0);
    }
  }

  private async create(planned: PlannedKey, now: Date, existing: Iterable<string>): Promise<LoadedKey> {
    const id = newKeyId(now.getTime(), existing);
    const material = newKeyMaterial();
    try {
      const sealed = await this.protector.protect(keyMaterialReference(planned.purpose, id), KEY_MATERIAL_VERSION, material.toString('base64'));
      const record: KeyRingKeyRecord = {
        id,
        purpose: planned.purpose,
        material: encodeKeyMaterial(this.protector.name, sealed),
        algorithm: KEY_RING_ALGORITHM,
        createdAt: wholeSeconds(now.getTime()),
        activatesAt: planned.activatesAt,
        expiresAt: planned.expiresAt,
        revokedAt: null,
      };
      await this.keys.insert(record);
      const tokenKey = deriveTokenKey(material, id, planned.purpose);
      this.opened.set(id, { tokenKey });
      this.log.info(
        `key ring: created ${planned.purpose} key ${id}, protecting from ${planned.activatesAt.toISOString()}, valid until ${planned.expiresAt.toISOString()}`,
      );
      return loadedKey(record, { tokenKey });
    } finally {
      material.fill(0);
    }
  }

  /** Lets a provider that keeps values elsewhere (a vault) drop removed keys; a failure there leaves litter, not a broken ring. */
  private async forget(removed: LoadedKey[]): Promise<void> {
    for (const key of removed) {
      if (!this.protector.forget || key.stored?.provider !== this.protector.name) continue;
      try {
        await this.protector.forget(keyMaterialReference(key.purpose, key.id), { ciphertext: key.stored.ciphertext, keyId: key.stored.keyId });
      } catch (error) {
        this.log.warn(`key ring: the ${this.protector.name} provider could not forget the material of removed key ${key.id} (${messageOf(error)})`);
      }
    }
  }

  private views(): KeyRingKeyView[] {
    const now = this.clock();
    const keys = [...(this.ring?.values() ?? [])];
    const current = new Map(KEY_RING_PURPOSES.map((p) => [p, currentKey(keys, p, now)]));
    return keys
      .sort(
        (a, b) =>
          KEY_RING_PURPOSES.indexOf(a.purpose) - KEY_RING_PURPOSES.indexOf(b.purpose) ||
          a.activatesAt.getTime() - b.activatesAt.getTime() ||
          (a.id < b.id ? -1 : 1),
      )
      .map((key) => ({
        id: key.id,
        purpose: key.purpose,
        algorithm: key.algorithm,
        createdAt: key.createdAt,
        activatesAt: key.activatesAt,
        expiresAt: key.expiresAt,
        revokedAt: key.revokedAt,
        state: keyState(key, current.get(key.purpose), now),
        readable: key.readable,
      }));
  }

  private assertTokenExpiry(expiresAt: Date, now: Date): void {
    const ms = expiresAt.getTime();
    if (Number.isNaN(ms)) throw new RangeError('key ring: expiresAt is not a valid date');
    if (ms <= now.getTime()) throw new RangeError('key ring: expiresAt must lie in the future');
    if (ms - now.getTime() > this.settings.validationGraceMs) {
      throw new RangeError(
        `key ring: expiresAt lies ${ms - now.getTime()} ms ahead, beyond validationGraceMs (${this.settings.validationGraceMs} ms); ` +
          'a token that long-lived could outlive its key — shorten it or raise the validation grace',
      );
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function loadedKey(record: KeyRingKeyRecord, opened: OpenedMaterial): LoadedKey {
  return {
    id: record.id,
    purpose: record.purpose,
    algorithm: record.algorithm,
    createdAt: record.createdAt,
    activatesAt: record.activatesAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    readable: 'tokenKey' in opened,
    tokenKey: 'tokenKey' in opened ? opened.tokenKey : undefined,
    unreadableReason: 'unreadable' in opened ? opened.unreadable : undefined,
    stored: decodeKeyMaterial(record.material),
  };
}

function assertPurpose(purpose: KeyRingPurpose): void {
  // A programming error, not a bad token: purposes are constants in the calling code.
  if (!isOneOf(KEY_RING_PURPOSES, purpose)) throw new TypeError(`key ring: unknown purpose "${String(purpose)}"; use one of ${KEY_RING_PURPOSES.join(', ')}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
