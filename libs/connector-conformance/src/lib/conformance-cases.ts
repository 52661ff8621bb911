import { randomUUID } from 'node:crypto';
import {
  ATTRIBUTE_TYPES,
  AttributeChange,
  Attributes,
  Connector,
  CONNECTOR_ERROR_CODES,
  ConnectorError,
  ExportChange,
  ExportResult,
  ImportBatch,
  ImportChange,
  ImportRequest,
} from '@identitymesh/connector-sdk';
import type { ConformanceHarness, ConformanceObject, ConformanceSystem, SeededObject } from './conformance-harness';

/** What a case runs with: a fresh system from the harness's `setUp`. */
export interface ConformanceContext {
  harness: ConformanceHarness;
  system: ConformanceSystem;
  /** A further connector on the same system, closed after the case. */
  reconnect(): Promise<Connector>;
}

export interface ConformanceCase {
  name: string;
  /** Whether the case applies to this harness (export cases need an exporting connector, …). */
  appliesTo(harness: ConformanceHarness): boolean;
  run(context: ConformanceContext): Promise<void>;
}

/** A stream that never ends would hang the run; no real system yields this many batches to the kit. */
const MAX_BATCHES = 10_000;
const DEFAULT_BATCH_SIZE = 5;

const batchSizeOf = (harness: ConformanceHarness) => harness.batchSize ?? DEFAULT_BATCH_SIZE;
const always = () => true;
const exporting = (harness: ConformanceHarness) => harness.capabilities.export;

async function readAll(connector: Connector, request: ImportRequest): Promise<ImportBatch[]> {
  const batches: ImportBatch[] = [];
  for await (const batch of connector.import(request)) {
    batches.push(batch);
    if (batches.length > MAX_BATCHES) throw new Error(`import yielded more than ${MAX_BATCHES} batches`);
  }
  return batches;
}

function importRequest(harness: ConformanceHarness, mode: 'full' | 'delta', watermark?: string): ImportRequest {
  return { mode, objectTypes: [harness.objectType], batchSize: batchSizeOf(harness), ...(watermark !== undefined ? { watermark } : {}) };
}

const changesOf = (batches: ImportBatch[]) => batches.flatMap((batch) => batch.changes);
const errorsOf = (batches: ImportBatch[]) => batches.flatMap((batch) => batch.errors);
const upserts = (changes: ImportChange[]) => changes.filter((change): change is Extract<ImportChange, { kind: 'upsert' }> => change.kind === 'upsert');
const sorted = (values: Iterable<string>) => [...values].sort();

function lastWatermark(batches: ImportBatch[]): string | undefined {
  return batches.reduce<string | undefined>((watermark, batch) => batch.watermark ?? watermark, undefined);
}

function samples(harness: ConformanceHarness, count: number, from = 0): ConformanceObject[] {
  return Array.from({ length: count }, (_, index) => harness.samples.valid(from + index));
}

/** Every expected attribute present with the same values in any order, as strings; extra attributes of the system are ignored. */
export function defaultAttributesMatch(expected: Attributes, actual: Attributes): boolean {
  return Object.entries(expected).every(([name, values]) => {
    const held = actual[name] ?? [];
    return JSON.stringify(sorted(values.map(String))) === JSON.stringify(sorted(held.map(String)));
  });
}

function expectAttributes(harness: ConformanceHarness, expected: Attributes, actual: Attributes | undefined, what: string): void {
  const match = harness.attributesMatch ?? defaultAttributesMatch;
  if (!actual || !match(expected, actual)) {
    // The message names the object; toEqual shows the difference.
    expect({ object: what, attributes: actual }).toEqual({ object: what, attributes: expect.objectContaining(expected) });
    // A custom attributesMatch may refuse what deep equality accepts; its verdict stands.
    throw new Error(`${what}: the system holds other values than expected`);
  }
}

function exportChange(kind: ExportChange['kind'], harness: ConformanceHarness, fields: Partial<ExportChange> = {}): ExportChange {
  return { id: `conformance-${kind}-${randomUUID()}`, kind, objectType: harness.objectType, ...fields };
}

function addChange(harness: ConformanceHarness, object: ConformanceObject): ExportChange {
  return exportChange('add', harness, {
    ...(harness.capabilities.assignsAnchorOnAdd || object.anchor === undefined ? {} : { anchor: object.anchor }),
    ...(object.dn !== undefined ? { dn: object.dn } : {}),
    attributes: replaceAll(object.attributes),
  });
}

function replaceAll(attributes: Attributes): Record<string, AttributeChange> {
  return Object.fromEntries(Object.entries(attributes).map(([name, values]) => [name, { op: 'replace', values }]));
}

async function exportOne(connector: Connector, change: ExportChange): Promise<ExportResult> {
  const results = await connector.export([change]);
  expect(results).toHaveLength(1);
  expect(results[0].id).toBe(change.id);
  return results[0];
}

function expectSuccess(result: ExportResult, outcomes: Array<ExportResult['outcome']> = ['applied']): void {
  if (!outcomes.includes(result.outcome) || result.error !== undefined) {
    // Comparing the whole result puts the connector's error message in the failure.
    expect({ outcome: result.outcome, error: result.error }).toEqual({ outcome: outcomes.join(' or '), error: undefined });
  }
}

/** Where an added object landed: the anchor the system assigned, or the one the object carries. */
function anchorOfAdd(harness: ConformanceHarness, object: ConformanceObject, result: ExportResult): string {
  if (harness.capabilities.assignsAnchorOnAdd) {
    expect(typeof result.anchor).toBe('string');
    return result.anchor as string;
  }
  expect(object.anchor).toBeDefined();
  return object.anchor as string;
}

async function copiesOf(system: ConformanceSystem, object: { anchor?: string; dn?: string }): Promise<number> {
  const all = await system.driver.list();
  return all.filter((held) => (object.anchor !== undefined && held.anchor === object.anchor) || (object.dn !== undefined && held.dn === object.dn)).length;
}

function expectConnectorError(error: unknown): void {
  expect(error).toBeInstanceOf(ConnectorError);
  const { code, message } = error as ConnectorError;
  expect(CONNECTOR_ERROR_CODES).toContain(code);
  expect(message.length).toBeGreaterThan(0);
}

/** Every case of the kit, in the order they are declared. */
export const CONFORMANCE_CASES: ConformanceCase[] = [
  {
    name: 'describes a well-formed schema and the expected capabilities',
    appliesTo: always,
    async run({ harness, system: { connector } }) {
      expect(connector.capabilities()).toEqual(harness.capabilities);
      const schema = await connector.schema();
      const objectType = schema.objectTypes.find((type) => type.name === harness.objectType);
      expect(objectType).toBeDefined();
      if (!objectType) return;
      const names = objectType.attributes.map((attribute) => attribute.name);
      expect(names).toContain(objectType.anchorAttribute);
      expect(new Set(names).size).toBe(names.length);
      for (const attribute of objectType.attributes) {
        expect(ATTRIBUTE_TYPES).toContain(attribute.type);
        if (attribute.referenceBy !== undefined) expect(attribute.type).toBe('reference');
      }
      // The samples are the kit's view of the schema; a sample attribute the schema lacks is a harness bug worth naming.
      expect(names).toEqual(expect.arrayContaining(Object.keys(harness.samples.valid(0).attributes)));
    },
  },
  {
    name: 'tests its connection',
    appliesTo: always,
    async run({ system: { connector } }) {
      const result = await connector.testConnection();
      expect(result).toEqual({ ok: true, detail: expect.any(String) });
      expect(result.detail.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'reports a broken config with ok:false or a ConnectorError, without hanging',
    appliesTo: always,
    async run({ harness }) {
      for (const config of harness.invalidConfigs ?? []) {
        let refused: unknown;
        try {
          harness.factory?.validate(config);
        } catch (error) {
          refused = error;
        }
        expectConnectorError(refused);
        expect((refused as ConnectorError).code).toBe('CONNECTOR_CONFIG_INVALID');
      }
      let broken: Connector;
      try {
        broken = await harness.brokenConnector();
      } catch (error) {
        expectConnectorError(error);
        return;
      }
      try {
        const result = await broken.testConnection();
        expect(result.ok).toBe(false);
        expect(result.detail.length).toBeGreaterThan(0);
      } catch (error) {
        expectConnectorError(error);
      } finally {
        await broken.close();
      }
    },
  },
  {
    name: 'full import returns exactly the seeded objects, in batches no larger than batchSize',
    appliesTo: always,
    async run({ harness, system: { connector, driver } }) {
      const batchSize = batchSizeOf(harness);
      const objects = samples(harness, 2 * batchSize + 2);
      const seeded = await driver.seed(objects);
      const batches = await readAll(connector, importRequest(harness, 'full'));
      for (const batch of batches) expect(batch.changes.length).toBeLessThanOrEqual(batchSize);
      expect(batches.length).toBeGreaterThanOrEqual(3);
      expect(errorsOf(batches)).toEqual([]);
      const changes = changesOf(batches);
      expect(changes.every((change) => change.kind === 'upsert' && change.objectType === harness.objectType)).toBe(true);
      expect(sorted(changes.map((change) => change.anchor))).toEqual(sorted(seeded.map((object) => object.anchor)));
      const byAnchor = new Map(upserts(changes).map((change) => [change.anchor, change]));
      seeded.forEach((object, index) => expectAttributes(harness, objects[index].attributes, byAnchor.get(object.anchor)?.attributes, object.anchor));
    },
  },
  {
    name: 'puts watermarks only on batches that are safe resume points',
    appliesTo: always,
    async run({ harness, system: { connector, driver } }) {
      const batchSize = batchSizeOf(harness);
      await driver.seed(samples(harness, 2 * batchSize + 2));
      const batches = await readAll(connector, importRequest(harness, 'full'));
      expect(lastWatermark(batches)).toBeDefined();
      // A watermark on batch i is safe when a delta resumed from it (as after
      // a crash right after batch i committed) brings every object that only
      // later batches held.
      for (let index = 0; index < batches.length; index++) {
        const watermark = batches[index].watermark;
        if (watermark === undefined) continue;
        const delivered = new Set(changesOf(batches.slice(0, index + 1)).map((change) => change.anchor));
        const later = sorted(new Set(changesOf(batches.slice(index + 1)).map((change) => change.anchor).filter((anchor) => !delivered.has(anchor))));
        const resumed = changesOf(await readAll(connector, importRequest(harness, 'delta', watermark)));
        expect({ resumedFromBatch: index, missing: later.filter((anchor) => !resumed.some((change) => change.kind === 'upsert' && change.anchor === anchor)) }).toEqual({
          resumedFromBatch: index,
          missing: [],
        });
      }
      const resumedAtEnd = await readAll(connector, importRequest(harness, 'delta', lastWatermark(batches)));
      expect(changesOf(resumedAtEnd)).toEqual([]);
    },
  },
  {
    name: 'an unchanged system gives an empty delta',
    appliesTo: always,
    async run({ harness, system: { connector, driver } }) {
      await driver.seed(samples(harness, 2));
      const full = await readAll(connector, importRequest(harness, 'full'));
      const delta = await readAll(connector, importRequest(harness, 'delta', lastWatermark(full)));
      expect(changesOf(delta)).toEqual([]);
      expect(errorsOf(delta)).toEqual([]);
    },
  },
  {
    name: 'delta import after an out-of-band add, modify and delete returns exactly those changes (or, for a snapshot, the new content)',
    appliesTo: always,
    async run({ harness, system: { connector, driver } }) {
      const [kept, modified, removed] = await driver.seed(samples(harness, 3));
      const full = await readAll(connector, importRequest(harness, 'full'));
      const watermark = lastWatermark(full);
      expect(watermark).toBeDefined();

      const addedObject = harness.samples.valid(3);
      const [added] = await driver.seed([addedObject]);
      await driver.modify(modified.anchor, harness.samples.update);
      await driver.remove(removed.anchor);

      const delta = await readAll(connector, importRequest(harness, 'delta', watermark));
      expect(errorsOf(delta)).toEqual([]);
      const changes = changesOf(delta);
      const upserted = new Map(upserts(changes).map((change) => [change.anchor, change]));
      const deleted = new Set(changes.filter((change) => change.kind === 'delete').map((change) => change.anchor));
      if (harness.capabilities.deltaImport === 'native') {
        expect({ upserted: sorted(upserted.keys()), deleted: sorted(deleted) }).toEqual({ upserted: sorted([added.anchor, modified.anchor]), deleted: [removed.anchor] });
      } else {
        expect(sorted(upserted.keys())).toEqual(sorted([kept.anchor, modified.anchor, added.anchor]));
        expect([...deleted].filter((anchor) => upserted.has(anchor))).toEqual([]);
      }
      expectAttributes(harness, harness.samples.update, upserted.get(modified.anchor)?.attributes, modified.anchor);
      expectAttributes(harness, addedObject.attributes, upserted.get(added.anchor)?.attributes, added.anchor);

      const next = lastWatermark(delta);
      expect(next).toBeDefined();
      expect(changesOf(await readAll(connector, importRequest(harness, 'delta', next)))).toEqual([]);
    },
  },
  {
    name: 'a malformed object in the source fails alone with an ImportObjectError',
    appliesTo: (harness) => harness.injectMalformed !== undefined,
    async run({ harness, system }) {
      const { connector, driver } = system;
      const before = await driver.seed(samples(harness, 2));
      await harness.injectMalformed?.(system);
      const after = await driver.seed(samples(harness, 1, 2));
      const batches = await readAll(connector, importRequest(harness, 'full'));
      const errors = errorsOf(batches);
      expect(errors).toHaveLength(1);
      expect(CONNECTOR_ERROR_CODES).toContain(errors[0].code);
      expect(errors[0]).toEqual(expect.objectContaining({ position: expect.any(String), message: expect.any(String) }));
      expect(errors[0].position.length).toBeGreaterThan(0);
      expect(errors[0].message.length).toBeGreaterThan(0);
      expect(sorted(upserts(changesOf(batches)).map((change) => change.anchor))).toEqual(sorted([...before, ...after].map((object) => object.anchor)));
    },
  },
  {
    name: 'refuses exports it cannot make (ConnectorError or failed results), changing nothing',
    appliesTo: (harness) => !harness.capabilities.export,
    async run({ harness, system }) {
      const change = addChange(harness, harness.samples.valid(0));
      try {
        const results = await system.connector.export([change]);
        expect(results.map((result) => result.outcome)).toEqual(['failed']);
      } catch (error) {
        expectConnectorError(error);
      }
      expect(await system.driver.list()).toEqual([]);
    },
  },
  {
    name: 'export add lands in the system',
    appliesTo: exporting,
    async run({ harness, system }) {
      const object = harness.samples.valid(0);
      const result = await exportOne(system.connector, addChange(harness, object));
      expectSuccess(result);
      const anchor = anchorOfAdd(harness, object, result);
      const held = await system.driver.read({ anchor });
      expectAttributes(harness, object.attributes, held?.attributes, anchor);
      if (object.dn !== undefined) expect(held?.dn).toBe(object.dn);
    },
  },
  {
    name: 'export update lands in the system',
    appliesTo: exporting,
    async run({ harness, system }) {
      const [seeded] = await system.driver.seed([harness.samples.valid(0)]);
      const change = exportChange('update', harness, { anchor: seeded.anchor, ...(seeded.dn ? { dn: seeded.dn } : {}), attributes: replaceAll(harness.samples.update) });
      expectSuccess(await exportOne(system.connector, change));
      expectAttributes(harness, harness.samples.update, (await system.driver.read({ anchor: seeded.anchor }))?.attributes, seeded.anchor);
    },
  },
  {
    name: 'export delete lands in the system',
    appliesTo: exporting,
    async run({ harness, system }) {
      const [gone, stays] = await system.driver.seed(samples(harness, 2));
      expectSuccess(await exportOne(system.connector, exportChange('delete', harness, { anchor: gone.anchor, ...(gone.dn ? { dn: gone.dn } : {}) })));
      expect(await system.driver.read({ anchor: gone.anchor })).toBeUndefined();
      expect(await system.driver.read({ anchor: stays.anchor })).toBeDefined();
    },
  },
  {
    name: 'export rename moves the object and keeps its anchor',
    appliesTo: (harness) => harness.capabilities.export && harness.capabilities.rename,
    async run({ harness, system }) {
      const [seeded] = await system.driver.seed([harness.samples.valid(0)]);
      expect(harness.samples.renamedDn).toBeDefined();
      const newDn = harness.samples.renamedDn?.(seeded) as string;
      expectSuccess(await exportOne(system.connector, exportChange('rename', harness, { anchor: seeded.anchor, ...(seeded.dn ? { dn: seeded.dn } : {}), newDn })));
      const held = await system.driver.read({ anchor: seeded.anchor });
      expect(held?.dn).toBe(newDn);
      expect(await copiesOf(system, { anchor: seeded.anchor })).toBe(1);
    },
  },
  {
    name: 're-exporting an applied change is a success, never a duplicate',
    appliesTo: exporting,
    async run({ harness, system, reconnect }) {
      // The retry comes from a new connector, as after a crash between applying the change and recording its result.
      const object = harness.samples.valid(0);
      const add = addChange(harness, object);
      const added = await exportOne(system.connector, add);
      expectSuccess(added);
      const anchor = anchorOfAdd(harness, object, added);
      const retried = await reconnect();
      expectSuccess(await exportOne(retried, add), ['already-applied', 'applied']);
      expect(await copiesOf(system, { anchor, dn: object.dn })).toBe(1);

      const [other] = await system.driver.seed([harness.samples.valid(1)]);
      const update = exportChange('update', harness, { anchor: other.anchor, ...(other.dn ? { dn: other.dn } : {}), attributes: replaceAll(harness.samples.update) });
      expectSuccess(await exportOne(system.connector, update));
      expectSuccess(await exportOne(retried, update), ['already-applied', 'applied']);
      expectAttributes(harness, harness.samples.update, (await system.driver.read({ anchor: other.anchor }))?.attributes, other.anchor);
      expect(await copiesOf(system, other)).toBe(1);

      let current: SeededObject = other;
      if (harness.capabilities.rename && harness.samples.renamedDn) {
        const newDn = harness.samples.renamedDn(other);
        const rename = exportChange('rename', harness, { anchor: other.anchor, ...(other.dn ? { dn: other.dn } : {}), newDn });
        expectSuccess(await exportOne(system.connector, rename));
        expectSuccess(await exportOne(retried, rename), ['already-applied', 'applied']);
        expect((await system.driver.read({ anchor: other.anchor }))?.dn).toBe(newDn);
        current = { anchor: other.anchor, dn: newDn };
      }

      const remove = exportChange('delete', harness, { anchor: current.anchor, ...(current.dn ? { dn: current.dn } : {}) });
      expectSuccess(await exportOne(system.connector, remove));
      expectSuccess(await exportOne(retried, remove), ['already-applied', 'applied']);
      expect(await system.driver.read({ anchor: current.anchor })).toBeUndefined();
    },
  },
  {
    name: 'one bad object in an export batch fails alone; the others are applied',
    appliesTo: exporting,
    async run({ harness, system }) {
      const [first, second] = samples(harness, 2);
      const changes = [addChange(harness, first), addChange(harness, harness.samples.rejected), addChange(harness, second)];
      const results = await system.connector.export(changes);
      expect(results.map((result) => result.id)).toEqual(changes.map((change) => change.id));
      expectSuccess(results[0]);
      expectSuccess(results[2]);
      expect(results[1].outcome).toBe('failed');
      expect(CONNECTOR_ERROR_CODES).toContain(results[1].error?.code);
      expect(results[1].error?.message.length).toBeGreaterThan(0);
      expect(typeof results[1].error?.retryable).toBe('boolean');
      for (const [object, result] of [
        [first, results[0]],
        [second, results[2]],
      ] as const) {
        const anchor = anchorOfAdd(harness, object, result);
        expectAttributes(harness, object.attributes, (await system.driver.read({ anchor }))?.attributes, anchor);
      }
      const { rejected } = harness.samples;
      if (rejected.anchor !== undefined || rejected.dn !== undefined) expect(await copiesOf(system, rejected)).toBe(0);
      expect(await system.driver.list()).toHaveLength(2);
    },
  },
];
