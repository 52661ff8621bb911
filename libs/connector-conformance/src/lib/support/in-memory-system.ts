import {
  AttributeChange,
  Attributes,
  Connector,
  ConnectorCapabilities,
  ConnectorError,
  ConnectorSchema,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportChange,
  ImportedObject,
  ImportObjectError,
  ImportRequest,
} from '@identitymesh/connector-sdk';
import type { ConformanceObject, SeededObject, SystemDriver } from '../conformance-harness';

/** Bugs a connector could have; each one must make a kit case fail. */
export interface InMemoryFlaws {
  /** Yields the whole import as one batch. */
  ignoresBatchSize?: boolean;
  /** Creates a second object when an add is retried. */
  duplicatesRetriedAdds?: boolean;
  /** Puts the import's starting position on every batch, so a resumed delta skips the rest of the first run. */
  watermarkOnEveryBatch?: boolean;
  /** Leaves deletes out of delta imports. */
  deltaMissesDeletes?: boolean;
  /** Throws for a whole export batch when one object is bad. */
  batchFailsOnBadObject?: boolean;
  /** Reports every object again in a delta with no change. */
  deltaRepeatsEverything?: boolean;
  /** Stops the import at the first malformed object. */
  importStopsAtMalformed?: boolean;
}

interface Entry {
  anchor: string;
  dn: string;
  attributes: Attributes;
  malformed?: boolean;
}

const OBJECT_TYPE = 'person';

/**
 * A directory in memory with a change log, standing in for a real system in
 * the kit's own tests: LDAP-like (the system assigns anchors, objects have
 * DNs and can be renamed, deltas are native).
 */
export class InMemoryDirectory {
  readonly entries = new Map<string, Entry>();
  /** Change sequence numbers by anchor: the last change of each object. */
  private readonly log = new Map<string, number>();
  private sequence = 0;
  private nextAnchor = 1;

  get position(): number {
    return this.sequence;
  }

  changedSince(position: number): string[] {
    return [...this.log.entries()].filter(([, sequence]) => sequence > position).map(([anchor]) => anchor);
  }

  create(dn: string, attributes: Attributes, malformed = false): Entry {
    const entry: Entry = { anchor: `uuid-${String(this.nextAnchor++).padStart(6, '0')}`, dn, attributes: { ...attributes }, malformed };
    this.entries.set(entry.anchor, entry);
    this.touch(entry.anchor);
    return entry;
  }

  touch(anchor: string): void {
    this.log.set(anchor, ++this.sequence);
  }

  byDn(dn: string): Entry[] {
    return [...this.entries.values()].filter((entry) => entry.dn === dn);
  }

  driver(): SystemDriver {
    const copy = (entry: Entry): ImportedObject => ({ objectType: OBJECT_TYPE, anchor: entry.anchor, dn: entry.dn, attributes: structuredClone(entry.attributes) });
    return {
      seed: async (objects: ConformanceObject[]): Promise<SeededObject[]> =>
        objects.map((object) => {
          const entry = this.create(object.dn ?? `cn=${String(object.attributes['cn']?.[0])},ou=people`, object.attributes);
          return { anchor: entry.anchor, dn: entry.dn };
        }),
      modify: async (anchor, attributes) => {
        const entry = this.required(anchor);
        entry.attributes = { ...entry.attributes, ...structuredClone(attributes) };
        this.touch(anchor);
      },
      remove: async (anchor) => {
        this.required(anchor);
        this.entries.delete(anchor);
        this.touch(anchor);
      },
      rename: async (anchor, newDn) => {
        this.required(anchor).dn = newDn;
        this.touch(anchor);
      },
      read: async ({ anchor, dn }) => {
        const entry = anchor !== undefined ? this.entries.get(anchor) : dn !== undefined ? this.byDn(dn)[0] : undefined;
        return entry && !entry.malformed ? copy(entry) : undefined;
      },
      list: async () => [...this.entries.values()].filter((entry) => !entry.malformed).map(copy),
    };
  }

  private required(anchor: string): Entry {
    const entry = this.entries.get(anchor);
    if (!entry) throw new Error(`no entry ${anchor}`);
    return entry;
  }
}

export class InMemoryConnector implements Connector {
  readonly type = 'in-memory';

  constructor(
    private readonly directory: InMemoryDirectory,
    private readonly flaws: InMemoryFlaws = {},
  ) {}

  capabilities(): ConnectorCapabilities {
    return { deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: true };
  }

  async schema(): Promise<ConnectorSchema> {
    return {
      objectTypes: [
        {
          name: OBJECT_TYPE,
          anchorAttribute: 'entryUUID',
          attributes: [
            { name: 'entryUUID', type: 'string', readOnly: true },
            { name: 'cn', type: 'string', required: true },
            { name: 'sn', type: 'string', required: true },
            { name: 'mail', type: 'string', multiValued: true },
            { name: 'manager', type: 'reference', referenceBy: 'dn' },
          ],
        },
      ],
    };
  }

  async testConnection() {
    return { ok: true, detail: `in memory; ${this.directory.entries.size} entries` };
  }

  async *import(request: ImportRequest): AsyncIterable<ImportBatch> {
    const batchSize = this.flaws.ignoresBatchSize ? Number.MAX_SAFE_INTEGER : (request.batchSize ?? 500);
    const start = this.directory.position;
    const since = request.mode === 'delta' && request.watermark !== undefined && !this.flaws.deltaRepeatsEverything ? Number(request.watermark) : undefined;
    const anchors = since === undefined ? [...this.directory.entries.keys()] : this.directory.changedSince(since);
    const items: Array<ImportChange | ImportObjectError> = [];
    for (const anchor of anchors) {
      const entry = this.directory.entries.get(anchor);
      if (!entry) {
        if (!this.flaws.deltaMissesDeletes) items.push({ kind: 'delete', objectType: OBJECT_TYPE, anchor });
      } else if (entry.malformed) {
        if (this.flaws.importStopsAtMalformed) throw new ConnectorError('OBJECT_MALFORMED', `cannot read ${entry.dn}`);
        items.push({ objectType: OBJECT_TYPE, anchor, position: entry.dn, code: 'OBJECT_MALFORMED', message: `${entry.dn}: cannot read it` });
      } else {
        items.push({ kind: 'upsert', objectType: OBJECT_TYPE, anchor, dn: entry.dn, attributes: structuredClone(entry.attributes) });
      }
    }
    for (let offset = 0; offset === 0 || offset < items.length; offset += batchSize) {
      const slice = items.slice(offset, offset + batchSize);
      const last = offset + batchSize >= items.length;
      yield {
        changes: slice.filter((item): item is ImportChange => 'kind' in item),
        errors: slice.filter((item): item is ImportObjectError => !('kind' in item)),
        ...(last || this.flaws.watermarkOnEveryBatch ? { watermark: String(start) } : {}),
      };
    }
  }

  async export(changes: ExportChange[]): Promise<ExportResult[]> {
    return changes.map((change) => {
      try {
        return this.apply(change);
      } catch (error) {
        if (error instanceof ConnectorError && !this.flaws.batchFailsOnBadObject) {
          return { id: change.id, outcome: 'failed', error: { code: error.code, message: error.message, retryable: error.retryable } };
        }
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    // Nothing to release: the directory outlives its connectors, as a real one does.
  }

  private apply(change: ExportChange): ExportResult {
    const { directory } = this;
    switch (change.kind) {
      case 'add': {
        const attributes = Object.fromEntries(Object.entries(change.attributes ?? {}).map(([name, attributeChange]) => [name, attributeChange.values]));
        if (!attributes['sn']?.length) throw new ConnectorError('OBJECT_CONSTRAINT_VIOLATION', 'sn is required');
        if (!change.dn) throw new ConnectorError('OBJECT_REJECTED', 'an add needs a dn');
        const [existing] = directory.byDn(change.dn);
        if (existing && !this.flaws.duplicatesRetriedAdds) {
          const same = Object.entries(attributes).every(([name, values]) => JSON.stringify(existing.attributes[name]) === JSON.stringify(values));
          if (!same) throw new ConnectorError('OBJECT_ALREADY_EXISTS', `${change.dn} exists with other values`);
          return { id: change.id, outcome: 'already-applied', anchor: existing.anchor };
        }
        return { id: change.id, outcome: 'applied', anchor: directory.create(change.dn, attributes).anchor };
      }
      case 'update': {
        const entry = this.entry(change);
        if (!entry) throw new ConnectorError('OBJECT_NOT_FOUND', `no entry ${change.anchor}`);
        const before = JSON.stringify(entry.attributes);
        for (const [name, attributeChange] of Object.entries(change.attributes ?? {})) entry.attributes[name] = changed(entry.attributes[name] ?? [], attributeChange);
        if (JSON.stringify(entry.attributes) === before) return { id: change.id, outcome: 'already-applied' };
        directory.touch(entry.anchor);
        return { id: change.id, outcome: 'applied' };
      }
      case 'delete': {
        const entry = this.entry(change);
        if (!entry) return { id: change.id, outcome: 'already-applied' };
        directory.entries.delete(entry.anchor);
        directory.touch(entry.anchor);
        return { id: change.id, outcome: 'applied' };
      }
      case 'rename': {
        const entry = this.entry(change);
        if (!entry) throw new ConnectorError('OBJECT_NOT_FOUND', `no entry ${change.anchor}`);
        if (!change.newDn) throw new ConnectorError('OBJECT_REJECTED', 'a rename needs newDn');
        if (entry.dn === change.newDn) return { id: change.id, outcome: 'already-applied' };
        entry.dn = change.newDn;
        directory.touch(entry.anchor);
        return { id: change.id, outcome: 'applied' };
      }
    }
  }

  private entry(change: ExportChange): Entry | undefined {
    return change.anchor !== undefined ? this.directory.entries.get(change.anchor) : undefined;
  }
}

function changed(values: Attributes[string], change: AttributeChange): Attributes[string] {
  switch (change.op) {
    case 'replace':
      return [...change.values];
    case 'add':
      return [...values, ...change.values.filter((value) => !values.includes(value))];
    case 'remove':
      return change.values.length === 0 ? [] : values.filter((value) => !change.values.includes(value));
  }
}
