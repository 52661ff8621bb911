import type { MetricsRegistry } from '@identitymesh/platform';
import type { RelayWorkOrder } from '@identitymesh/connector-sdk';

/** How a work item ended on this relay. `abandoned`: the hub closed it, or the agent stopped before its end. */
export type ItemOutcome = 'done' | 'failed' | 'abandoned';

/** What the agent counts; kept small so the work loop and the hub link can be tested without Prometheus. */
export interface RelayMetrics {
  itemFinished(kind: RelayWorkOrder['kind'], outcome: ItemOutcome): void;
  importBatchSent(): void;
  hubConnected(connected: boolean): void;
  reconnectAttempt(): void;
}

/**
 * The agent's metrics on its /metrics endpoint:
 * - `identitymesh_relay_work_items_total{kind,outcome}`: items run, by kind and how they ended;
 * - `identitymesh_relay_import_batches_sent_total`: import batches the hub acknowledged (a resent batch counts once);
 * - `identitymesh_relay_hub_connected`: 1 while the hub link is up;
 * - `identitymesh_relay_hub_reconnects_total`: dials after the first one (a flapping link shows here).
 */
export function prometheusRelayMetrics(registry: MetricsRegistry): RelayMetrics {
  const items = registry.counter('relay_work_items_total', 'Work items this relay ran, by kind and outcome', ['kind', 'outcome']);
  const batches = registry.counter('relay_import_batches_sent_total', 'Import batches this relay sent and the hub acknowledged');
  const connected = registry.gauge('relay_hub_connected', 'Whether this relay is connected to the hub (1) or not (0)');
  const reconnects = registry.counter('relay_hub_reconnects_total', 'Times this relay dialed the hub again after its first dial');
  connected.set(0);
  return {
    itemFinished: (kind, outcome) => items.inc({ kind, outcome }),
    importBatchSent: () => batches.inc(),
    hubConnected: (up) => connected.set(up ? 1 : 0),
    reconnectAttempt: () => reconnects.inc(),
  };
}
