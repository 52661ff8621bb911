import type {
  AttributeValue,
  Attributes,
  Connector,
  ConnectorCapabilities,
  ConnectorErrorCode,
  ConnectorFactory,
  ConnectorSchema,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportChange,
  ImportedObject,
  ImportObjectError,
  ImportRequest,
} from '@identitymesh/connector-sdk';

/** A failure the system gives for one object's exports. */
export interface InjectedExportFailure {
  code: ConnectorErrorCode;
  message: string;
  retryable: boolean;
}

/**
 * A connected system in memory with a change log, behind the real connector
 * contract: full imports stream every object, native deltas stream the log
 * after the watermark (a sequence number) with the position on every batch;
 * exports apply adds, updates, renames and deletes and reconcile a change
 * that already arrived as `already-applied`, as real connectors do.
 * Tests steer it: malformed objects, a failure or a pause after N batches,
 * per-object export failures, a system that cannot be reached, a hook after
 * each applied export batch.
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
  /** The system makes up the anchor of an added object (LDAP entryUUID) instead of taking it from the export. */
  assignsAnchors = false;
  /** Export failures by the anchor (or, without one, the DN) of the object. */
  readonly exportFailures = new Map<string, InjectedExportFailure>();
  /** Thrown by every export call while set: the system cannot be reached. */
  exportOutage: Error | undefined;
  /** Called after a batch of exports was applied, before the results go back to the engine. */
  afterExport: ((changes: ExportChange[], results: ExportResult[]) => Promise<void>) | undefined;
  /** Every export batch the system received, and how often each change id was applied (not reconciled). */
  readonly exportBatches: ExportChange[][] = [];
  readonly appliedTimes = new Map<string, number>();
  private assigned = 0;

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

  get(objectType: string, anchor: string): ImportedObject | undefined {
    return this.objects.get(`${objectType}\u0000${anchor}`);
  }

  /** @internal the connector's view of an export batch. */
  async export(changes: ExportChange[]): Promise<ExportResult[]> {
    if (this.exportOutage) throw this.exportOutage;
    this.exportBatches.push(changes);
    const results = changes.map((change) => this.apply(change));
    for (const result of results) if (result.outcome === 'applied') this.appliedTimes.set(result.id, (this.appliedTimes.get(result.id) ?? 0) + 1);
    if (this.afterExport) await this.afterExport(changes, results);
    return results;
  }

  private apply(change: ExportChange): ExportResult {
    const failure = this.exportFailures.get(change.anchor ?? change.dn ?? '');
    if (failure) return { id: change.id, outcome: 'failed', error: { ...failure } };
    const existing = this.find(change);
    const failed = (code: ConnectorErrorCode, message: string): ExportResult => ({ id: change.id, outcome: 'failed', error: { code, message, retryable: false } });
    switch (change.kind) {
      case 'add': {
        const attributes = applyChanges({}, change);
        if (existing) {
          return sameAttributes(existing.attributes, attributes) ? { id: change.id, outcome: 'already-applied', anchor: existing.anchor } : failed('OBJECT_ALREADY_EXISTS', `${existing.anchor} exists with other values`);
        }
        const anchor = this.assignsAnchors ? `assigned-${++this.assigned}` : change.anchor;
        if (!anchor) return failed('OBJECT_REJECTED', 'an add needs an anchor');
        this.upsert(change.objectType, anchor, attributes, change.dn);
        return { id: change.id, outcome: 'applied', ...(this.assignsAnchors ? { anchor } : {}) };
      }
      case 'update': {
        if (!existing) return failed('OBJECT_NOT_FOUND', `no ${change.objectType} ${change.anchor ?? change.dn}`);
        const attributes = applyChanges(existing.attributes, change);
        if (sameAttributes(existing.attributes, attributes)) return { id: change.id, outcome: 'already-applied' };
        this.upsert(existing.objectType, existing.anchor, attributes, existing.dn);
        return { id: change.id, outcome: 'applied' };
      }
      case 'rename': {
        if (!existing) return failed('OBJECT_NOT_FOUND', `no ${change.objectType} ${change.anchor ?? change.dn}`);
        if (existing.dn === change.newDn) return { id: change.id, outcome: 'already-applied' };
        this.upsert(existing.objectType, existing.anchor, existing.attributes, change.newDn);
        return { id: change.id, outcome: 'applied' };
      }
      case 'delete':
        if (!existing) return { id: change.id, outcome: 'already-applied' };
        this.remove(existing.objectType, existing.anchor);
        return { id: change.id, outcome: 'applied' };
    }
  }

  /** By anchor when the change has one, else by DN. */
  private find(change: ExportChange): ImportedObject | undefined {
    if (change.anchor !== undefined) return this.get(change.objectType, change.anchor);
    return [...this.objects.values()].find((object) => object.objectType === change.objectType && object.dn !== undefined && object.dn.toLowerCase() === change.dn?.toLowerCase());
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
    return { deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: this.system.assignsAnchors };
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

  export(changes: ExportChange[]): Promise<ExportResult[]> {
    return this.system.export(changes);
  }

  async close(): Promise<void> {
    this.system.closed++;
  }
}

function applyChanges(current: Attributes, change: ExportChange): Attributes {
  const attributes: Attributes = change.kind === 'add' ? {} : { ...current };
  for (const [name, attributeChange] of Object.entries(change.attributes ?? {})) {
    const before = attributes[name] ?? [];
    const values =
      attributeChange.op === 'replace' ? attributeChange.values : attributeChange.op === 'add' ? [...before, ...attributeChange.values.filter((v) => !before.includes(v))] : before.filter((v) => !attributeChange.values.includes(v));
    if (values.length === 0) delete attributes[name];
    else attributes[name] = [...values];
  }
  return attributes;
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const canonical = (attributes: Attributes) =>
    JSON.stringify(
      Object.keys(attributes)
        .filter((name) => attributes[name].length > 0)
        .sort()
        .map((name) => [name, [...attributes[name]].map((value: AttributeValue) => JSON.stringify(value)).sort()]),
    );
  return canonical(a) === canonical(b);
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
