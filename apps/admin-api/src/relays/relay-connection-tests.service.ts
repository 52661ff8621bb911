import { Injectable } from '@nestjs/common';
import { ItemWait, PollBackoff } from '@identitymesh/connector-sdk';
import type { ConnectionTestResult } from '@identitymesh/connector-sdk';
import { RelayWorkItemView, RelayWorkQueueRepository } from '@identitymesh/persistence';
import { RelayHubGateway } from './relay-hub.gateway';
import { RelayItemProgress } from './relay-item-progress.service';

/** The first and the longest poll interval of a test's wait (it is short, so the cap is lower than a run's). */
const TEST_POLL_MS = { first: 100, max: 1_000 };

/** How long an operator's connection test waits for a relay of the group before it reports that none answered. */
export const RELAY_TEST_TIMEOUT_MS = 30_000;

/**
 * Connection tests of connectors that run on a relay: the test has to run
 * where the system is, so it goes through the relay work queue like any
 * other relay work (a `test-connection` item with a short deadline), and the
 * hub tells the group's relays at once. What the relay found comes back as
 * the item's result: the test is woken as soon as this instance completes
 * the item, and reads it from SQL then; it polls as well (every 100 ms at
 * first, doubling up to 1 s) for a relay whose result another instance took.
 */
@Injectable()
export class RelayConnectionTests {
  constructor(
    private readonly queue: RelayWorkQueueRepository,
    private readonly hub: RelayHubGateway,
    private readonly progress: RelayItemProgress,
  ) {}

  async test(connector: { id: string; relayGroup: string }, timeoutMs = RELAY_TEST_TIMEOUT_MS): Promise<ConnectionTestResult & { code: string | null }> {
    const now = new Date();
    const item = await this.queue.enqueue(
      { relayGroup: connector.relayGroup, connectorId: connector.id, runId: null, workKey: null, kind: 'test-connection', payload: {}, deadlineAt: new Date(now.getTime() + timeoutMs) },
      now,
    );
    // The deadline ends the wait; the watch is opened before the relays are told of the item, so even a quick answer wakes it.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const wait = new ItemWait(item.id, this.progress, new PollBackoff(TEST_POLL_MS.first, TEST_POLL_MS.max), deadline.signal);
    let current: RelayWorkItemView | null = item;
    try {
      this.hub.notifyGroup(connector.relayGroup);
      while (current && !isClosed(current) && (await wait.pause())) current = await this.queue.get(item.id);
    } finally {
      clearTimeout(timer);
      wait.close();
    }
    if (current?.status === 'done') {
      const found = current.result?.['testConnection'] as Partial<ConnectionTestResult> | undefined;
      if (typeof found?.ok === 'boolean' && typeof found.detail === 'string') return { ok: found.ok, detail: `on a relay of group "${connector.relayGroup}": ${found.detail}`, code: null };
      return { ok: false, detail: `a relay of group "${connector.relayGroup}" answered without a test result`, code: 'SYSTEM_ERROR' };
    }
    if (current?.status === 'failed') {
      const error = current.result?.['error'] as { code?: string; message?: string } | undefined;
      return { ok: false, detail: `on a relay of group "${connector.relayGroup}": ${error?.message ?? 'the test failed'}`, code: error?.code ?? 'SYSTEM_ERROR' };
    }
    return {
      ok: false,
      detail: `no relay of group "${connector.relayGroup}" answered within ${Math.round(timeoutMs / 1000)} s: is one enrolled and connected? (GET /api/relays)`,
      code: 'CONNECTOR_UNREACHABLE',
    };
  }
}

function isClosed(item: RelayWorkItemView): boolean {
  return item.status === 'done' || item.status === 'failed' || item.status === 'expired';
}
