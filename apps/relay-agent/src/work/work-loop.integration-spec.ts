import { ConnectorError, HUB_EVENTS } from '@identitymesh/connector-sdk';
import { agentFor, AgentUnderTest, eventually, metricValue, order } from '../testing/agent-harness';
import { upserts } from '../testing/fake-connector';
import { FakeHub } from '../testing/fake-hub';

describe('relay work loop against a hub', () => {
  let hub: FakeHub;
  let relay: AgentUnderTest;

  beforeEach(async () => {
    hub = await FakeHub.start();
  });
  afterEach(async () => {
    await relay?.agent.stop(0);
    await hub.close();
  });

  async function connected(under: AgentUnderTest): Promise<AgentUnderTest> {
    relay = under;
    await relay.agent.start();
    await hub.until(() => hub.connectedRelays === 1, 'the relay to connect');
    return relay;
  }

  const batches = () => hub.messages(HUB_EVENTS.importBatch);
  const results = () => hub.messages(HUB_EVENTS.workResult);

  it('streams an import as numbered batches from the order’s nextSeq, ends with an empty last batch, then reports done', async () => {
    const item = order('import', { import: { mode: 'delta', watermark: 'w-0', batchSize: 2, nextSeq: 4 } });
    hub.enqueue(item);
    const under = agentFor(hub);
    const { system, metrics } = under;
    system.batches = [upserts(1, 2, 'w-1'), upserts(3, 1, 'w-2')];
    await connected(under);
    await hub.until(() => results().length === 1, 'the import’s result');

    expect(hub.messages(HUB_EVENTS.workStarted)).toEqual([{ itemId: item.id, attempt: 1 }]);
    expect(batches().map((b) => [b['seq'], (b['changes'] as unknown[]).length, b['watermark'], b['last']])).toEqual([
      [4, 2, 'w-1', false],
      [5, 1, 'w-2', false],
      [6, 0, undefined, true],
    ]);
    expect(results()).toEqual([{ itemId: item.id, attempt: 1, status: 'done' }]);
    expect(system.requests).toEqual([expect.objectContaining({ mode: 'delta', watermark: 'w-0', batchSize: 2 })]);
    await eventually(() => system.closed === 1, 'the connector to close');
    expect(await metricValue(metrics, 'relay_import_batches_sent_total')).toBe(3);
    await eventually(async () => (await metricValue(metrics, 'relay_work_items_total', { kind: 'import', outcome: 'done' })) === 1, 'the item to count as done');
  });

  it('reads the next batch only after the hub acknowledged the previous one (backpressure)', async () => {
    const item = order('import');
    hub.enqueue(item);
    const under = agentFor(hub);
    under.system.batches = [upserts(1, 2), upserts(3, 2), upserts(5, 2)];
    const { system } = await connected(under);
    const log = system.log;
    hub.react = (event, message) => {
      if (event !== HUB_EVENTS.importBatch) return { ok: true };
      log.push(`hub got ${String(message['seq'])}`);
      return 'hold';
    };

    for (const seq of [1, 2, 3]) {
      await hub.until(() => hub.held.length === 1, `batch ${seq} to be held`);
      // A full round trip through the relay: had it read ahead, the read would be in the log by now.
      expect((await hub.command('ping')).ok).toBe(true);
      expect(log.filter((line) => line.startsWith('read'))).toHaveLength(seq);
      log.push(`hub acked ${seq}`);
      hub.release();
    }
    await hub.until(() => hub.held.length === 1, 'the last batch');
    log.push('hub acked 4');
    hub.release();
    await hub.until(() => results().length === 1, 'the result');

    expect(log).toEqual(['read 1', 'hub got 1', 'hub acked 1', 'read 2', 'hub got 2', 'hub acked 2', 'read 3', 'hub got 3', 'hub acked 3', 'read end', 'hub got 4', 'hub acked 4']);
  });

  it('sends a batch whose acknowledgement was lost again after the reconnect, with the same seq, without reading it twice', async () => {
    const item = order('import');
    hub.enqueue(item);
    const under = agentFor(hub);
    under.system.batches = [upserts(1, 2), upserts(3, 2), upserts(5, 1)];
    const { system, metrics } = await connected(under);
    let dropped = false;
    hub.react = (event, message) => {
      if (event === HUB_EVENTS.importBatch && message['seq'] === 2 && !dropped) {
        dropped = true;
        return 'drop';
      }
      return { ok: true };
    };
    await hub.until(() => results().length === 1, 'the result after the reconnect');

    expect(batches().map((b) => b['seq'])).toEqual([1, 2, 2, 3, 4]);
    expect(batches()[2]).toEqual(batches()[1]);
    expect(system.log).toEqual(['read 1', 'read 2', 'read 3', 'read end']);
    expect(hub.handshakes).toHaveLength(2);
    expect(results()).toEqual([{ itemId: item.id, attempt: 1, status: 'done' }]);
    // The replayed order (still delivered to this relay) did not start a second run.
    expect(hub.messages(HUB_EVENTS.workStarted)).toHaveLength(1);
    expect(await metricValue(metrics, 'relay_hub_reconnects_total')).toBe(1);
  });

  it.each([
    ['export', { export: { results: [{ id: 'chg-1', outcome: 'applied' }] } }],
    ['test-connection', { testConnection: { ok: true, detail: 'fake system answers' } }],
  ] as const)('sends an unacknowledged %s result again after the reconnect, without running the connector again', async (kind, expected) => {
    const item = order(kind);
    hub.enqueue(item);
    let drops = 0;
    hub.react = (event) => (event === HUB_EVENTS.workResult && drops++ === 0 ? 'drop' : { ok: true });
    const { system, metrics } = await connected(agentFor(hub));
    await hub.until(() => results().length === 2, 'the result to arrive twice');

    expect(results()).toEqual([
      { itemId: item.id, attempt: 1, status: 'done', ...expected },
      { itemId: item.id, attempt: 1, status: 'done', ...expected },
    ]);
    expect(system.exports).toBe(kind === 'export' ? 1 : 0);
    await eventually(() => system.closed === 1, 'the connector to close');
    await eventually(async () => (await metricValue(metrics, 'relay_work_items_total', { kind, outcome: 'done' })) === 1, 'the item to count as done');
  });

  it.each(['WORK_CLOSED', 'WORK_NOT_YOURS'] as const)('abandons an import the hub answers with %s: no further batch, no result, connector closed', async (code) => {
    const item = order('import');
    hub.enqueue(item);
    hub.react = (event, message) => (event === HUB_EVENTS.importBatch && message['seq'] === 2 ? { ok: false, code, message: 'not for you' } : { ok: true });
    const under = agentFor(hub);
    under.system.batches = [upserts(1, 2), upserts(3, 2), upserts(5, 2)];
    const { system, metrics } = await connected(under);
    await eventually(() => system.closed === 1, 'the connector to close');

    expect(batches().map((b) => b['seq'])).toEqual([1, 2]);
    expect(results()).toEqual([]);
    expect(system.log).toEqual(['read 1', 'read 2']);
    await eventually(async () => (await metricValue(metrics, 'relay_work_items_total', { kind: 'import', outcome: 'abandoned' })) === 1, 'the item to count as abandoned');
  });

  it('sends a message the hub could not take (HUB_UNAVAILABLE) again after a wait, unchanged', async () => {
    const item = order('import');
    hub.enqueue(item);
    let refusals = 0;
    hub.react = (event) => (event === HUB_EVENTS.importBatch && refusals++ < 2 ? { ok: false, code: 'HUB_UNAVAILABLE', message: 'database down' } : { ok: true });
    const under = agentFor(hub);
    under.system.batches = [upserts(1, 2)];
    const { system } = await connected(under);
    await hub.until(() => results().length === 1, 'the result');

    expect(batches().map((b) => b['seq'])).toEqual([1, 1, 1, 2]);
    expect(system.log).toEqual(['read 1', 'read end']);
  });

  it('reports a connector failure as a failed result with the connector’s code', async () => {
    const item = order('import');
    hub.enqueue(item);
    const under = agentFor(hub);
    under.system.batches = [upserts(1, 2), upserts(3, 2)];
    under.system.failAtBatch = { batch: 2, error: new ConnectorError('CONNECTOR_UNREACHABLE', 'the directory went away', true) };
    await connected(under);
    await hub.until(() => results().length === 1, 'the result');

    expect(batches().map((b) => b['seq'])).toEqual([1]);
    expect(results()).toEqual([
      { itemId: item.id, attempt: 1, status: 'failed', error: { code: 'CONNECTOR_UNREACHABLE', message: 'the directory went away', retryable: true } },
    ]);
    await eventually(async () => (await metricValue(under.metrics, 'relay_work_items_total', { kind: 'import', outcome: 'failed' })) === 1, 'the item to count as failed');
  });

  it('fails an order for a connector type the relay does not run', async () => {
    const item = order('test-connection', { connector: { id: 'conn-sql', name: 'HR database', type: 'sql', config: {} } });
    hub.enqueue(item);
    await connected(agentFor(hub));
    await hub.until(() => results().length === 1, 'the result');

    expect(results()[0]).toMatchObject({ status: 'failed', error: { code: 'CONNECTOR_CONFIG_INVALID', retryable: false } });
    expect(String((results()[0]['error'] as { message: string }).message)).toContain("'sql' is not one this relay runs (it runs: fake)");
  });

  it('pulls when the hub says work is available', async () => {
    await connected(agentFor(hub));
    const item = order('test-connection');
    hub.enqueue(item);
    hub.notifyWorkAvailable();
    await hub.until(() => results().length === 1, 'the result');
    expect(results()).toEqual([{ itemId: item.id, attempt: 1, status: 'done', testConnection: { ok: true, detail: 'fake system answers' } }]);
  });

  it('runs the items of one pull at once, up to its limit, and pulls again when one ends', async () => {
    const items = [order('export'), order('export'), order('export')];
    for (const item of items) hub.enqueue(item);
    hub.react = (event) => (event === HUB_EVENTS.workResult ? 'hold' : { ok: true });
    await connected(agentFor(hub, { maxConcurrentItems: 2 }));
    await hub.until(() => hub.held.length === 2, 'two results held');
    expect(new Set(hub.held.map((h) => h.message['itemId']))).toEqual(new Set([items[0].id, items[1].id]));

    hub.react = () => ({ ok: true });
    hub.release();
    await hub.until(() => results().some((r) => r['itemId'] === items[2].id), 'the third item to run');
    hub.release();
  });

  describe('shutdown', () => {
    it('stops after the batch in flight is acknowledged: nothing more is read, the connector closes', async () => {
      const item = order('import');
      hub.enqueue(item);
      hub.react = (event) => (event === HUB_EVENTS.importBatch ? 'hold' : { ok: true });
      const under = agentFor(hub);
      under.system.batches = [upserts(1, 2), upserts(3, 2)];
      const { agent, system, metrics } = await connected(under);
      await hub.until(() => hub.held.length === 1, 'batch 1 to be held');

      const stopped = agent.stop(60_000);
      hub.release();
      await stopped;

      expect(system.log).toEqual(['read 1']);
      expect(system.closed).toBe(1);
      expect(batches().map((b) => b['seq'])).toEqual([1]);
      expect(results()).toEqual([]);
      expect(await metricValue(metrics, 'relay_work_items_total', { kind: 'import', outcome: 'abandoned' })).toBe(1);
    });

    it('abandons a batch whose acknowledgement does not come within the grace period', async () => {
      const item = order('import');
      hub.enqueue(item);
      hub.react = (event) => (event === HUB_EVENTS.importBatch ? 'hold' : { ok: true });
      const under = agentFor(hub);
      under.system.batches = [upserts(1, 2), upserts(3, 2)];
      const { agent, system } = await connected(under);
      await hub.until(() => hub.held.length === 1, 'batch 1 to be held');

      await agent.stop(20);

      expect(system.closed).toBe(1);
      expect(system.log).toEqual(['read 1']);
      await hub.until(() => hub.connectedRelays === 0, 'the relay to disconnect');
    });

    it('pulls no new work while stopping, and reports the result in hand', async () => {
      const first = order('export');
      hub.enqueue(first);
      hub.react = (event) => (event === HUB_EVENTS.workResult ? 'hold' : { ok: true });
      const { agent, metrics } = await connected(agentFor(hub));
      await hub.until(() => hub.held.length === 1, 'the result to be held');

      const stopped = agent.stop(60_000);
      hub.enqueue(order('export'));
      hub.notifyWorkAvailable();
      // The notice reached the relay before this round trip ended.
      expect((await hub.command('ping')).ok).toBe(true);
      hub.release();
      await stopped;

      expect(hub.messages(HUB_EVENTS.workStarted).map((m) => m['itemId'])).toEqual([first.id]);
      expect(await metricValue(metrics, 'relay_work_items_total', { kind: 'export', outcome: 'done' })).toBe(1);
    });
  });
});
