import {
  authoritativeConnectors,
  compileSyncRule,
  DomainError,
  meshAttributeDeclarations,
  precedenceTable,
} from '@identitymesh/domain';
import type {
  AttributeDeclaration,
  CompiledComposerRule,
  CompiledDeprovisioningRule,
  CompiledExportFlowRule,
  CompiledImportFlowRule,
  CompiledJoinRule,
  CompiledProjectionRule,
  CompiledProvisioningRule,
  CompiledScopingRule,
  CompiledSyncRule,
  PrecedenceEntry,
  PrecedenceTable,
  SyncRuleRecord,
} from '@identitymesh/domain';

/** Attribute declarations per connector and object type, from each connector's schema. */
export type ConnectorSchemas = ReadonlyMap<string, ReadonlyMap<string, readonly AttributeDeclaration[]>>;

/** A stored rule that does not compile any more (its connector's schema changed under it): the run cannot evaluate it. */
export class RuleCompilationError extends Error {
  constructor(
    readonly rule: SyncRuleRecord,
    readonly failure: unknown,
  ) {
    const code = failure instanceof DomainError ? `${failure.code}: ` : '';
    super(`${rule.kind} rule "${rule.name ?? rule.id}" (${rule.id}) does not compile: ${code}${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'RuleCompilationError';
  }
}

/**
 * Every enabled rule, compiled once per run and indexed the way a batch
 * asks for them. A mesh object is recomputed from every object joined to
 * it, whatever its connector, so the run holds all connectors' rules, not
 * only those of the connector it runs.
 */
export class SyncRules {
  readonly scoping: CompiledScopingRule[] = [];
  readonly join: CompiledJoinRule[] = [];
  readonly projection: CompiledProjectionRule[] = [];
  readonly importFlows: CompiledImportFlowRule[] = [];
  readonly exportFlows: CompiledExportFlowRule[] = [];
  readonly composer: CompiledComposerRule[] = [];
  readonly provisioning: CompiledProvisioningRule[] = [];
  readonly deprovisioning: CompiledDeprovisioningRule[] = [];
  readonly precedence: PrecedenceTable;
  /** Per mesh object type, the mesh attributes join rules match on (kept in IM_MeshJoinKeys). */
  readonly joinAttributes = new Map<string, Set<string>>();
  /** Connectors with export flows that carry references: how they name objects is loaded with each batch's mesh objects. */
  readonly exportReferenceConnectors: string[];
  private readonly importTargetsByType = new Map<string, Set<string>>();
  private readonly importReferenceFlowsByType = new Map<string, CompiledImportFlowRule[]>();
  private readonly exportFlowsByType = new Map<string, CompiledExportFlowRule[]>();
  private readonly authoritativeByType = new Map<string, Set<string>>();

  constructor(
    private readonly compiled: readonly CompiledSyncRule[],
    precedence: readonly PrecedenceEntry[],
  ) {
    for (const rule of compiled) {
      switch (rule.kind) {
        case 'scoping':
          this.scoping.push(rule);
          break;
        case 'join':
          this.join.push(rule);
          for (const mapping of rule.mappings) add(this.joinAttributes, rule.meshObjectType, mapping.meshAttribute);
          break;
        case 'projection':
          this.projection.push(rule);
          break;
        case 'import-flow':
          this.importFlows.push(rule);
          add(this.importTargetsByType, typeKey(rule.connectorId, rule.objectType), rule.target);
          if (rule.reference) push(this.importReferenceFlowsByType, typeKey(rule.connectorId, rule.objectType), rule);
          break;
        case 'export-flow':
          this.exportFlows.push(rule);
          push(this.exportFlowsByType, typeKey(rule.connectorId, rule.objectType), rule);
          break;
        case 'composer':
          this.composer.push(rule);
          break;
        case 'provisioning':
          this.provisioning.push(rule);
          break;
        case 'deprovisioning':
          this.deprovisioning.push(rule);
          break;
      }
    }
    this.precedence = precedenceTable(precedence);
    this.exportReferenceConnectors = [...new Set(this.exportFlows.filter((rule) => rule.reference && rule.connectorId).map((rule) => rule.connectorId as string))];
  }

  /** The mesh attributes a source object type flows into: a value its connector holds without such a flow any more is released. */
  importTargets(connectorId: string, objectType: string): ReadonlySet<string> {
    return this.importTargetsByType.get(typeKey(connectorId, objectType)) ?? EMPTY;
  }

  importReferenceFlows(connectorId: string, objectType: string): readonly CompiledImportFlowRule[] {
    return this.importReferenceFlowsByType.get(typeKey(connectorId, objectType)) ?? [];
  }

  exportFlowsOf(connectorId: string, objectType: string): readonly CompiledExportFlowRule[] {
    return this.exportFlowsByType.get(typeKey(connectorId, objectType)) ?? [];
  }

  /** The connectors whose departure ends a mesh object of this type (those that project it). */
  authoritative(meshObjectType: string): ReadonlySet<string> {
    let found = this.authoritativeByType.get(meshObjectType);
    if (!found) this.authoritativeByType.set(meshObjectType, (found = authoritativeConnectors(this.compiled, meshObjectType)));
    return found;
  }

  uniqueComposers(meshObjectType: string): readonly CompiledComposerRule[] {
    return this.composer.filter((rule) => rule.unique && rule.objectType === meshObjectType);
  }
}

/**
 * Compiles the enabled rules against the connectors' schemas: import flows
 * first (they read only connector space), then, against the mesh
 * attributes those and the composers produce, everything that reads the
 * mesh.
 *
 * @throws RuleCompilationError naming the first rule that does not compile.
 */
export function compileSyncRules(records: readonly SyncRuleRecord[], precedence: readonly PrecedenceEntry[], schemas: ConnectorSchemas): SyncRules {
  const connectorSpace = (rule: SyncRuleRecord) => (rule.connectorId ? (schemas.get(rule.connectorId)?.get(rule.objectType) ?? []) : []);
  const compile = (rule: SyncRuleRecord, mesh: readonly AttributeDeclaration[]): CompiledSyncRule => {
    try {
      return compileSyncRule(rule, { connectorSpace: connectorSpace(rule), mesh });
    } catch (error) {
      throw new RuleCompilationError(rule, error);
    }
  };
  const importFlows = records.filter((rule) => rule.kind === 'import-flow').map((rule) => compile(rule, []));
  const mesh = meshAttributeDeclarations(importFlows);
  for (const rule of records) {
    const target = rule.kind === 'composer' && typeof rule.definition === 'object' && rule.definition !== null ? (rule.definition as { target?: unknown }).target : undefined;
    if (typeof target === 'string' && !mesh.some((declaration) => declaration.name === target)) mesh.push({ name: target });
  }
  const rest = records.filter((rule) => rule.kind !== 'import-flow').map((rule) => compile(rule, mesh));
  return new SyncRules([...importFlows, ...rest], precedence);
}

const EMPTY: ReadonlySet<string> = new Set();

function typeKey(connectorId: string | null, objectType: string): string {
  return `${connectorId ?? ''}\u0000${objectType}`;
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
