import type { KeyRingPurpose } from '@identitymesh/domain';
import { DEFAULT_KEY_RING_SETTINGS } from '../config/key-ring-settings';
import { currentKey, keyState, planMaintenance, ScheduledKey, wholeSeconds } from './rotation-policy';

const DAY = 86_400_000;
const T0 = new Date('2026-01-01T00:00:00.000Z');
const settings = { ...DEFAULT_KEY_RING_SETTINGS };
const at = (days: number, extraMs = 0) => new Date(T0.getTime() + days * DAY + extraMs);

let seq = 0;
function key(purpose: KeyRingPurpose, activatesDay: number, overrides: Partial<ScheduledKey> = {}): ScheduledKey {
  const activatesAt = at(activatesDay);
  return {
    id: `k${String(++seq).padStart(4, '0')}`,
    purpose,
    createdAt: activatesAt,
    activatesAt,
    expiresAt: at(activatesDay + 90 + 14),
    revokedAt: null,
    readable: true,
    ...overrides,
  };
}

/** One current key per purpose, activated on `day`. */
const healthyRing = (day = 0) => [key('session', day), key('csrf', day), key('relay-token', day)];

describe('planMaintenance', () => {
  it('creates one key per purpose, current at once, on an empty ring', () => {
    const now = new Date('2026-01-01T00:00:00.750Z');
    const plan = planMaintenance([], now, settings);
    expect(plan.remove).toEqual([]);
    expect(plan.create).toEqual(
      (['session', 'csrf', 'relay-token'] as const).map((purpose) => ({
        purpose,
        activatesAt: T0, // whole seconds, never in the future
        expiresAt: at(90 + 14),
      })),
    );
  });

  it('does nothing while the current key has more than the activation lead left', () => {
    expect(planMaintenance(healthyRing(), at(88, -1000), settings)).toEqual({ create: [], remove: [] });
  });

  it('creates the next key once the current one is within the activation lead, activating at the end of its turn', () => {
    const ring = healthyRing();
    const plan = planMaintenance(ring, at(88), settings);
    expect(plan.create).toHaveLength(3);
    expect(plan.create.every((k) => k.activatesAt.getTime() === at(90).getTime() && k.expiresAt.getTime() === at(90 + 104).getTime())).toBe(true);
    // Once created, nothing more is planned until the next turn.
    const withNext = [...ring, ...plan.create.map((k) => ({ ...k, id: `n-${k.purpose}`, createdAt: at(88), revokedAt: null, readable: true }))];
    expect(planMaintenance(withNext, at(89), settings)).toEqual({ create: [], remove: [] });
    expect(currentKey(withNext, 'session', at(90, -1))?.id).toBe(ring[0].id);
    expect(currentKey(withNext, 'session', at(90))?.id).toBe('n-session');
  });

  it('replaces a revoked current key at once, and a current key left without a successor past its turn', () => {
    const ring = healthyRing();
    ring[0].revokedAt = at(10);
    expect(planMaintenance(ring, at(10), settings).create).toEqual([{ purpose: 'session', activatesAt: at(10), expiresAt: at(10 + 104) }]);
    // A service stopped from day 80 to day 95 never made the next keys: the old ones may not protect tokens that would outlive them.
    const lapsed = planMaintenance(healthyRing(), at(95), settings);
    expect(lapsed.create.map((k) => k.activatesAt.getTime())).toEqual([at(95), at(95), at(95)].map((d) => d.getTime()));
  });

  it('does not count unreadable or revoked keys as current or as waiting', () => {
    const ring = [key('session', 0, { readable: false }), key('csrf', 0), key('relay-token', 0)];
    expect(planMaintenance(ring, at(1), settings).create.map((k) => k.purpose)).toEqual(['session']);
    const waitingRevoked = [...healthyRing(), key('session', 90, { createdAt: at(88), revokedAt: at(88) })];
    expect(planMaintenance(waitingRevoked, at(88, 1000), settings).create.filter((k) => k.purpose === 'session')).toHaveLength(1);
  });

  it('removes keys once their expiry plus retention has passed, revoked and unreadable ones too', () => {
    const old = key('session', -200, { revokedAt: at(-150) });
    const unreadable = key('csrf', -200, { readable: false });
    const recent = key('session', -100);
    const ring = [...healthyRing(), old, unreadable, recent];
    // `recent` expired on day 4 and stays for the 30 days of retention.
    expect(planMaintenance(ring, at(1), settings).remove).toEqual([old.id, unreadable.id]);
    expect(planMaintenance(ring, at(4 + 30), settings).remove).toEqual([old.id, unreadable.id, recent.id]);
  });

  it('settles ties between keys activated in the same second the same way everywhere', () => {
    const a = key('session', 0, { id: '0194d2a0-0000-7000-8000-000000000001' });
    const b = key('session', 0, { id: '0194d2a0-0001-7000-8000-000000000000' });
    expect(currentKey([a, b], 'session', at(1))?.id).toBe(b.id);
    expect(currentKey([b, a], 'session', at(1))?.id).toBe(b.id);
  });
});

describe('keyState', () => {
  it('names each stage of a key', () => {
    const [current] = healthyRing();
    const next = key('session', 90, { createdAt: at(88) });
    const ring = [current, next];
    const now = at(89);
    const cur = currentKey(ring, 'session', now);
    expect(keyState(current, cur, now)).toBe('current');
    expect(keyState(next, cur, now)).toBe('next');
    expect(keyState(current, currentKey(ring, 'session', at(91)), at(91))).toBe('validating');
    expect(keyState(current, undefined, at(104))).toBe('expired');
    expect(keyState({ ...current, revokedAt: at(1) }, cur, now)).toBe('revoked');
  });
});

describe('wholeSeconds', () => {
  it('rounds down, never into the future', () => {
    expect(wholeSeconds(Date.parse('2026-01-01T00:00:00.999Z')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
