import type {
  Attributes,
  Connector,
  ConnectorCapabilities,
  ConnectorFactory,
  ConnectorSchema,
  ImportBatch,
  ImportChange,
  ImportedObject,
  ImportObjectError,
  ImportRequest,
} from '@identitymesh/connector-sdk';

/**
 * A connected system in memory with a change log, behind the real connector
 * contract: full imports stream every object, native deltas stream the log
 * after the watermark (a sequence number) with the position on every batch.
 * Tests steer it: malformed objects, a failure or a pause after N batches.
 */
export class InMemorySystem {
  private readonly objects = new Map<string, ImportedObject>();
  private readonly log: Array<{ seq: number; change: ImportChange }> = [];
  private seq = 0;
  /** Errors reported with the batch that reaches them, in full imports. */
  readonly malformed: ImportObjectError[] = [];
  /** How many times import() was called, and with what. */
  readonly requests: ImportRequest[] = [];
  /** Batches served across all imports. */
  batchesServed = 0;
  /** Throws this after serving that many batches of an import. */
  failAfter: { batches: number; error: Error } | undefined;
  /** Before serving the batch with this index (0-based), waits for `release` (or the abort signal). */
  pauseBefore: { batch: number; reached: () => void; release: Promise<void> } | undefined;
  closed = 0;
  /** Imports streaming right now, and the most there ever were at once. */
  activeImports = 0;
  maxActiveImports = 0;

  constructor(readonly schema: ConnectorSchema = PERSON_AND_GROUP) {}

  upsert(objectType: string, anchor: string, attributes: Attributes, dn?: string): void {
    const object: ImportedObject = { objectType, anchor, attributes, ...(dn ? { dn } : {}) };
    this.objects.set(`${objectType}\u0000${anchor}`, object);
    this.log.push({ seq: ++this.seq, change: { kind: 'upsert', ...object } });
  }

  remove(objectType: string, anchor: string): void {
    this.objects.delete(`${objectType}\u0000${anchor}`);
    this.log.push({ seq: ++this.seq, change: { kind: 'delete', objectType, anchor } });
  }

  all(): ImportedObject[] {
    return [...this.objects.values()];
  }

  /** A factory whose every connector reads this system. */
  factory(type = 'scim'): ConnectorFactory<unknown> {
    return inMemoryConnectorFactory(() => this, type);
  }

  /** @internal the connector's view of the source. */
  async *stream(request: ImportRequest): AsyncIterable<ImportBatch> {
    this.activeImports++;
    this.maxActiveImports = Math.max(this.maxActiveImports, this.activeImports);
    try {
      yield* this.read(request);
    } finally {
      this.activeImports--;
    }
  }

  private async *read(request: ImportRequest): AsyncIterable<ImportBatch> {
    this.requests.push(request);
    const size = request.batchSize ?? 500;
    const position = this.seq;
    const fromLog = request.mode === 'delta' && request.watermark !== undefined;
    const entries = fromLog ? this.log.filter((entry) => entry.seq > Number(request.watermark)) : [];
    const changes: ImportChange[] = fromLog ? entries.map((entry) => entry.change) : [...this.objects.values()].map((object) => ({ kind: 'upsert' as const, ...object }));
    const errors = request.mode === 'full' ? [...this.malformed] : [];
    const total = Math.max(1, Math.ceil(changes.length / size));
    for (let index = 0; index < total; index++) {
      if (this.failAfter && index >= this.failAfter.batches) throw this.failAfter.error;
      if (this.pauseBefore?.batch === index) {
        this.pauseBefore.reached();
        await Promise.race([this.pauseBefore.release, aborted(request.signal)]);
      }
      if (request.signal?.aborted) return;
      const slice = changes.slice(index * size, (index + 1) * size);
      const last = index === total - 1;
      // Reading everything resumes from where the log stood when it began, once
      // the end is reached; reading the log resumes after its last change so far.
      const watermark = !fromLog ? (last ? String(position) : undefined) : String(slice.length > 0 ? entries[index * size + slice.length - 1].seq : position);
      this.batchesServed++;
      yield { changes: slice, errors: index === 0 ? errors : [], ...(watermark !== undefined ? { watermark } : {}) };
    }
  }
}

/**
 * Connectors of `type` over in-memory systems, one per connector id. A type
 * with no built-in connector stands in for one.
 */
export function inMemoryConnectorFactory(systemOf: (connectorId: string) => InMemorySystem, type = 'scim'): ConnectorFactory<unknown> {
  return {
    type,
    validate: (config) => config,
    create: (_config, context) => new InMemoryConnector(systemOf(context.connectorId), type),
  };
}

class InMemoryConnector implements Connector {
  constructor(
    private readonly system: InMemorySystem,
    readonly type: string,
  ) {}

  capabilities(): ConnectorCapabilities {
    return { deltaImport: 'native', export: false, rename: false, assignsAnchorOnAdd: false };
  }

  async schema(): Promise<ConnectorSchema> {
    return this.system.schema;
  }

  async testConnection() {
    return { ok: true, detail: `${this.system.all().length} objects in memory` };
  }

  import(request: ImportRequest): AsyncIterable<ImportBatch> {
    return this.system.stream(request);
  }

  async export(): Promise<never> {
    throw new Error('the in-memory system takes no exports');
  }

  async close(): Promise<void> {
    this.system.closed++;
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export const PERSON_AND_GROUP: ConnectorSchema = {
  objectTypes: [
    {
      name: 'person',
      anchorAttribute: 'employeeId',
      attributes: [
        { name: 'employeeId', type: 'string' },
        { name: 'mail', type: 'string' },
        { name: 'manager', type: 'reference', referenceBy: 'anchor' },
      ],
    },
    {
      name: 'group',
      anchorAttribute: 'cn',
      attributes: [
        { name: 'cn', type: 'string' },
        { name: 'member', type: 'reference', multiValued: true, referenceBy: 'dn' },
      ],
    },
  ],
};
