import type { Attributes, Connector, ConnectorCapabilities, ConnectorFactory, ImportedObject } from '@identitymesh/connector-sdk';

/** An object as the kit hands it to the system, through the driver or through an export. */
export interface ConformanceObject {
  /** The anchor, where the object carries it (an employee id, a primary key); omitted where the system assigns it (LDAP entryUUID). */
  anchor?: string;
  /** Its distinguished name or display key, where the system has one. */
  dn?: string;
  attributes: Attributes;
}

/** Where an object is in the system now. */
export interface SeededObject {
  anchor: string;
  dn?: string;
}

/**
 * Changes the real system behind the connector's back and reads it back, so
 * the kit checks imports against what is really there and exports against
 * what really arrived, never against the connector's own word.
 */
export interface SystemDriver {
  /** Creates the objects in the system directly; returns where each one is, in the order given. */
  seed(objects: ConformanceObject[]): Promise<SeededObject[]>;
  /** Replaces the given attributes of an object in place (an HR clerk's edit, an admin's ldapmodify). */
  modify(anchor: string, attributes: Attributes): Promise<void>;
  /** Deletes the object. */
  remove(anchor: string): Promise<void>;
  /** Moves the object to a new dn, keeping its anchor. Required when the connector's capabilities include rename. */
  rename?(anchor: string, newDn: string): Promise<void>;
  /** The object as the system holds it now, found by anchor (or by dn when no anchor is given); `undefined` when it is not there. */
  read(ref: { anchor?: string; dn?: string }): Promise<ImportedObject | undefined>;
  /** Every object of the harness's object type in the system now; the kit counts duplicates with it. */
  list(): Promise<ImportedObject[]>;
}

/** One fresh, empty real system and a connector configured for it. */
export interface ConformanceSystem {
  /** A new connector for the system; the kit closes it after the test. */
  connector: Connector;
  driver: SystemDriver;
  /** Another connector for the same system, as the next run (or a retry after a crash) creates one; the kit closes it too. */
  reconnect(): Connector | Promise<Connector>;
}

/** Objects the kit seeds and exports; all of the harness's object type. */
export interface ConformanceSamples {
  /**
   * The n-th valid object (n counts from 0). Each n gives an object distinct
   * from every other in every value the system keeps unique (anchor, dn,
   * mail …). The kit asks for more than two batches' worth.
   */
  valid(n: number): ConformanceObject;
  /** An object the system refuses on add: a required attribute missing, a value it cannot hold. */
  rejected: ConformanceObject;
  /** Attribute values an update writes over any valid object, each different from what `valid(n)` has. */
  update: Attributes;
  /** A new dn for a seeded object. Required when the connector's capabilities include rename. */
  renamedDn?(object: SeededObject): string;
}

/** What a connector's own test supplies to run the conformance kit against its real system. */
export interface ConformanceHarness {
  /** The object type the samples are; the kit imports and exports only it. */
  objectType: string;
  /** The capabilities the connector must report; cases follow them (export, rename, native or snapshot delta). */
  capabilities: ConnectorCapabilities;
  /** A fresh, empty real system (a new temp dir, database, base DN) and a connector configured for it. Called before every case. */
  setUp(): Promise<ConformanceSystem>;
  /** Removes what `setUp` made. Called after every case, after the kit has closed its connectors. */
  tearDown(): Promise<void>;
  /**
   * A connector configured wrongly for a system that is there (a missing
   * file, a closed port, a wrong password). It may throw a ConnectorError
   * itself instead; either way the kit wants a clear code, never a hang.
   */
  brokenConnector(): Connector | Promise<Connector>;
  /** The connector type, so the kit can check that `validate` refuses `invalidConfigs`. */
  factory?: ConnectorFactory;
  /** Configs `factory.validate` must refuse with CONNECTOR_CONFIG_INVALID. */
  invalidConfigs?: unknown[];
  samples: ConformanceSamples;
  /**
   * Puts an object into the system that the connector cannot read (a row
   * with a broken quote, an entry with an undecodable value), after the
   * objects seeded so far. Omit it when the system cannot hold such data:
   * the kit then declares no case for it (rather than one that passes
   * without checking anything).
   */
  injectMalformed?(system: ConformanceSystem): Promise<void>;
  /** The batch size the kit imports with; it seeds more than two batches. @default 5 */
  batchSize?: number;
  /** Each case's time limit, in milliseconds. @default 30000 */
  timeoutMs?: number;
  /**
   * Whether what the system holds (`actual`) has the sample's values
   * (`expected`). @default every expected attribute is present with the same
   * values, in any order, compared as strings; attributes the system adds are
   * ignored
   */
  attributesMatch?(expected: Attributes, actual: Attributes): boolean;
}
