import { KEY_RING_PURPOSES, KeyRingPurpose } from '@identitymesh/domain';
import type { KeyRingKeyState } from '../key-ring';
import type { KeyRingSettings } from '../config/key-ring-settings';

/** What the schedule looks at: a key's times and whether this process can use its material. */
export interface ScheduledKey {
  id: string;
  purpose: KeyRingPurpose;
  createdAt: Date;
  activatesAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  readable: boolean;
}

export interface PlannedKey {
  purpose: KeyRingPurpose;
  activatesAt: Date;
  expiresAt: Date;
}

export interface MaintenancePlan {
  create: PlannedKey[];
  /** Ids of keys past their expiry plus retention. */
  remove: string[];
}

/** Revoked keys and keys past their expiry neither protect nor validate. */
export function isLive(key: ScheduledKey, now: Date): boolean {
  return key.revokedAt === null && now.getTime() < key.expiresAt.getTime();
}

/**
 * The key that protects new tokens of `purpose`: the newest activated, live
 * key whose material opens here. Ties (two keys activated in the same
 * second) go to the greater id, which is the later-created key (see
 * `newKeyId`), so every process picks the same key whatever its clock says.
 */
export function currentKey<K extends ScheduledKey>(keys: readonly K[], purpose: KeyRingPurpose, now: Date): K | undefined {
  let best: K | undefined;
  for (const key of keys) {
    if (key.purpose !== purpose || !key.readable || !isLive(key, now) || key.activatesAt.getTime() > now.getTime()) continue;
    if (!best || compareNewest(key, best) > 0) best = key;
  }
  return best;
}

/**
 * What `ensureKeys` has to do, per purpose:
 * - no current key, or one with less than `validationGraceMs` of validity
 *   left (so a token it protects now could outlive it): create a key that is
 *   current at once — the empty ring, a revoked current key, a service that
 *   was stopped past a whole rotation;
 * - the current key is within `activationLeadMs` of the end of its turn
 *   (`expiresAt - validationGraceMs`) and nothing is waiting: create the
 *   next key, activating exactly then;
 * - remove keys whose expiry plus retention has passed.
 * Pure, so two processes looking at the same rows under the lock decide the
 * same thing, and the second finds nothing left to do.
 */
export function planMaintenance(keys: readonly ScheduledKey[], now: Date, settings: KeyRingSettings): MaintenancePlan {
  const plan: MaintenancePlan = { create: [], remove: [] };
  const at = now.getTime();
  for (const purpose of KEY_RING_PURPOSES) {
    const current = currentKey(keys, purpose, now);
    let turnEnds: number;
    if (!current || current.expiresAt.getTime() - settings.validationGraceMs <= at) {
      plan.create.push(scheduled(purpose, at, settings));
      turnEnds = at + settings.keyLifetimeMs;
    } else {
      turnEnds = current.expiresAt.getTime() - settings.validationGraceMs;
    }
    const waiting = keys.some((k) => k.purpose === purpose && k.readable && isLive(k, now) && k.activatesAt.getTime() > at);
    if (!waiting && at >= turnEnds - settings.activationLeadMs) plan.create.push(scheduled(purpose, turnEnds, settings));
  }
  for (const key of keys) {
    if (at >= key.expiresAt.getTime() + settings.retentionMs) plan.remove.push(key.id);
  }
  return plan;
}

export function isEmptyPlan(plan: MaintenancePlan): boolean {
  return plan.create.length === 0 && plan.remove.length === 0;
}

/** The state `list` shows for a key. */
export function keyState(key: ScheduledKey, current: ScheduledKey | undefined, now: Date): KeyRingKeyState {
  if (key.revokedAt !== null) return 'revoked';
  if (now.getTime() >= key.expiresAt.getTime()) return 'expired';
  if (key.activatesAt.getTime() > now.getTime()) return 'next';
  return current?.id === key.id ? 'current' : 'validating';
}

/**
 * Whole seconds: MySQL/MariaDB keep no fraction of a second, and would round
 * a stored activation into the future. Rounding down instead keeps every
 * dialect's copy exactly equal to what the ring decided.
 */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function scheduled(purpose: KeyRingPurpose, activatesAtMs: number, settings: KeyRingSettings): PlannedKey {
  const activatesAt = wholeSeconds(activatesAtMs);
  return { purpose, activatesAt, expiresAt: wholeSeconds(activatesAt.getTime() + settings.keyLifetimeMs + settings.validationGraceMs) };
}

function compareNewest(a: ScheduledKey, b: ScheduledKey): number {
  return a.activatesAt.getTime() - b.activatesAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
