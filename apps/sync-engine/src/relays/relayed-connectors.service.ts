import { Injectable } from '@nestjs/common';
import type { Connector } from '@identitymesh/connector-sdk';
import { MetricsRegistry } from '@identitymesh/platform';
import { RelayWorkQueueRepository } from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { RelayHubLink } from './relay-hub-link.service';
import { RelayedConnector, RelayedConnectorDefinition, RelayWorkObserver } from './relayed-connector';

/** Makes the connector of a row with a relay group; the connector host asks it for those. */
export const RELAYED_CONNECTORS = Symbol('identitymesh.relayed-connectors');

export interface RelayedConnectorSource {
  /**
   * A connector that runs `connector` through its group's relays. `local` is
   * an unopened instance of the same type over `validatedConfig`; the
   * returned connector owns it and closes it.
   */
  create(connector: RelayedConnectorDefinition, local: Connector, validatedConfig: unknown, options: { runId?: string; signal?: AbortSignal }): Connector;
}

/** Relayed connectors over the engine's work queue, hub link (notifications out, wake-ups in), deadline setting and metrics. */
@Injectable()
export class RelayedConnectors implements RelayedConnectorSource {
  private readonly observer: RelayWorkObserver;

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly queue: RelayWorkQueueRepository,
    private readonly hub: RelayHubLink,
    metrics: MetricsRegistry,
  ) {
    const enqueued = metrics.counter('relay_work_enqueued_total', 'Relay work items the engine queued, by kind', ['kind']);
    const waits = metrics.histogram('relay_work_wait_seconds', 'Time the engine waited for a relay: per import batch, export batch or connection test', ['kind'], [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]);
    this.observer = { enqueued: (kind) => enqueued.inc({ kind }), waited: (kind, seconds) => waits.observe({ kind }, seconds) };
  }

  create(connector: RelayedConnectorDefinition, local: Connector, validatedConfig: unknown, options: { runId?: string; signal?: AbortSignal }): Connector {
    return new RelayedConnector({
      connector,
      local,
      validatedConfig,
      queue: this.queue,
      notify: (relayGroup) => this.hub.notifyEnqueued(relayGroup),
      progress: this.hub,
      deadlineMs: this.config.relays.deadlineMs,
      runId: options.runId,
      signal: options.signal,
      observer: this.observer,
    });
  }
}
