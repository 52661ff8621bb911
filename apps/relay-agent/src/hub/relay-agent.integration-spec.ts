import { agentFor, AgentUnderTest, eventually } from '../testing/agent-harness';
import { FakeHub } from '../testing/fake-hub';
import { ManualTimers } from '../testing/manual-timers';

const TOKEN = `ime_enr1_${'A'.repeat(43)}`;

describe('relay agent enrollment', () => {
  let hub: FakeHub;
  const relays: AgentUnderTest[] = [];

  beforeEach(async () => {
    hub = await FakeHub.start();
    hub.enrollmentTokens.add(TOKEN);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.agent.stop(0)));
    await hub.close();
  });

  function start(under: AgentUnderTest): AgentUnderTest {
    relays.push(under);
    void under.agent.start();
    return under;
  }

  it('trades the enrollment token for a credential on the first start, stores it and dials with it', async () => {
    const { credentials } = start(agentFor(hub, { credential: null, enrollmentToken: TOKEN }));
    await hub.until(() => hub.connectedRelays === 1, 'the enrolled relay to connect');

    expect(hub.enrollRequests).toEqual([{ token: TOKEN, name: 'branch-1', host: 'branch-host', version: '0.1.0' }]);
    expect(credentials.saved).toMatch(/^imr_relay-[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(hub.handshakes.map((h) => h['token'])).toEqual([credentials.saved]);
  });

  it('ignores the enrollment token once a credential is stored', async () => {
    const first = start(agentFor(hub, { credential: null, enrollmentToken: TOKEN }));
    await hub.until(() => hub.connectedRelays === 1, 'the first start to connect');
    await first.agent.stop(0);

    const again = start(agentFor(hub, { credential: first.credentials.saved, enrollmentToken: TOKEN }));
    await hub.until(() => hub.handshakes.length === 2 && hub.connectedRelays === 1, 'the second start to connect');
    expect(hub.enrollRequests).toHaveLength(1);
    expect(again.logs.lines.map((l) => l.message)).toContain('IM_RELAY_ENROLLMENT_TOKEN is ignored: this relay is enrolled already');
  });

  it.each([
    ['a used or unknown token', `ime_other_${'B'.repeat(43)}`, 'branch-1', 'the enrollment token was refused (401'],
    ['a name that is taken', TOKEN, 'taken-name', 'the relay name is taken (409'],
  ])('reports %s as a final refusal and never dials', async (_what, token, name, reason) => {
    hub.takenNames.add('taken-name');
    const timers = new ManualTimers();
    const { agent, credentials } = start(agentFor(hub, { credential: null, enrollmentToken: token, name, timers }));
    await eventually(() => agent.health().detail.startsWith('enrollment refused'), 'the refusal');

    expect(agent.health().status).toBe('down');
    expect(agent.health().detail).toContain(reason);
    expect(credentials.saved).toBeNull();
    expect(timers.pending).toEqual([]);
    expect(hub.handshakes).toEqual([]);
  });

  it('tries again with backoff while the hub cannot enroll, then enrolls with the same token', async () => {
    hub.enrollFailures.push(503, 503);
    const timers = new ManualTimers();
    const { agent } = start(agentFor(hub, { credential: null, enrollmentToken: TOKEN, timers, random: () => 0 }));
    for (const delay of [10, 20]) {
      await eventually(() => timers.pending.length === 1, 'a wait before the next enrollment attempt');
      expect(timers.pending).toEqual([delay]);
      expect(agent.health()).toMatchObject({ status: 'down' });
      expect(agent.health().detail).toContain('the hub answered 503');
      timers.fireNext();
    }
    await hub.until(() => hub.connectedRelays === 1, 'the enrolled relay to connect');
    expect(hub.enrollRequests.map((r) => r['token'])).toEqual([TOKEN, TOKEN, TOKEN]);
  });

  it('reports the hub link down while the connection is dropped, and up again after the reconnect', async () => {
    const timers = new ManualTimers();
    const { agent } = start(agentFor(hub, { timers }));
    await hub.until(() => hub.connectedRelays === 1, 'the relay to connect');
    hub.dropRelays();
    await eventually(() => timers.pending.length === 1, 'the wait before dialing again');
    expect(agent.health()).toEqual({ status: 'down', detail: `not connected to ${hub.url}: disconnected (transport close); dialing again in 10 ms (attempt 2)` });
    timers.fireNext();
    await eventually(() => agent.health().status === 'up', 'the link to come back');
  });
});
