/**
 * The product's vocabulary as closed sets of values. Persistence stores these
 * as strings; keeping the sets here lets the engine, the API and the database
 * agree without any of them importing the others.
 */

export const CONNECTOR_TYPES = ['csv', 'ldap', 'sql', 'scim'] as const;
export type ConnectorType = (typeof CONNECTOR_TYPES)[number];

export const RUN_PROFILES = [
  'full-import',
  'delta-import',
  'full-sync',
  'delta-sync',
  'export',
  'confirming-import',
] as const;
export type RunProfile = (typeof RUN_PROFILES)[number];

export const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'completed-with-errors',
  'failed',
  'stopped-error-threshold',
  'held-for-approval',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_TRIGGERS = ['manual', 'schedule', 'relay', 'system'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** What a staged connector-space object still has to tell the mesh. */
export const PENDING_IMPORTS = ['none', 'add', 'update', 'delete'] as const;
export type PendingImport = (typeof PENDING_IMPORTS)[number];

/** What the engine still has to write to the connected system for a CSO. */
export const EXPORT_OPERATIONS = ['add', 'update', 'delete', 'rename'] as const;
export type ExportOperation = (typeof EXPORT_OPERATIONS)[number];

export const EXPORT_STATUSES = [
  'pending',
  'in-flight',
  'held-for-approval',
  'succeeded',
  'parked',
  'superseded',
] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const SYNC_RULE_KINDS = [
  'scoping',
  'join',
  'projection',
  'import-flow',
  'export-flow',
  'composer',
  'provisioning',
  'deprovisioning',
] as const;
export type SyncRuleKind = (typeof SYNC_RULE_KINDS)[number];

/** How a mesh attribute reacts when its winning source value becomes null. */
export const NULL_HANDLING = ['clear', 'keep', 'default'] as const;
export type NullHandling = (typeof NULL_HANDLING)[number];

export const DEPROVISIONING_ACTIONS = ['disconnect', 'disable', 'delete'] as const;
export type DeprovisioningAction = (typeof DEPROVISIONING_ACTIONS)[number];

export const RELAY_WORK_KINDS = ['import', 'export', 'test-connection', 'command'] as const;
export type RelayWorkKind = (typeof RELAY_WORK_KINDS)[number];

export const RELAY_WORK_STATUSES = ['queued', 'delivered', 'running', 'done', 'failed', 'expired'] as const;
export type RelayWorkStatus = (typeof RELAY_WORK_STATUSES)[number];

export const ENGINE_INSTANCE_STATUSES = ['active', 'passive', 'stopped'] as const;
export type EngineInstanceStatus = (typeof ENGINE_INSTANCE_STATUSES)[number];

export const AUDIT_ACTOR_TYPES = ['operator', 'api-key', 'engine', 'relay', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

export const SECRET_PROVIDERS = ['host', 'shared-key', 'azure-key-vault'] as const;
export type SecretProviderName = (typeof SECRET_PROVIDERS)[number];

export const KEY_RING_PURPOSES = ['session', 'csrf', 'relay-token'] as const;
export type KeyRingPurpose = (typeof KEY_RING_PURPOSES)[number];

export const DATABASE_DIALECTS = ['sqlite', 'postgres', 'mariadb', 'mysql', 'mssql'] as const;
export type DatabaseDialect = (typeof DATABASE_DIALECTS)[number];

export const CLUSTER_MODES = ['single', 'cluster'] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];

/** Type guard for the closed sets above. */
export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}
