/**
 * The connector contract: what the engine (or a relay agent, or a third
 * party) needs from one connected system. Streaming and batch-shaped, free of
 * Nest and TypeORM, so the same connector code runs inside the engine and on
 * a relay agent.
 */

/** The value types an attribute can hold in connector space. */
export const ATTRIBUTE_TYPES = ['string', 'integer', 'boolean', 'datetime', 'binary', 'reference'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** One value of an attribute: strings for `string`, `datetime` (ISO-8601 UTC), `binary` (base64) and `reference`. */
export type AttributeValue = string | number | boolean;

/**
 * The values of one attribute: always an array, so single- and multi-valued
 * attributes are handled alike. An empty array means the attribute has no value.
 */
export type AttributeValues = AttributeValue[];

/** Attributes of one object by name. Names are compared case-sensitively as the schema spells them. */
export type Attributes = Record<string, AttributeValues>;

export interface AttributeSchema {
  name: string;
  type: AttributeType;
  /** @default false */
  multiValued?: boolean;
  /** The system refuses an object without it. @default false */
  required?: boolean;
  /**
   * For `reference` attributes: what a value names — another object's `dn`
   * (LDAP `member`, `manager`) or its `anchor` (a SQL foreign key, an HR
   * feed's manager employee id). The engine turns either into a link to the
   * other object's connector-space object, never a copied string.
   */
  referenceBy?: 'dn' | 'anchor';
  /** The system sets it; exports never write it (objectGUID, modifyTimestamp). @default false */
  readOnly?: boolean;
}

export interface ObjectTypeSchema {
  /** `person`, `group`, `inetOrgPerson`, a table name … as the connector's config names it. */
  name: string;
  /** The attribute holding the system's immutable id (entryUUID, objectGUID, a primary key, an employee id). */
  anchorAttribute: string;
  attributes: AttributeSchema[];
}

export interface ConnectorSchema {
  objectTypes: ObjectTypeSchema[];
}

export interface ConnectorCapabilities {
  /**
   * How a delta import finds changes:
   * - `native`: the system reports changes since a watermark, deletes included (LDAP modifyTimestamp/USN, a SQL updated-at column with soft deletes);
   * - `snapshot`: the connector returns the whole current content, or nothing when its watermark says nothing changed (a CSV file's content hash); the engine compares with the staged state and finds deletes itself;
   */
  deltaImport: 'native' | 'snapshot';
  /** It can apply exports at all (an HR feed usually can't). */
  export: boolean;
  /** It can rename (move) an object in place, keeping its anchor. */
  rename: boolean;
  /** The system assigns the anchor of an added object (LDAP entryUUID); otherwise the export carries it. */
  assignsAnchorOnAdd: boolean;
}

/** One object as the system holds it now. */
export interface ImportedObject {
  objectType: string;
  anchor: string;
  /** Distinguished name or display key, when the system has one. */
  dn?: string;
  attributes: Attributes;
}

export type ImportChange = ({ kind: 'upsert' } & ImportedObject) | { kind: 'delete'; objectType: string; anchor: string; dn?: string };

/** An object of the source that could not be read; the rest of the import goes on (R10). */
export interface ImportObjectError {
  objectType?: string;
  /** The anchor when it could be read, else undefined. */
  anchor?: string;
  /** Where in the source: `line 17`, a DN, a row key. */
  position: string;
  code: ConnectorErrorCode;
  message: string;
}

export interface ImportBatch {
  changes: ImportChange[];
  errors: ImportObjectError[];
  /**
   * The position a later delta import resumes from once this batch is
   * committed; opaque to the engine, stored in the same transaction as the
   * batch. Absent when this batch alone is not a safe resume point (the engine
   * keeps the previous watermark until a batch carries one).
   */
  watermark?: string;
}

export interface ImportRequest {
  mode: 'full' | 'delta';
  /** The object types to read; all of the schema's when empty. */
  objectTypes: string[];
  /** Where a delta import resumes; undefined for the first run. */
  watermark?: string;
  /** Changes per batch. @default 500 */
  batchSize?: number;
  /** Aborted on shutdown or when the run is cancelled; the stream then ends early. */
  signal?: AbortSignal;
}

/** A change of one attribute in an export. */
export type AttributeChange = { op: 'replace'; values: AttributeValues } | { op: 'add'; values: AttributeValues } | { op: 'remove'; values: AttributeValues };

export interface ExportChange {
  /** Stable across retries: the same pending export keeps its id, so a retried add is recognised. */
  id: string;
  kind: 'add' | 'update' | 'delete' | 'rename';
  objectType: string;
  /** Known for everything but an add to a system that assigns anchors. */
  anchor?: string;
  /** The object's DN (its new DN for an add). */
  dn?: string;
  /** For `rename`: where the object moves to. */
  newDn?: string;
  /** For `add`: every value as `replace`; for `update`: only what changes. Reference values use the target's own form (`dn` or `anchor`). */
  attributes?: Record<string, AttributeChange>;
}

export type ExportOutcome =
  /** The system now holds the change. */
  | 'applied'
  /** The system already held the desired state (a retried add, a delete of an absent object): success, not a duplicate. */
  | 'already-applied'
  | 'failed';

export interface ExportResult {
  id: string;
  outcome: ExportOutcome;
  /** For an applied add to a system that assigns anchors: the new anchor. */
  anchor?: string;
  /** For a failed change. */
  error?: { code: ConnectorErrorCode; message: string; retryable: boolean };
}

export interface ConnectionTestResult {
  ok: boolean;
  /** What was checked and what was found: `bound as cn=sync,…; base dc=corp has 12,408 entries`. */
  detail: string;
}

/**
 * One connected system. Created per run by its ConnectorFactory; `close()` is
 * always called afterwards, also after an error.
 */
export interface Connector {
  readonly type: string;
  capabilities(): ConnectorCapabilities;
  schema(): Promise<ConnectorSchema>;
  testConnection(): Promise<ConnectionTestResult>;
  /**
   * Reads the system as an async stream of batches: a full import yields
   * every object (upserts only; the engine turns objects no longer seen into
   * deletes), a delta import what changed since `request.watermark`. The
   * stream pulls: a batch is read from the system only when the engine asks
   * for it, so a directory is never held in memory whole.
   */
  import(request: ImportRequest): AsyncIterable<ImportBatch>;
  /** Applies a batch of changes, one result per change, in the order given. One bad object fails alone. */
  export(changes: ExportChange[]): Promise<ExportResult[]>;
  close(): Promise<void>;
}

/** Stable codes for per-object and connector failures, shown to operators and counted in runs. */
export const CONNECTOR_ERROR_CODES = [
  'CONNECTOR_CONFIG_INVALID',
  'CONNECTOR_UNREACHABLE',
  'CONNECTOR_AUTH_FAILED',
  'OBJECT_MALFORMED',
  'OBJECT_DUPLICATE_ANCHOR',
  'OBJECT_NOT_FOUND',
  'OBJECT_ALREADY_EXISTS',
  'OBJECT_REJECTED',
  'OBJECT_CONSTRAINT_VIOLATION',
  'SYSTEM_BUSY',
  'SYSTEM_ERROR',
] as const;
export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[number];

/** A connector-level failure (the whole operation, not one object). */
export class ConnectorError extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    /** Worth trying again later (a network blip, a busy server). */
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/** Resolves the secret references a connector config holds; the plain value never leaves the connector. */
export interface SecretResolver {
  resolve(reference: string): Promise<string>;
}

/** Structured log lines from a connector; the host adds run and connector ids. */
export interface ConnectorLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ConnectorContext {
  secrets: SecretResolver;
  logger: ConnectorLogger;
  /** The connector's id in IdentityMesh, for log lines and file names. */
  connectorId: string;
}

/**
 * A connector type: validates its config (a plain JSON object from SQL) and
 * creates connectors from it. `validate` throws ConnectorError
 * CONNECTOR_CONFIG_INVALID naming the field, and is called when a connector is
 * saved, so bad config never reaches a run.
 */
export interface ConnectorFactory<TConfig = unknown> {
  readonly type: string;
  validate(config: unknown): TConfig;
  create(config: TConfig, context: ConnectorContext): Connector;
}
