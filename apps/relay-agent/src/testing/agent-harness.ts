import type { RelayCommand, RelayCommandReply, RelayWorkOrder } from '@identitymesh/connector-sdk';
import { MetricsRegistry } from '@identitymesh/platform';
import { RelayAgent, RelayAgentOptions } from '../hub/relay-agent';
import { prometheusRelayMetrics } from '../metrics/relay-metrics';
import type { RelayLogger } from '../runtime/relay-logger';
import { RelayConnectorHost } from '../work/relay-connector-host';
import { FakeSystem } from './fake-connector';
import type { FakeHub } from './fake-hub';

/** Log lines kept in memory, so a test can read what the agent said and nothing is printed. */
export class RecordingLogger {
  readonly lines: Array<{ level: string; context: string; message: string; fields?: Record<string, unknown> }> = [];

  for(context: string): RelayLogger {
    const write = (level: string) => (message: string, fields?: Record<string, unknown>) => this.lines.push({ level, context, message, fields });
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
  }
}

export class MemoryCredentials {
  saved: string | null;
  constructor(initial: string | null = null) {
    this.saved = initial;
  }
  async read() {
    return this.saved;
  }
  async save(credential: string) {
    this.saved = credential;
  }
}

export interface AgentUnderTest {
  agent: RelayAgent;
  system: FakeSystem;
  metrics: MetricsRegistry;
  logs: RecordingLogger;
  credentials: MemoryCredentials;
}

/** An agent dialing `hub` with fast reconnects and a fake connector type, plus what a test reads back. */
export function agentFor(hub: FakeHub, overrides: Partial<RelayAgentOptions> & { credential?: string | null; system?: FakeSystem } = {}): AgentUnderTest {
  const system = overrides.system ?? new FakeSystem();
  const metrics = new MetricsRegistry();
  const logs = new RecordingLogger();
  const credentials = new MemoryCredentials(overrides.credential === undefined ? hub.issueCredential() : overrides.credential);
  const commands = async (command: RelayCommand): Promise<RelayCommandReply> => ({ ok: true, detail: `${command.kind} answered` });
  const agent = new RelayAgent({
    hubUrl: hub.url,
    name: 'branch-1',
    host: 'branch-host',
    version: '0.1.0',
    maxConcurrentItems: 4,
    credentials,
    connectors: new RelayConnectorHost([system.factory()], { resolve: async (reference) => `value of ${reference}` }, () => logs.for('Connector')),
    commands,
    metrics: prometheusRelayMetrics(metrics),
    logger: (context) => logs.for(context),
    reconnectPolicy: { firstDelayMs: 10, maxDelayMs: 40, jitter: 0 },
    retryDelayMs: 10,
    ...overrides,
  });
  return { agent, system, metrics, logs, credentials };
}

let orderCount = 0;

/** A work order as the hub hands it out. */
export function order(kind: RelayWorkOrder['kind'], extra: Partial<RelayWorkOrder> = {}): RelayWorkOrder {
  orderCount += 1;
  return {
    id: `item-${orderCount}`,
    kind,
    attempt: 1,
    deadlineAt: new Date(Date.now() + 3_600_000).toISOString(),
    connector: { id: 'conn-1', name: 'Branch directory', type: 'fake', config: {} },
    ...(kind === 'import' ? { import: { mode: 'full' as const, batchSize: 2, nextSeq: 1 } } : {}),
    ...(kind === 'export' ? { export: { changes: [{ id: 'chg-1', kind: 'add' as const, objectType: 'person', dn: 'cn=a', attributes: { cn: { op: 'replace' as const, values: ['a'] } } }] } } : {}),
    ...extra,
  };
}

/** The value of a counter or gauge (with these labels) in the registry. */
export async function metricValue(metrics: MetricsRegistry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(`identitymesh_${name}`);
  if (!metric) return 0;
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value));
  return found?.value ?? 0;
}

/** Resolves once `condition` holds, checked every few milliseconds: for what the agent does after the hub's last message. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 4_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
