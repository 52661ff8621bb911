import { Injectable } from '@nestjs/common';
import { compileSyncRule, meshAttributeDeclarations, RuleDefinitionInvalidError } from '@identitymesh/domain';
import type { AttributeDeclaration, CompiledSyncRule, RuleSchemas, SyncRuleKind } from '@identitymesh/domain';
import { ConnectorError } from '@identitymesh/connector-sdk';
import type { ObjectTypeSchema } from '@identitymesh/connector-sdk';
import { ConnectorDefinition, ConnectorRepository, SyncRuleRepository } from '@identitymesh/persistence';
import { ConnectorTypes } from '../connectors/connector-types.service';

/** Rule kinds whose expressions read (or, for export flows and deprovisioning, write) a connector-space object. */
const CONNECTOR_SPACE_KINDS: ReadonlySet<SyncRuleKind> = new Set(['scoping', 'join', 'projection', 'import-flow', 'export-flow', 'deprovisioning']);

export function readsConnectorSpace(kind: SyncRuleKind): boolean {
  return CONNECTOR_SPACE_KINDS.has(kind);
}

/** The object types a connector row stores, when it stores any in the contract's shape. */
function storedObjectTypes(connector: ConnectorDefinition): ObjectTypeSchema[] {
  return connector.objectTypes.filter((type) => typeof type['name'] === 'string' && Array.isArray(type['attributes'])) as unknown as ObjectTypeSchema[];
}

function declarationsOf(type: ObjectTypeSchema): AttributeDeclaration[] {
  return type.attributes.map((attribute) => ({ name: attribute.name, multiValued: attribute.multiValued === true, reference: attribute.type === 'reference' }));
}

/**
 * What a rule's expressions may read, worked out the way a sync run works it
 * out (apps/sync-engine compileSyncRules): the connector's schema for the
 * rule's object type, and the mesh attributes the enabled import flows and
 * composers produce.
 */
@Injectable()
export class RuleSchemasService {
  constructor(
    private readonly connectors: ConnectorRepository,
    private readonly rules: SyncRuleRepository,
    private readonly types: ConnectorTypes,
  ) {}

  /** @param exceptRuleId the rule being replaced, whose stored version must not shape its own check */
  async schemasFor(rule: { kind: SyncRuleKind; connector: ConnectorDefinition | null; objectType: string }, exceptRuleId?: string): Promise<RuleSchemas> {
    const connectorSpace = rule.connector && readsConnectorSpace(rule.kind) ? await this.connectorSpace(rule.kind, rule.connector, rule.objectType) : [];
    const mesh = rule.kind === 'import-flow' ? [] : await this.meshDeclarations(exceptRuleId);
    return { connectorSpace, mesh };
  }

  /** The stored schema's object type; a connector that stores none is asked (the engine does the same at sync time). */
  private async connectorSpace(kind: SyncRuleKind, connector: ConnectorDefinition, objectType: string): Promise<AttributeDeclaration[]> {
    let types = storedObjectTypes(connector);
    if (types.length === 0) {
      try {
        types = (await this.types.schema(connector)).objectTypes;
      } catch (error) {
        const reason = error instanceof ConnectorError ? `${error.code}: ${error.message}` : (error as Error).message;
        throw new RuleDefinitionInvalidError(kind, 'objectType', `cannot be checked: connector "${connector.name}" stores no schema and reading it from the system failed (${reason}); store its objectTypes with PUT /api/connectors/${connector.id}`);
      }
    }
    const type = types.find((t) => t.name === objectType);
    if (!type) throw new RuleDefinitionInvalidError(kind, 'objectType', `connector "${connector.name}" has no object type "${objectType}" (it has: ${types.map((t) => t.name).join(', ') || 'none'})`);
    return declarationsOf(type);
  }

  /**
   * The mesh attributes of the enabled rules. An import flow whose connector
   * stores no schema (or that no longer compiles) still declares its target,
   * as its definition states it, so one stale rule does not block every edit.
   */
  private async meshDeclarations(exceptRuleId?: string): Promise<AttributeDeclaration[]> {
    const { rules } = await this.rules.loadEnabled();
    const relevant = rules.filter((rule) => rule.id !== exceptRuleId && (rule.kind === 'import-flow' || rule.kind === 'composer'));
    const connectorIds = [...new Set(relevant.map((rule) => rule.connectorId).filter((id): id is string => id !== null))];
    const connectors = new Map((await this.connectors.findByIds(connectorIds)).map((c) => [c.id, c]));
    const compiled: CompiledSyncRule[] = [];
    const approximated: AttributeDeclaration[] = [];
    for (const rule of relevant) {
      if (rule.kind !== 'import-flow') continue;
      const connector = rule.connectorId ? connectors.get(rule.connectorId) : undefined;
      const type = connector ? storedObjectTypes(connector).find((t) => t.name === rule.objectType) : undefined;
      try {
        if (!type) throw new Error('no stored schema');
        compiled.push(compileSyncRule(rule, { connectorSpace: declarationsOf(type), mesh: [] }));
      } catch {
        const definition = (rule.definition ?? {}) as { target?: unknown; multiValued?: unknown; reference?: unknown };
        if (typeof definition.target === 'string') approximated.push({ name: definition.target, multiValued: definition.multiValued === true, reference: definition.reference !== undefined });
      }
    }
    const mesh = meshAttributeDeclarations(compiled);
    for (const declaration of approximated) if (!mesh.some((d) => d.name === declaration.name)) mesh.push(declaration);
    for (const rule of relevant) {
      const target = rule.kind === 'composer' ? (rule.definition as { target?: unknown } | null)?.target : undefined;
      if (typeof target === 'string' && !mesh.some((d) => d.name === target)) mesh.push({ name: target });
    }
    return mesh;
  }
}
