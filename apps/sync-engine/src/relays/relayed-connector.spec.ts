import { Connector, ConnectorError, ConnectorSchema, ExportChange, ImportBatch, ldapConnectorFactory, RELAY_POLL_MS, RelayProgressSignals } from '@identitymesh/connector-sdk';
import type { JsonObject, Transaction } from '@identitymesh/persistence';
import { ConnectorHost } from '../connectors/connector-host.service';
import { InMemoryRelayWorkQueue } from '../testing/in-memory-relay-work-queue';
import { relayedBatchOf } from './relayed-batch';
import { exportWorkKey, RelayedConnector, RelayedConnectorOptions } from './relayed-connector';
import type { RelayedConnectorSource } from './relayed-connectors.service';

const SCHEMA: ConnectorSchema = { objectTypes: [{ name: 'person', anchorAttribute: 'uid', attributes: [{ name: 'uid', type: 'string' }] }] };
const TX = {} as Transaction;

/** The instance of the connector's own type: capabilities and schema only; anything else would mean the engine reached the system. */
function localConnector(): Connector & { closed: number } {
  return {
    type: 'ldap',
    closed: 0,
    capabilities: () => ({ deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: true }),
    schema: async () => SCHEMA,
    testConnection: () => Promise.reject(new Error('the local instance was asked to test the connection')),
    import: () => {
      throw new Error('the local instance was asked to import');
    },
    export: () => Promise.reject(new Error('the local instance was asked to export')),
    async close() {
      this.closed++;
    },
  };
}

function upsert(anchor: string): JsonObject {
  return { kind: 'upsert', objectType: 'person', anchor, attributes: { uid: [anchor] } };
}

function batchPayload(anchors: string[], watermark?: string): JsonObject {
  return { changes: anchors.map(upsert), errors: [], ...(watermark === undefined ? {} : { watermark }) };
}

describe('RelayedConnector', () => {
  let queue: InMemoryRelayWorkQueue;
  let notified: string[];
  let counted: { enqueued: string[]; waited: string[] };

  beforeEach(() => {
    queue = new InMemoryRelayWorkQueue();
    notified = [];
    counted = { enqueued: [], waited: [] };
  });

  function relayed(overrides: Partial<RelayedConnectorOptions> = {}): RelayedConnector {
    return new RelayedConnector({
      connector: { id: 'c-1', name: 'Directory', type: 'ldap', relayGroup: 'branch-office' },
      local: localConnector(),
      validatedConfig: {},
      queue,
      notify: (group) => notified.push(group),
      deadlineMs: 60_000,
      runId: 'run-1',
      pollMs: 1,
      observer: { enqueued: (kind) => counted.enqueued.push(kind), waited: (kind) => counted.waited.push(kind) },
      ...overrides,
    });
  }

  /** Reads the stream to its end, marking each batch applied as the import runner's transaction does. */
  async function readAll(connector: RelayedConnector, signal?: AbortSignal): Promise<ImportBatch[]> {
    const read: ImportBatch[] = [];
    for await (const batch of connector.import({ mode: 'full', objectTypes: [], batchSize: 2, signal })) {
      read.push(batch);
      await relayedBatchOf(batch)?.markApplied(TX, new Date());
    }
    return read;
  }

  function onlyItem() {
    const items = [...queue.items.values()];
    expect(items).toHaveLength(1);
    return items[0];
  }

  it('answers capabilities and schema from the local instance, and prefers the schema stored with the connector', async () => {
    const stored: ConnectorSchema = { objectTypes: [{ name: 'group', anchorAttribute: 'cn', attributes: [{ name: 'cn', type: 'string' }] }] };
    expect(relayed().capabilities()).toEqual({ deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: true });
    await expect(relayed({ connector: { id: 'c-1', name: 'CSV', type: 'csv', relayGroup: 'g' } }).schema()).resolves.toEqual(SCHEMA);
    const withStored = relayed({ connector: { id: 'c-1', name: 'CSV', type: 'csv', relayGroup: 'g', objectTypes: stored.objectTypes as unknown as JsonObject[] } });
    await expect(withStored.schema()).resolves.toEqual(stored);
    expect(queue.items.size).toBe(0);
  });

  it('queues an import for the run, tells the hub, and yields the staged batches in sequence until the last, each marked for its transaction', async () => {
    const connector = relayed();
    queue.onWait = (item, awaiting) => {
      // The relay stages out of order: 2 arrives before 1; the stream still goes 1, 2, 3.
      if (awaiting === 1) {
        queue.stage(item.id, 2, batchPayload(['c', 'd'], 'w2'));
        queue.stage(item.id, 1, batchPayload(['a', 'b'], 'w1'));
      }
      if (awaiting === 3) queue.stage(item.id, 3, batchPayload([], 'w3'), true);
    };
    const batches = await readAll(connector);

    expect(batches.map((b) => [b.changes.map((c) => c.anchor), b.watermark])).toEqual([
      [['a', 'b'], 'w1'],
      [['c', 'd'], 'w2'],
      [[], 'w3'],
    ]);
    expect(batches.map((b) => relayedBatchOf(b)?.seq)).toEqual([1, 2, 3]);
    const item = onlyItem();
    expect(item).toMatchObject({ kind: 'import', relayGroup: 'branch-office', connectorId: 'c-1', runId: 'run-1', workKey: null, payload: { mode: 'full', batchSize: 2 } });
    expect(item.deadlineAt.getTime() - item.createdAt.getTime()).toBe(60_000);
    expect(await queue.batchProgress(item.id)).toEqual({ lastApplied: 3, lastStaged: 3, lastIsApplied: true });
    expect(notified).toEqual(['branch-office']);
    expect(counted).toEqual({ enqueued: ['import'], waited: ['import', 'import', 'import'] });
  });

  it('carries the delta watermark in the item, and a batch without one yields none', async () => {
    queue.onWait = (item, awaiting) => {
      if (awaiting === 1) queue.stage(item.id, 1, batchPayload(['a']), true);
    };
    const batches: ImportBatch[] = [];
    for await (const batch of relayed().import({ mode: 'delta', objectTypes: [], watermark: 'usn:41', signal: new AbortController().signal })) batches.push(batch);
    expect(onlyItem().payload).toEqual({ mode: 'delta', watermark: 'usn:41', batchSize: 500 });
    expect(batches).toHaveLength(1);
    expect('watermark' in batches[0]).toBe(false);
  });

  it('on a resumed run goes on with the run’s item after the last batch applied, without queuing another', async () => {
    const first = await queue.enqueue({ relayGroup: 'branch-office', connectorId: 'c-1', runId: 'run-1', workKey: null, kind: 'import', payload: { mode: 'full', batchSize: 2 }, deadlineAt: new Date(Date.now() + 60_000) }, new Date());
    queue.stage(first.id, 1, batchPayload(['a', 'b']));
    queue.stage(first.id, 2, batchPayload(['c', 'd']));
    queue.stage(first.id, 3, batchPayload(['e']));
    await queue.markBatchApplied(TX, first.id, 1, new Date());
    await queue.markBatchApplied(TX, first.id, 2, new Date());
    queue.onWait = (item, awaiting) => {
      if (awaiting === 4) queue.stage(item.id, 4, batchPayload(['f']), true);
    };

    const batches = await readAll(relayed());
    expect(batches.map((b) => relayedBatchOf(b)?.seq)).toEqual([3, 4]);
    expect(batches.flatMap((b) => b.changes.map((c) => c.anchor))).toEqual(['e', 'f']);
    expect(onlyItem().id).toBe(first.id);
    expect(notified).toEqual([]);
  });

  it('queues a new import when the run’s earlier item was applied to its end', async () => {
    const first = await queue.enqueue({ relayGroup: 'branch-office', connectorId: 'c-1', runId: 'run-1', workKey: null, kind: 'import', payload: {}, deadlineAt: new Date(Date.now() + 60_000) }, new Date());
    queue.stage(first.id, 1, batchPayload(['a']), true);
    await queue.markBatchApplied(TX, first.id, 1, new Date());
    queue.onWait = (item, awaiting) => {
      if (item.id !== first.id && awaiting === 1) queue.stage(item.id, 1, batchPayload(['b']), true);
    };
    const batches = await readAll(relayed());
    expect(batches.flatMap((b) => b.changes.map((c) => c.anchor))).toEqual(['b']);
    expect(queue.items.size).toBe(2);
  });

  it('yields what the relay staged before it failed, then throws the relay’s error', async () => {
    queue.onWait = (item, awaiting) => {
      if (awaiting === 1) queue.stage(item.id, 1, batchPayload(['a']));
      if (awaiting === 2) queue.finish(item.id, 'failed', { error: { code: 'CONNECTOR_AUTH_FAILED', message: 'invalid credentials for cn=sync', retryable: false } });
    };
    const read: string[] = [];
    const reading = (async () => {
      for await (const batch of relayed().import({ mode: 'full', objectTypes: [] })) {
        read.push(...batch.changes.map((c) => c.anchor));
        await relayedBatchOf(batch)?.markApplied(TX, new Date());
      }
    })();
    await expect(reading).rejects.toEqual(expect.objectContaining({ code: 'CONNECTOR_AUTH_FAILED', message: expect.stringContaining('invalid credentials for cn=sync'), retryable: false }));
    expect(read).toEqual(['a']);
  });

  it('throws CONNECTOR_UNREACHABLE (retryable) when no relay took the work before its deadline, whether the hub marked it expired or not yet', async () => {
    queue.onWait = (item) => queue.finish(item.id, 'expired');
    const expired = readAll(relayed());
    await expect(expired).rejects.toBeInstanceOf(ConnectorError);
    await expect(expired).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true, message: expect.stringContaining('no relay of group "branch-office" took the work before its deadline') });

    queue.onWait = undefined;
    const overdue = relayed({ deadlineMs: 0 });
    await expect(overdue.testConnection()).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true });
  });

  it('says a relay that took the work did not finish it in time', async () => {
    queue.onWait = (item, awaiting) => {
      if (awaiting === 1) queue.stage(item.id, 1, batchPayload(['a']));
      if (awaiting === 2) queue.finish(item.id, 'expired');
    };
    await expect(readAll(relayed())).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', message: expect.stringContaining('did not finish it before its deadline') });
  });

  it('fails on a relay that finished an import without its last batch', async () => {
    queue.onWait = (item, awaiting) => {
      if (awaiting === 1) queue.stage(item.id, 1, batchPayload(['a']));
      if (awaiting === 2) queue.finish(item.id, 'done');
    };
    await expect(readAll(relayed())).rejects.toMatchObject({ code: 'SYSTEM_ERROR', message: expect.stringContaining('without staging batch 2') });
  });

  it.each([
    ['a change of an unknown kind', { changes: [{ kind: 'drop-table', objectType: 'person', anchor: 'a' }], errors: [] }],
    ['attribute values that are objects', { changes: [{ kind: 'upsert', objectType: 'person', anchor: 'a', attributes: { uid: [{ $gt: '' }] } }], errors: [] }],
    ['an error with a made-up code', { changes: [], errors: [{ position: 'line 1', code: 'ROOT', message: 'x' }] }],
    ['no changes at all', { errors: [] }],
  ])('refuses a staged batch with %s, and applies nothing of it', async (_what, payload) => {
    queue.onWait = (item, awaiting) => {
      if (awaiting === 1) queue.stage(item.id, 1, payload as unknown as JsonObject, true);
    };
    await expect(readAll(relayed())).rejects.toMatchObject({ code: 'SYSTEM_ERROR', message: expect.stringContaining('batch 1 the relay sent for work item item-1 is not a valid import batch') });
    expect(await queue.batchProgress('item-1')).toEqual({ lastApplied: 0, lastStaged: 1, lastIsApplied: false });
  });

  it('ends the stream on abort without marking anything', async () => {
    const controller = new AbortController();
    queue.onWait = (item, awaiting) => {
      if (awaiting === 1) queue.stage(item.id, 1, batchPayload(['a']));
      if (awaiting === 2) controller.abort();
    };
    const read: ImportBatch[] = [];
    for await (const batch of relayed().import({ mode: 'full', objectTypes: [], signal: controller.signal })) read.push(batch);
    expect(read).toHaveLength(1);
    expect(await queue.batchProgress('item-1')).toEqual({ lastApplied: 0, lastStaged: 1, lastIsApplied: false });
  });

  describe('export', () => {
    const changes: ExportChange[] = [
      { id: 'x-1', kind: 'add', objectType: 'person', dn: 'uid=a,ou=people', attributes: { uid: { op: 'replace', values: ['a'] } } },
      { id: 'x-2', kind: 'delete', objectType: 'person', anchor: 'b' },
    ];

    it('queues the batch under the key of its change ids and returns the relay’s results in the order of the changes', async () => {
      queue.onWait = (item) =>
        queue.finish(item.id, 'done', {
          export: {
            results: [
              { id: 'x-2', outcome: 'already-applied' },
              { id: 'x-1', outcome: 'applied', anchor: 'uuid-a' },
            ],
          },
        });
      await expect(relayed().export(changes)).resolves.toEqual([
        { id: 'x-1', outcome: 'applied', anchor: 'uuid-a' },
        { id: 'x-2', outcome: 'already-applied' },
      ]);
      const item = onlyItem();
      expect(item).toMatchObject({ kind: 'export', runId: 'run-1', workKey: exportWorkKey(changes), payload: { changes } });
      expect(item.resultAppliedAt).not.toBeNull();
      expect(notified).toEqual(['branch-office']);
      expect(counted).toEqual({ enqueued: ['export'], waited: ['export'] });
    });

    it('keys a batch by its change ids in order', () => {
      expect(exportWorkKey(changes)).toMatch(/^[0-9a-f]{64}$/);
      expect(exportWorkKey([changes[1], changes[0]])).not.toBe(exportWorkKey(changes));
      expect(exportWorkKey([{ ...changes[0], kind: 'update' }, changes[1]])).toBe(exportWorkKey(changes));
    });

    it('waits on the item sent before for the same changes instead of sending them again, and sends anew once that one was applied', async () => {
      const sent = await queue.enqueue({ relayGroup: 'branch-office', connectorId: 'c-1', runId: 'run-0', workKey: exportWorkKey(changes), kind: 'export', payload: { changes: changes as unknown as JsonObject[] }, deadlineAt: new Date(Date.now() + 60_000) }, new Date());
      queue.finish(sent.id, 'done', { export: { results: [{ id: 'x-1', outcome: 'applied' }, { id: 'x-2', outcome: 'applied' }] } });
      await expect(relayed().export(changes)).resolves.toHaveLength(2);
      expect(queue.items.size).toBe(1);
      expect(notified).toEqual([]);

      queue.onWait = (item) => queue.finish(item.id, 'done', { export: { results: [{ id: 'x-1', outcome: 'already-applied' }, { id: 'x-2', outcome: 'already-applied' }] } });
      await expect(relayed().export(changes)).resolves.toEqual([expect.objectContaining({ outcome: 'already-applied' }), expect.objectContaining({ outcome: 'already-applied' })]);
      expect(queue.items.size).toBe(2);
    });

    it.each([
      ['one result short', [{ id: 'x-1', outcome: 'applied' }]],
      ['one result too many', [{ id: 'x-1', outcome: 'applied' }, { id: 'x-2', outcome: 'applied' }, { id: 'x-3', outcome: 'applied' }]],
      ['a result for a change it was not sent', [{ id: 'x-1', outcome: 'applied' }, { id: 'x-9', outcome: 'applied' }]],
      ['two results for one change', [{ id: 'x-1', outcome: 'applied' }, { id: 'x-1', outcome: 'failed' }]],
    ])('refuses results with %s, and the next attempt sends the batch anew', async (_what, results) => {
      queue.onWait = (item) => queue.finish(item.id, 'done', { export: { results } });
      await expect(relayed().export(changes)).rejects.toMatchObject({ code: 'SYSTEM_ERROR', message: expect.stringContaining('its results were not used') });
      expect(await queue.findUnappliedByKey('c-1', exportWorkKey(changes))).toBeNull();
    });

    it('refuses a result that does not parse, and one without results', async () => {
      queue.onWait = (item) => queue.finish(item.id, 'done', { export: { results: [{ id: 'x-1', outcome: 'deleted-everything' }] } });
      await expect(relayed().export(changes)).rejects.toMatchObject({ code: 'SYSTEM_ERROR', message: expect.stringContaining('is not valid') });
      queue.onWait = (item) => queue.finish(item.id, 'done', {});
      await expect(relayed().export(changes)).rejects.toMatchObject({ code: 'SYSTEM_ERROR', message: expect.stringContaining('without its results') });
    });

    it('throws the relay’s error for a failed item and leaves it applied, so the retry is a new item', async () => {
      queue.onWait = (item) => queue.finish(item.id, 'failed', { error: { code: 'CONNECTOR_UNREACHABLE', message: 'ldap://dc1:389 refused the connection', retryable: true } });
      await expect(relayed().export(changes)).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true, message: expect.stringContaining('ldap://dc1:389 refused the connection') });
      expect(await queue.findUnappliedByKey('c-1', exportWorkKey(changes))).toBeNull();
    });

    it('a failure without a valid reason is still a failure', async () => {
      queue.onWait = (item) => queue.finish(item.id, 'failed', { error: { code: 'NOT_A_CODE', message: 'x', retryable: false } });
      await expect(relayed().export(changes)).rejects.toMatchObject({ code: 'SYSTEM_ERROR', message: expect.stringContaining('failed without a valid reason') });
    });

    it('close() ends the wait for the results, as does the signal it was created with', async () => {
      const closing = relayed();
      queue.onWait = () => void closing.close();
      await expect(closing.export(changes)).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', message: expect.stringContaining('stopped waiting') });

      const controller = new AbortController();
      queue.onWait = () => controller.abort();
      await expect(relayed({ signal: controller.signal }).export(changes)).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', message: expect.stringContaining('stopped waiting') });
      // The second export waited on the item the first one sent; unanswered, it stays unapplied for a resumed run to find by key.
      expect([...queue.items.values()].map((item) => item.resultAppliedAt)).toEqual([null]);
    });
  });

  it('tests the connection through a relay', async () => {
    queue.onWait = (item) => queue.finish(item.id, 'done', { testConnection: { ok: true, detail: 'bound as cn=sync' } });
    await expect(relayed().testConnection()).resolves.toEqual({ ok: true, detail: 'bound as cn=sync' });
    expect(onlyItem()).toMatchObject({ kind: 'test-connection', payload: {} });
    queue.onWait = (item) => queue.finish(item.id, 'failed', { error: { code: 'SYSTEM_BUSY', message: 'busy', retryable: true } });
    await expect(relayed().testConnection()).rejects.toMatchObject({ code: 'SYSTEM_BUSY' });
  });

  it('closes the local instance', async () => {
    const local = localConnector();
    await relayed({ local }).close();
    expect(local.closed).toBe(1);
  });

  describe('waits: wake-ups from the hub, and a poll that backs off', () => {
    let signals: RelayProgressSignals;
    /** Fake-clock times at which the engine looked and found nothing new, by what it looked for. */
    let looks: Map<number | 'result', number[]>;

    beforeEach(() => {
      jest.useFakeTimers();
      signals = new RelayProgressSignals();
      looks = new Map();
      queue.onWait = (_item, awaiting) => void looks.set(awaiting, [...(looks.get(awaiting) ?? []), Date.now()]);
    });
    afterEach(() => jest.useRealTimers());

    const waiting = (overrides: Partial<RelayedConnectorOptions> = {}) => relayed({ progress: signals, pollMs: RELAY_POLL_MS, deadlineMs: 3600_000, ...overrides });
    const intervals = (times: number[] = []) => times.slice(1).map((time, i) => time - times[i]);
    const settled = <T>(promise: Promise<T>) => {
      const state = { done: false };
      promise.then(
        () => (state.done = true),
        () => (state.done = true),
      );
      return state;
    };

    it('looks at an idle item at 100 ms, doubling up to 2 s, and at once when the hub says it made progress', async () => {
      const exporting = waiting().export([{ id: 'x-1', kind: 'delete', objectType: 'person', anchor: 'a' }]);
      const state = settled(exporting);
      await jest.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1600 + 2000 + 2000);
      expect(intervals(looks.get('result'))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);

      // Another item's progress does not wake this wait.
      signals.signal('item-99');
      await jest.advanceTimersByTimeAsync(0);
      expect(looks.get('result')).toHaveLength(8);

      const item = onlyItem();
      queue.finish(item.id, 'done', { export: { results: [{ id: 'x-1', outcome: 'applied' }] } });
      signals.signal(item.id);
      // No time passes: the wake-up, not the 2 s poll, ends the wait.
      await jest.advanceTimersByTimeAsync(0);
      expect(state.done).toBe(true);
      await expect(exporting).resolves.toEqual([{ id: 'x-1', outcome: 'applied' }]);
      expect(signals.size).toBe(0);
    });

    it('yields a staged batch at its wake-up and waits for the next from 100 ms again', async () => {
      const read: number[] = [];
      const reading = (async () => {
        for await (const batch of waiting().import({ mode: 'full', objectTypes: [] })) {
          read.push(relayedBatchOf(batch)?.seq ?? 0);
          await relayedBatchOf(batch)?.markApplied(TX, new Date());
        }
      })();
      const state = settled(reading);
      await jest.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1600 + 2000);
      expect(intervals(looks.get(1))).toEqual([100, 200, 400, 800, 1600, 2000]);

      const item = onlyItem();
      queue.stage(item.id, 1, batchPayload(['a']));
      signals.signal(item.id);
      await jest.advanceTimersByTimeAsync(0);
      expect(read).toEqual([1]);
      await jest.advanceTimersByTimeAsync(100 + 200);
      expect(intervals(looks.get(2))).toEqual([100, 200]);

      queue.stage(item.id, 2, batchPayload(['b']), true);
      signals.signal(item.id);
      await jest.advanceTimersByTimeAsync(0);
      expect(state.done).toBe(true);
      await reading;
      expect(read).toEqual([1, 2]);
      expect(signals.size).toBe(0);
    });

    it('without a hub link the poll alone finds the work, one look per 2 s once idle', async () => {
      const testing = waiting({ progress: undefined }).testConnection();
      await jest.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1600 + 2000 * 5);
      expect(intervals(looks.get('result'))).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000]);

      queue.finish(onlyItem().id, 'done', { testConnection: { ok: true, detail: 'bound' } });
      await jest.advanceTimersByTimeAsync(1999);
      expect(looks.get('result')).toHaveLength(11);
      await jest.advanceTimersByTimeAsync(1);
      await expect(testing).resolves.toEqual({ ok: true, detail: 'bound' });
    });

    it('a wake-up that comes while the engine reads the queue is not lost', async () => {
      queue.onWait = (item, awaiting) => {
        if (awaiting !== 'result') return;
        // Finished and announced between the look and the wait after it.
        queue.finish(item.id, 'done', { testConnection: { ok: false, detail: 'refused' } });
        signals.signal(item.id);
      };
      const testing = waiting().testConnection();
      const state = settled(testing);
      await jest.advanceTimersByTimeAsync(0);
      expect(state.done).toBe(true);
      await expect(testing).resolves.toEqual({ ok: false, detail: 'refused' });
    });

    it('closes its watch when the wait is stopped', async () => {
      const controller = new AbortController();
      const reading = (async () => {
        for await (const batch of waiting().import({ mode: 'full', objectTypes: [], signal: controller.signal })) void batch;
      })();
      await jest.advanceTimersByTimeAsync(300);
      expect(signals.size).toBe(1);
      controller.abort();
      await reading;
      expect(signals.size).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});

describe('ConnectorHost with relay groups', () => {
  const ldapConfig = {
    urls: ['ldap://127.0.0.1:1'],
    bindDn: 'cn=sync,dc=corp',
    bindPasswordSecret: 'ldap/corp/bind',
    objectTypes: [
      {
        name: 'person',
        baseDns: ['ou=people,dc=corp'],
        objectClasses: ['inetOrgPerson'],
        attributes: [{ name: 'cn' }, { name: 'mail', multiValued: true }],
        referenceAttributes: ['manager'],
      },
    ],
  };
  const made: Array<{ relayGroup: string; local: Connector; options: { runId?: string; signal?: AbortSignal } }> = [];
  const relays: RelayedConnectorSource = {
    create: (connector, local, validatedConfig, options) => {
      made.push({ relayGroup: connector.relayGroup, local, options });
      return new RelayedConnector({ connector, local, validatedConfig, queue: new InMemoryRelayWorkQueue(), notify: () => undefined, deadlineMs: 1000, ...options });
    },
  };
  const secrets = { resolve: async () => 'engine-side secret' };

  it('gives a row with a relay group a relayed connector whose schema comes from the config without reaching the directory', async () => {
    const host = new ConnectorHost([ldapConnectorFactory], secrets, relays);
    const signal = new AbortController().signal;
    const connector = host.create({ id: 'c-1', name: 'Directory', type: 'ldap', config: ldapConfig, relayGroup: 'branch-office' }, { runId: 'run-1', signal });
    expect(connector).toBeInstanceOf(RelayedConnector);
    expect(made).toEqual([{ relayGroup: 'branch-office', local: expect.anything(), options: { runId: 'run-1', signal } }]);
    // Nothing listens on port 1: a schema read from the directory would fail.
    const schema = await connector.schema();
    expect(schema.objectTypes[0]).toMatchObject({
      name: 'person',
      anchorAttribute: 'entryUUID',
      attributes: [
        { name: 'entryUUID', type: 'string', readOnly: true, required: false },
        { name: 'cn', type: 'string', multiValued: false },
        { name: 'mail', type: 'string', multiValued: true },
        { name: 'manager', type: 'reference', referenceBy: 'dn', multiValued: true },
      ],
    });
    expect(connector.capabilities()).toMatchObject({ export: true, assignsAnchorOnAdd: true });
    await connector.close();
  });

  it('never hands the engine’s secrets to the local instance of a relay’s connector', async () => {
    const host = new ConnectorHost([ldapConnectorFactory], secrets, relays);
    host.create({ id: 'c-2', type: 'ldap', config: ldapConfig, relayGroup: 'branch-office' });
    const local = made[made.length - 1].local;
    await expect(local.testConnection()).resolves.toMatchObject({ ok: false, detail: expect.stringContaining("opened on the relay's host") });
  });

  it('refuses a relay row when the engine has no relay work queue, and validates the config either way', () => {
    const host = new ConnectorHost([ldapConnectorFactory], secrets);
    expect(() => host.create({ id: 'c-1', type: 'ldap', config: ldapConfig, relayGroup: 'branch-office' })).toThrow('runs on relay group "branch-office"');
    expect(() => new ConnectorHost([ldapConnectorFactory], secrets, relays).create({ id: 'c-1', type: 'ldap', config: {}, relayGroup: 'branch-office' })).toThrow(
      expect.objectContaining({ code: 'CONNECTOR_CONFIG_INVALID' }),
    );
  });
});
