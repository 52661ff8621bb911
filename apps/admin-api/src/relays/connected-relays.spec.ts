import { ConnectedRelays } from './connected-relays';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));

describe('connected relays', () => {
  it('keeps a relay connected while any of its sockets is open, since its oldest socket', () => {
    const relays = new ConnectedRelays();
    relays.add('r1', 'branch', { socketId: 's1', connectedAt: at(1), host: 'old-host', version: '1.0.0' });
    relays.add('r1', 'branch', { socketId: 's2', connectedAt: at(5), host: 'new-host', version: '1.1.0' });
    expect(relays.presence('r1')).toEqual({ relayGroup: 'branch', socketIds: ['s1', 's2'], connectedSince: at(1), host: 'new-host', version: '1.1.0' });
    expect(relays.newestSocket('r1')).toBe('s2');
    expect(relays.size).toBe(1);

    relays.remove('r1', 's2');
    expect(relays.presence('r1')).toMatchObject({ socketIds: ['s1'], connectedSince: at(1), host: 'old-host' });
    relays.remove('r1', 's1');
    expect(relays.presence('r1')).toBeNull();
    expect(relays.has('r1')).toBe(false);
    expect(relays.newestSocket('r1')).toBeNull();
  });

  it('lists the connected relays and their groups once each, and forgets a relay at once', () => {
    const relays = new ConnectedRelays();
    relays.add('r1', 'branch', { socketId: 's1', connectedAt: at(1), host: null, version: null });
    relays.add('r2', 'branch', { socketId: 's2', connectedAt: at(2), host: null, version: null });
    relays.add('r3', 'dmz', { socketId: 's3', connectedAt: at(3), host: null, version: null });
    expect(relays.relayIds().sort()).toEqual(['r1', 'r2', 'r3']);
    expect(relays.groups().sort()).toEqual(['branch', 'dmz']);
    relays.removeRelay('r3');
    expect(relays.groups()).toEqual(['branch']);
    // A close seen after the relay was dropped changes nothing.
    relays.remove('r3', 's3');
    expect(relays.size).toBe(2);
  });
});
