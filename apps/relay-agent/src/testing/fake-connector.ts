import {
  ConnectionTestResult,
  Connector,
  ConnectorFactory,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportRequest,
} from '@identitymesh/connector-sdk';

/**
 * A connected system for the agent's tests. Everything the agent asks of its
 * connectors is written to `log` (shared with the fake hub's acks by the
 * test), so a test can prove the order: a batch is read only after the
 * previous one was acknowledged.
 */
export class FakeSystem {
  readonly log: string[] = [];
  /** The batches an import yields, in order. */
  batches: ImportBatch[] = [];
  /** An import fails with this before reading batch `failAtBatch`. */
  failAtBatch?: { batch: number; error: Error };
  exportResults = (changes: ExportChange[]): ExportResult[] => changes.map((c) => ({ id: c.id, outcome: 'applied' }));
  testResult: ConnectionTestResult = { ok: true, detail: 'fake system answers' };
  readonly requests: ImportRequest[] = [];
  exports = 0;
  closed = 0;

  factory(): ConnectorFactory {
    return {
      type: 'fake',
      validate: (config) => config,
      create: () => this.connector(),
    };
  }

  private connector(): Connector {
    return {
      type: 'fake',
      capabilities: () => ({ deltaImport: 'snapshot', export: true, rename: false, assignsAnchorOnAdd: false }),
      schema: async () => ({ objectTypes: [] }),
      testConnection: async () => this.testResult,
      import: (request: ImportRequest) => this.stream(request),
      export: async (changes: ExportChange[]) => {
        this.exports += 1;
        return this.exportResults(changes);
      },
      close: async () => {
        this.closed += 1;
      },
    };
  }

  private async *stream(request: ImportRequest): AsyncIterable<ImportBatch> {
    this.requests.push(request);
    for (const [index, batch] of this.batches.entries()) {
      if (this.failAtBatch?.batch === index + 1) throw this.failAtBatch.error;
      this.log.push(`read ${index + 1}`);
      yield batch;
    }
    this.log.push('read end');
  }
}

/** A batch of `count` upserts. */
export function upserts(from: number, count: number, watermark?: string): ImportBatch {
  return {
    changes: Array.from({ length: count }, (_, i) => ({ kind: 'upsert' as const, objectType: 'person', anchor: `p${from + i}`, attributes: { cn: [`Person ${from + i}`] } })),
    errors: [],
    ...(watermark ? { watermark } : {}),
  };
}
