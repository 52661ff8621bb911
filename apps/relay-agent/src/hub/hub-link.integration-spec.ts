import { reconnectDelayMs } from '@identitymesh/connector-sdk';
import { agentFor, AgentUnderTest, eventually, metricValue } from '../testing/agent-harness';
import { FakeHub } from '../testing/fake-hub';
import { ManualTimers } from '../testing/manual-timers';
import { hubErrorCodeOf } from './hub-link';

describe('hub link', () => {
  let hub: FakeHub;
  let relay: AgentUnderTest | undefined;

  beforeEach(async () => {
    hub = await FakeHub.start();
    relay = undefined;
  });
  afterEach(async () => {
    await relay?.agent.stop(0);
    await hub.close();
  });

  function start(under: AgentUnderTest): AgentUnderTest {
    relay = under;
    void relay.agent.start();
    return relay;
  }

  it('dials with the credential and what the relay reports about itself, and is up while connected', async () => {
    const { agent, credentials, metrics } = start(agentFor(hub));
    await hub.until(() => hub.connectedRelays === 1, 'the relay to connect');
    await eventually(() => agent.health().status === 'up', 'the link to report up');

    expect(hub.handshakes).toEqual([{ token: credentials.saved, host: 'branch-host', version: '0.1.0' }]);
    expect(agent.health().detail).toContain(`connected to ${hub.url}`);
    expect(await metricValue(metrics, 'relay_hub_connected')).toBe(1);
  });

  it('waits the protocol’s backoff between dials while the hub refuses for a passing reason, and starts over after a connection', async () => {
    const timers = new ManualTimers();
    const random = () => 0.25;
    hub.handshakeRefusals.push('HUB_UNAVAILABLE', 'HUB_UNAVAILABLE', 'HUB_UNAVAILABLE', 'HUB_UNAVAILABLE');
    // The protocol's own policy: the delays are the product's, not the test's.
    const { agent, metrics } = start(agentFor(hub, { timers, random, reconnectPolicy: undefined }));
    for (let refusal = 1; refusal <= 4; refusal += 1) {
      await eventually(() => timers.pending.length === 1, `the wait after refusal ${refusal}`);
      expect(agent.health()).toMatchObject({ status: 'down' });
      expect(agent.health().detail).toContain('HUB_UNAVAILABLE');
      timers.fireNext();
    }
    await hub.until(() => hub.connectedRelays === 1, 'the fifth dial to connect');
    expect(timers.requested).toEqual([0, 1, 2, 3].map((attempt) => reconnectDelayMs(attempt, random)));
    expect(timers.requested).toEqual([625, 1250, 2500, 5000]);

    hub.dropRelays();
    await eventually(() => timers.pending.length === 1, 'the wait after the drop');
    expect(timers.pending).toEqual([reconnectDelayMs(0, random)]);
    timers.fireNext();
    await hub.until(() => hub.connectedRelays === 1, 'the relay to reconnect');
    expect(hub.handshakes).toHaveLength(6);
    expect(await metricValue(metrics, 'relay_hub_reconnects_total')).toBe(5);
  });

  it('stops dialing for good when the hub revokes the relay, and reports why', async () => {
    const timers = new ManualTimers();
    const { agent, credentials, metrics } = start(agentFor(hub, { timers }));
    await hub.until(() => hub.connectedRelays === 1, 'the relay to connect');

    hub.revoke(credentials.saved as string);
    await eventually(() => agent.hubLink?.state.status === 'refused', 'the link to be refused');
    await hub.until(() => hub.connectedRelays === 0, 'the relay to be gone');

    expect(timers.pending).toEqual([]);
    expect(hub.handshakes).toHaveLength(1);
    expect(agent.health()).toMatchObject({ status: 'down' });
    expect(agent.health().detail).toContain('RELAY_REVOKED');
    expect(agent.health().detail).toContain('secret delete relay/credential');
    expect(await metricValue(metrics, 'relay_hub_connected')).toBe(0);
  });

  it.each([
    ['a revoked credential', 'RELAY_REVOKED'],
    ['an unknown credential', 'HUB_UNAUTHENTICATED'],
  ] as const)('does not dial again after the handshake is refused for %s', async (_what, code) => {
    const timers = new ManualTimers();
    const credential = code === 'RELAY_REVOKED' ? hub.issueCredential() : 'imr_unknown_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    if (code === 'RELAY_REVOKED') hub.revoked.add(credential);
    const { agent } = start(agentFor(hub, { timers, credential }));
    await eventually(() => agent.hubLink?.state.status === 'refused', 'the link to be refused');

    expect(agent.hubLink?.state).toMatchObject({ status: 'refused', code });
    expect(timers.pending).toEqual([]);
    expect(hub.handshakes).toHaveLength(1);
    expect(agent.health().detail).toContain(code);
  });

  it('answers the hub’s commands', async () => {
    start(agentFor(hub));
    await hub.until(() => hub.connectedRelays === 1, 'the relay to connect');
    expect(await hub.command('ping')).toEqual({ ok: true, detail: 'ping answered' });
    expect(await hub.command('reload-config')).toEqual({ ok: true, detail: 'reload-config answered' });
  });

  it('reads the hub’s code from the error data or the message', () => {
    expect(hubErrorCodeOf(Object.assign(new Error('refused'), { data: { code: 'RELAY_REVOKED' } }))).toBe('RELAY_REVOKED');
    expect(hubErrorCodeOf(new Error('HUB_UNAUTHENTICATED: no credential'))).toBe('HUB_UNAUTHENTICATED');
    expect(hubErrorCodeOf(new Error('websocket error'))).toBeUndefined();
    expect(hubErrorCodeOf(new Error('SOMETHING_ELSE: x'))).toBeUndefined();
  });
});
