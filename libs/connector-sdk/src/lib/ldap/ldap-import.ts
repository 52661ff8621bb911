/**
 * Full and delta imports as a pulled stream of batches. A page is read from
 * the directory only when the engine asks for the next batch, so memory
 * holds a page and a batch, plus the anchors of the objects already read
 * (to skip them when a dropped connection makes a search start over).
 */
import type { Entry, SearchOptions } from 'ldapts';
import { ConnectorError, ImportBatch, ImportChange, ImportObjectError, ImportRequest, ObjectTypeSchema, ConnectorLogger } from '../connector';
import type { LdapConnectorConfig, LdapObjectTypeConfig } from './ldap-config';
import {
  ACCESSLOG_ATTRIBUTES,
  AccesslogCursor,
  accesslogFilter,
  AccesslogRecord,
  anchorsFilter,
  completeRangedAttributes,
  decodeWatermark,
  deletedObjectsRequest,
  encodeWatermark,
  LdapWatermark,
  modifyTimestampFilter,
  nextModifyTimestamp,
  parseAccesslogEntry,
  parseTombstone,
  reqStartFloor,
  tombstoneAnchor,
  tombstoneTypes,
  typesConcerned,
  usnChangedFilter,
} from './ldap-delta';
import { anchorCodec, convertEntry } from './ldap-entry';
import { connectorFailure, LDAP_RESULT, ldapResultCode } from './ldap-errors';
import { importedAttributeNames } from './ldap-schema';
import { entryBytes, entryText, LdapSession } from './ldap-session';

type SearchFilter = NonNullable<SearchOptions['filter']>;

/** Collects changes and errors until a batch is full. */
class Batcher {
  private changes: ImportChange[] = [];
  private errors: ImportObjectError[] = [];

  constructor(private readonly size: number) {}

  get full(): boolean {
    return this.changes.length + this.errors.length >= this.size;
  }

  get empty(): boolean {
    return this.changes.length + this.errors.length === 0;
  }

  change(change: ImportChange): void {
    this.changes.push(change);
  }

  error(error: ImportObjectError): void {
    this.errors.push(error);
  }

  take(watermark?: string): ImportBatch {
    const batch: ImportBatch = { changes: this.changes, errors: this.errors };
    if (watermark !== undefined) batch.watermark = watermark;
    this.changes = [];
    this.errors = [];
    return batch;
  }
}

/** How many anchors go into one `(|(entryUUID=…)…)` filter. */
const ANCHORS_PER_SEARCH = 100;

export class LdapImporter {
  constructor(
    private readonly session: LdapSession,
    private readonly config: LdapConnectorConfig,
    private readonly schemas: () => Promise<Map<string, ObjectTypeSchema>>,
    private readonly logger: ConnectorLogger,
  ) {}

  async *run(request: ImportRequest): AsyncGenerator<ImportBatch> {
    const types = this.selectTypes(request.objectTypes);
    const batchSize = request.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'batchSize must be a positive whole number');
    const schemas = await this.schemas();
    if (request.mode === 'full' || request.watermark === undefined) {
      yield* this.full(types, schemas, batchSize, request.signal);
      return;
    }
    const watermark = decodeWatermark(request.watermark, this.config.delta.mode);
    switch (watermark.mode) {
      case 'accesslog':
        yield* this.accesslogDelta(types, schemas, batchSize, new AccesslogCursor(watermark.from, watermark.seen, this.config.delta.overlapSeconds), request.signal);
        return;
      case 'modifyTimestamp':
        yield* this.modifyTimestampDelta(types, schemas, batchSize, watermark.since, request.signal);
        return;
      case 'usn':
        yield* this.usnDelta(types, schemas, batchSize, watermark.usn, watermark.dc, request.signal);
        return;
    }
  }

  private selectTypes(names: string[]): LdapObjectTypeConfig[] {
    if (names.length === 0) return this.config.objectTypes;
    return names.map((name) => {
      const type = this.config.objectTypes.find((t) => t.name === name);
      if (!type) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `object type ${name} is not configured (configured: ${this.config.objectTypes.map((t) => t.name).join(', ')})`);
      return type;
    });
  }

  private searchOptions(type: LdapObjectTypeConfig, filter: SearchFilter): SearchOptions & { filter: SearchFilter } {
    return {
      scope: type.scope,
      filter,
      attributes: importedAttributeNames(type),
      paged: { pageSize: type.pageSize },
      timeLimit: type.timeLimitSeconds,
      sizeLimit: 0,
    };
  }

  /** Pages of the entries of one type under one base, with a missing base reported as such (never as "no objects"). */
  private async *pages(type: LdapObjectTypeConfig, base: string, options: SearchOptions & { filter: SearchFilter }) {
    try {
      yield* this.session.pagedSearch(base, options);
    } catch (error) {
      if (ldapResultCode(error) === LDAP_RESULT.noSuchObject) {
        throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `base DN ${base} of object type ${type.name} does not exist (or the bind DN cannot see it)`);
      }
      throw connectorFailure(error, `search of ${base} for object type ${type.name}`);
    }
  }

  /** Folds AD's ranged values (member;range=0-1499) into the entry before it is converted. */
  private async complete(entry: Entry): Promise<void> {
    if (!Object.keys(entry).some((k) => k.includes(';range='))) return;
    await completeRangedAttributes(entry, (dn, attribute) => this.session.read(dn, [attribute]));
  }

  /** The position a delta resumes from after this full import: taken before the first entry is read. */
  private async startPosition(): Promise<LdapWatermark> {
    const { mode, overlapSeconds, clockSkewSeconds } = this.config.delta;
    try {
      switch (mode) {
        case 'accesslog': {
          const { time, source } = await this.session.serverTime();
          const from = reqStartFloor(new Date(time.getTime() - (overlapSeconds + (source === 'local' ? clockSkewSeconds : 0)) * 1000));
          // Records already in the log from `from` on are covered by this full read; name them so the next delta skips them.
          const seen = new Set<string>();
          for await (const page of this.session.pagedSearch(this.config.delta.accesslogBase, { scope: 'one', filter: accesslogFilter(from), attributes: ['reqStart'], paged: { pageSize: this.config.pageSize } })) {
            for (const entry of page.entries) {
              const reqStart = entryText(entry, 'reqStart')[0];
              if (reqStart) seen.add(reqStart);
            }
          }
          return { mode, from, seen };
        }
        case 'modifyTimestamp': {
          const { time, source } = await this.session.serverTime();
          return { mode, since: nextModifyTimestamp(time, overlapSeconds + (source === 'local' ? clockSkewSeconds : 0)) };
        }
        case 'usn': {
          const root = await this.session.rootDse();
          if (!root.highestCommittedUSN) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'delta.mode usn needs Active Directory: the root DSE has no highestCommittedUSN');
          return { mode, usn: root.highestCommittedUSN, dc: root.dsServiceName };
        }
      }
    } catch (error) {
      if (mode === 'accesslog' && ldapResultCode(error) === LDAP_RESULT.noSuchObject) {
        throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `delta.mode accesslog: ${this.config.delta.accesslogBase} does not exist or the bind DN cannot read it (slapo-accesslog with logops writes is needed)`);
      }
      throw connectorFailure(error, `reading the delta start position (${mode})`);
    }
  }

  private async *full(types: LdapObjectTypeConfig[], schemas: Map<string, ObjectTypeSchema>, batchSize: number, signal?: AbortSignal): AsyncGenerator<ImportBatch> {
    const start = await this.startPosition();
    const batcher = new Batcher(batchSize);
    for (const type of types) {
      const schema = schemas.get(type.name) as ObjectTypeSchema;
      const seen = new Set<string>();
      let replay: Set<string> | undefined;
      for (const base of type.baseDns) {
        for await (const page of this.pages(type, base, this.searchOptions(type, type.filter))) {
          if (signal?.aborted) return;
          if (page.restarted) replay = new Set(seen);
          for (const entry of page.entries) {
            await this.complete(entry);
            const converted = convertEntry(entry, type, schema, this.config.maxValueBytes);
            const anchor = converted.ok ? converted.object.anchor : converted.error.anchor;
            if (anchor !== undefined && replay?.delete(anchor)) continue;
            if (anchor !== undefined && seen.has(anchor)) {
              batcher.error({ objectType: type.name, anchor, position: entry.dn, code: 'OBJECT_DUPLICATE_ANCHOR', message: `another entry of ${type.name} has the same ${type.anchorAttribute}` });
            } else if (converted.ok) {
              seen.add(converted.object.anchor);
              batcher.change({ kind: 'upsert', ...converted.object });
            } else {
              if (anchor !== undefined) seen.add(anchor);
              batcher.error(converted.error);
            }
            if (batcher.full) yield batcher.take();
          }
        }
      }
    }
    if (signal?.aborted) return;
    yield batcher.take(encodeWatermark(start));
  }

  /** Reads the current state of changed entries (by anchor) and turns it into upserts and deletes. */
  private async resolve(
    byAnchor: Map<string, { dn: string; types: LdapObjectTypeConfig[] }>,
    schemas: Map<string, ObjectTypeSchema>,
    batcher: Batcher,
  ): Promise<void> {
    for (const type of this.config.objectTypes) {
      const anchors = [...byAnchor].filter(([, v]) => v.types.includes(type)).map(([anchor]) => anchor);
      if (anchors.length === 0) continue;
      const found = new Map<string, Entry>();
      const codec = anchorCodec(type);
      for (let i = 0; i < anchors.length; i += ANCHORS_PER_SEARCH) {
        const filter = anchorsFilter(type, anchors.slice(i, i + ANCHORS_PER_SEARCH), codec.encode);
        for (const base of type.baseDns) {
          for await (const page of this.pages(type, base, this.searchOptions(type, filter))) {
            for (const entry of page.entries) {
              const raw = entryBytes(entry, type.anchorAttribute)[0];
              const anchor = raw ? codec.decode(raw) : undefined;
              if (anchor !== undefined) found.set(anchor, entry);
            }
          }
        }
      }
      const schema = schemas.get(type.name) as ObjectTypeSchema;
      for (const anchor of anchors) {
        const entry = found.get(anchor);
        if (!entry) {
          batcher.change({ kind: 'delete', objectType: type.name, anchor, dn: byAnchor.get(anchor)?.dn });
          continue;
        }
        await this.complete(entry);
        const converted = convertEntry(entry, type, schema, this.config.maxValueBytes);
        if (converted.ok) batcher.change({ kind: 'upsert', ...converted.object });
        else batcher.error(converted.error);
      }
    }
  }

  private async *accesslogDelta(
    types: LdapObjectTypeConfig[],
    schemas: Map<string, ObjectTypeSchema>,
    batchSize: number,
    cursor: AccesslogCursor,
    signal?: AbortSignal,
  ): AsyncGenerator<ImportBatch> {
    const { overlapSeconds, clockSkewSeconds, accesslogBase } = this.config.delta;
    const { time, source } = await this.session.serverTime().catch((error: unknown) => {
      throw connectorFailure(error, 'reading the server time');
    });
    const finalFloor = reqStartFloor(new Date(time.getTime() - (overlapSeconds + (source === 'local' ? clockSkewSeconds : 0)) * 1000));
    const batcher = new Batcher(batchSize);
    let pending = new Map<string, { dn: string; types: LdapObjectTypeConfig[] }>();
    let pendingRecords: AccesslogRecord[] = [];
    let skipped = 0;

    const flush = async (floor?: string): Promise<ImportBatch[]> => {
      await this.resolve(pending, schemas, batcher).catch((error: unknown) => {
        throw connectorFailure(error, 'reading changed entries');
      });
      for (const record of pendingRecords) cursor.processed(record.reqStart);
      pending = new Map();
      pendingRecords = [];
      skipped = 0;
      const batch = batcher.take(encodeWatermark(cursor.checkpoint(floor)));
      // A batch may exceed batchSize when one anchor concerns several object types; split it, the watermark on the last piece.
      const pieces: ImportBatch[] = [];
      const all = [...batch.changes.map((c) => ({ c })), ...batch.errors.map((e) => ({ e }))];
      for (let i = 0; i < all.length || i === 0; i += batchSize) {
        const slice = all.slice(i, i + batchSize);
        pieces.push({ changes: slice.flatMap((x) => ('c' in x ? [x.c] : [])), errors: slice.flatMap((x) => ('e' in x ? [x.e] : [])) });
      }
      pieces[pieces.length - 1].watermark = batch.watermark;
      return pieces;
    };

    const search = this.session.pagedSearch(accesslogBase, {
      scope: 'one',
      filter: accesslogFilter(cursor.searchFrom),
      attributes: ACCESSLOG_ATTRIBUTES,
      paged: { pageSize: this.config.pageSize },
    });
    try {
      for await (const page of search) {
        if (signal?.aborted) return;
        for (const entry of page.entries) {
          const record = parseAccesslogEntry(entry);
          const reqStart = record?.reqStart ?? entryText(entry, 'reqStart')[0];
          if (!reqStart || !cursor.isNew(reqStart)) continue;
          if (!record) {
            cursor.processed(reqStart);
            continue;
          }
          pendingRecords.push(record);
          const concerned = typesConcerned(record, types);
          if (concerned.length === 0) {
            skipped++;
          } else if (!record.entryUUID) {
            batcher.error({
              position: `${accesslogBase} reqStart=${record.reqStart} (${record.type} ${record.dn})`,
              code: 'OBJECT_MALFORMED',
              message: 'the accesslog record has no reqEntryUUID (OpenLDAP 2.5 or later records it); run a full import to pick this change up',
            });
          } else {
            const known = pending.get(record.entryUUID);
            const dn = record.newDn ?? record.dn;
            const merged = known ? [...new Set([...known.types, ...concerned])] : concerned;
            pending.delete(record.entryUUID); // re-insert: the latest change of an entry decides its place in the batch
            pending.set(record.entryUUID, { dn, types: merged });
          }
          if (pending.size >= batchSize || skipped >= batchSize * 10) {
            for (const batch of await flush()) yield batch;
          }
        }
      }
    } catch (error) {
      if (ldapResultCode(error) === LDAP_RESULT.noSuchObject) {
        throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `delta.mode accesslog: ${accesslogBase} does not exist or the bind DN cannot read it`);
      }
      throw connectorFailure(error, `reading ${accesslogBase}`);
    }
    if (signal?.aborted) return;
    for (const batch of await flush(finalFloor)) yield batch;
  }

  private async *modifyTimestampDelta(
    types: LdapObjectTypeConfig[],
    schemas: Map<string, ObjectTypeSchema>,
    batchSize: number,
    since: string,
    signal?: AbortSignal,
  ): AsyncGenerator<ImportBatch> {
    const { time, source } = await this.session.serverTime().catch((error: unknown) => {
      throw connectorFailure(error, 'reading the server time');
    });
    const next = nextModifyTimestamp(time, this.config.delta.overlapSeconds + (source === 'local' ? this.config.delta.clockSkewSeconds : 0));
    yield* this.changedEntries(types, schemas, batchSize, (type) => modifyTimestampFilter(type, since), encodeWatermark({ mode: 'modifyTimestamp', since: next }), signal);
  }

  private async *usnDelta(
    types: LdapObjectTypeConfig[],
    schemas: Map<string, ObjectTypeSchema>,
    batchSize: number,
    usn: string,
    dc: string | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<ImportBatch> {
    const root = await this.session.rootDse().catch((error: unknown) => {
      throw connectorFailure(error, 'reading the root DSE');
    });
    if (!root.highestCommittedUSN) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'delta.mode usn needs Active Directory: the root DSE has no highestCommittedUSN');
    if (dc && root.dsServiceName && dc.toLowerCase() !== root.dsServiceName.toLowerCase()) {
      throw new ConnectorError(
        'SYSTEM_ERROR',
        `the watermark holds a USN of domain controller ${dc} but ${root.dsServiceName} answered; USNs are per domain controller: run a full import (or list that one DC first in urls)`,
      );
    }
    const next = encodeWatermark({ mode: 'usn', usn: root.highestCommittedUSN, dc: root.dsServiceName });
    const batcher = new Batcher(batchSize);
    for await (const batch of this.changedEntries(types, schemas, batchSize, (type) => usnChangedFilter(type, usn), undefined, signal, batcher)) yield batch;
    if (signal?.aborted) return;

    const request = deletedObjectsRequest(this.config, types, usn, root.defaultNamingContext);
    try {
      for await (const page of this.session.pagedSearch(request.base, { scope: request.scope, filter: request.filter, attributes: request.attributes, paged: { pageSize: this.config.pageSize } }, request.controls)) {
        if (signal?.aborted) return;
        for (const entry of page.entries) {
          const tombstone = parseTombstone(entry);
          for (const type of tombstoneTypes(tombstone, types)) {
            const anchor = tombstoneAnchor(entry, type);
            if (anchor) batcher.change({ kind: 'delete', objectType: type.name, anchor, dn: tombstone.dn });
          }
          if (batcher.full) yield batcher.take();
        }
      }
    } catch (error) {
      throw connectorFailure(error, `reading deleted objects in ${request.base}`);
    }
    yield batcher.take(next);
  }

  /** Upserts for the entries a per-type filter selects; the watermark (if any) on the last batch. */
  private async *changedEntries(
    types: LdapObjectTypeConfig[],
    schemas: Map<string, ObjectTypeSchema>,
    batchSize: number,
    filterOf: (type: LdapObjectTypeConfig) => SearchFilter,
    watermark: string | undefined,
    signal?: AbortSignal,
    batcher = new Batcher(batchSize),
  ): AsyncGenerator<ImportBatch> {
    for (const type of types) {
      const schema = schemas.get(type.name) as ObjectTypeSchema;
      for (const base of type.baseDns) {
        for await (const page of this.pages(type, base, this.searchOptions(type, filterOf(type)))) {
          if (signal?.aborted) return;
          for (const entry of page.entries) {
            await this.complete(entry);
            const converted = convertEntry(entry, type, schema, this.config.maxValueBytes);
            if (converted.ok) batcher.change({ kind: 'upsert', ...converted.object });
            else batcher.error(converted.error);
            if (batcher.full) yield batcher.take();
          }
        }
      }
    }
    if (watermark !== undefined && !signal?.aborted) yield batcher.take(watermark);
  }
}
