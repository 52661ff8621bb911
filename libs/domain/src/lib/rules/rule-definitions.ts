import type { AttributeScalar } from '../model/attributes';
import type { DeprovisioningAction, NullHandling, SyncRuleKind } from '../model/vocabulary';

/*
 * The `definition` column of IM_SyncRules, one shape per rule kind. Every
 * string called `condition`, `source` or `candidates[]` is an expression (see
 * docs/rules.md); `dnTemplate` and `anchorTemplate` are text with
 * `{{ expression }}` placeholders. Which object an expression reads follows
 * from the kind: connector-space objects for scoping, join, projection, import
 * flows and deprovisioning; mesh objects for composer, provisioning and export
 * flows.
 */

/** Which objects of a connector take part at all; the others become disconnectors. */
export interface ScopingDefinition {
  /** True keeps the object in scope. Several scoping rules of one connector and object type must all pass. */
  condition: string;
}

export interface JoinMapping {
  /** Expression over the connector-space object; a list matches on any of its values. */
  source: string;
  /** The mesh attribute compared with, by its normalized value (trimmed, case-insensitive). */
  meshAttribute: string;
}

/**
 * One join rule: all mappings must match the same mesh object. Rules are
 * tried in ordinal order; the first with exactly one candidate joins, the
 * first with several is a join ambiguity for that object.
 */
export interface JoinDefinition {
  meshObjectType: string;
  mappings: JoinMapping[];
}

/** When no join matched: create a mesh object of this type (if the condition holds). */
export interface ProjectionDefinition {
  meshObjectType: string;
  /** Absent: always project. */
  condition?: string;
}

/**
 * A reference flowing from connector space: the values name other objects of
 * the same connector — or, with `connectorId`, of another connector (a groups
 * feed whose members are employee ids of the HR people feed).
 */
export interface ImportReferenceSource {
  attribute: string;
  /** What a value names: another object's DN or its anchor. */
  by: 'dn' | 'anchor';
  /** The connector whose objects the values name. @default the rule's own connector */
  connectorId?: string;
  /** Only objects of this type of that connector are named. @default any type */
  objectType?: string;
}

/** Connector-space object → mesh object, for one mesh attribute. Exactly one of source and reference. */
export interface ImportFlowDefinition {
  /** The mesh attribute. */
  target: string;
  /** Expression over the connector-space object. */
  source?: string;
  /** A reference flow: the mesh attribute links to the mesh objects the referenced objects are joined to. */
  reference?: ImportReferenceSource;
  /** @default false, or the referenced attribute's own setting for reference flows */
  multiValued?: boolean;
  /** What the source having no value does to the mesh attribute. @default 'clear' */
  nullHandling?: NullHandling;
  /** Required with nullHandling 'default'. */
  defaultValue?: AttributeScalar | AttributeScalar[];
}

/** A reference flowing out of the mesh: the ids of referenced mesh objects become the target's own DN or anchor values. */
export interface ExportReferenceSource {
  /** The mesh reference attribute. */
  attribute: string;
  /** How the target system names the referenced object; decides how values are compared. @default 'dn' */
  by?: 'dn' | 'anchor';
}

/** Mesh object → connector-space object of a target connector, for one attribute. Exactly one of source and reference. */
export interface ExportFlowDefinition {
  /** The target connector's attribute. */
  target: string;
  /** Expression over the mesh object. */
  source?: string;
  reference?: ExportReferenceSource;
  /** @default the target attribute's own setting */
  multiValued?: boolean;
  /** What the mesh having no value does to the target attribute. @default 'clear' */
  nullHandling?: NullHandling;
  /** Required with nullHandling 'default'. */
  defaultValue?: AttributeScalar | AttributeScalar[];
  /** Flow only when the object is created in the target (an initial password, a home directory). @default false */
  initialOnly?: boolean;
}

/** How unique values are allocated: the first free of base candidates, then the first with a counter. */
export interface UniquenessDefinition {
  /** The uniqueness domain shared by every rule that must not hand out the same value, e.g. `accountName`. */
  scope: string;
  suffix?: {
    /** @default 2 */
    start?: number;
    /** Between the base and the counter (`jdoe2` with '', `jdoe.2` with '.'). @default '' */
    separator?: string;
  };
  /** Candidates tried in all, base candidates included. @default 100 */
  maxAttempts?: number;
  /** Longest value; the base is shortened so the counter still fits (sAMAccountName: 20). */
  maxLength?: number;
  /** A mesh object that already holds a value keeps it (account names must not change under a user). @default true */
  keepExisting?: boolean;
}

/** Derives a mesh value from others: the first candidate with a value, unique within a scope if asked. */
export interface ComposerDefinition {
  target: string;
  /** Expressions over the mesh object, tried in order. */
  candidates: string[];
  unique?: UniquenessDefinition;
}

/** When a mesh object should have an object in a target connector. */
export interface ProvisioningDefinition {
  targetConnectorId: string;
  targetObjectType: string;
  /** Expression over the mesh object; absent: every mesh object of the rule's type. */
  condition?: string;
  /** DN of the new object; placeholder values are escaped per RFC 4514. */
  dnTemplate?: string;
  /** Anchor of the new object, for systems where the export carries it (a SQL key, a CSV id). */
  anchorTemplate?: string;
  /** Move an existing object when its rendered DN changes (a department move). @default false */
  renameOnChange?: boolean;
}

/** What happens to a target object when its mesh object leaves scope or goes away. */
export interface DeprovisioningDefinition {
  action: DeprovisioningAction;
  /** For 'disable': target attribute → expression over the target object, e.g. `bitOr(int(userAccountControl), 2)`. */
  attributes?: Record<string, string>;
}

export interface RuleDefinitions {
  scoping: ScopingDefinition;
  join: JoinDefinition;
  projection: ProjectionDefinition;
  'import-flow': ImportFlowDefinition;
  'export-flow': ExportFlowDefinition;
  composer: ComposerDefinition;
  provisioning: ProvisioningDefinition;
  deprovisioning: DeprovisioningDefinition;
}

export type RuleDefinitionOf<K extends SyncRuleKind> = RuleDefinitions[K];

/** An IM_SyncRules row as the rules need it. */
export interface SyncRuleRecord<K extends SyncRuleKind = SyncRuleKind> {
  id: string;
  kind: K;
  /**
   * The connector whose objects the rule reads (scoping, join, projection,
   * import flows) or writes (export flows, deprovisioning); the target
   * connector for provisioning; null for composer rules.
   */
  connectorId: string | null;
  /** The connector-space object type, or the mesh object type for composer and provisioning rules. */
  objectType: string;
  name?: string;
  ordinal: number;
  /** @default true */
  enabled?: boolean;
  definition: unknown;
}
